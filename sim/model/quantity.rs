//! Kubernetes resource quantities such as `500m`, `1.5Gi`, `100M` or `1e3`.
//!
//! This module implements the grammar of apimachinery's `resource.Quantity`
//! (`k8s.io/apimachinery/pkg/api/resource/quantity.go`):
//!
//! ```text
//! <quantity>        ::= <signedNumber><suffix>
//! <signedNumber>    ::= <number> | <plusminus><number>
//! <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
//! <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI>
//! <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei
//! <decimalSI>       ::= n | u | m | "" | k | M | G | T | P | E
//! <decimalExponent> ::= "e" <signedInteger> | "E" <signedInteger>
//! ```
//!
//! Whitespace is not allowed anywhere. Values are kept exactly (no floating
//! point is ever involved): a quantity is stored as a sign, an integer
//! mantissa and the exponents of 2 and 5 it is multiplied by, so
//! `1.5Gi`, `1536Mi` and `1610612736` are all the same value.
//!
//! Conversions to integers follow apimachinery: [`Quantity::value`] and
//! [`Quantity::milli_value`] round **up** (towards positive infinity), so
//! `0.1m` is one milli-unit and `0.5` is a value of 1.
//!
//! Differences from apimachinery, all on inputs no real manifest uses:
//! a number whose significant digits, once factors of 2 and 5 are taken
//! out, do not fit in 128 bits (so, safely, up to 38 significant digits),
//! or a value beyond about 10^±1 000 000 000, is rejected instead of
//! being rounded.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// Largest accepted magnitude of the exponents of 2 and 5 in a value, so a
/// value lies roughly within 10^±1 000 000 000.
const MAX_EXPONENT: i64 = 1_000_000_000;

/// Largest magnitude of an exponent as written (`1e<exponent>`); above
/// [`MAX_EXPONENT`] so that every displayed value parses back.
const MAX_WRITTEN_EXPONENT: i64 = 2 * MAX_EXPONENT;

/// The suffixes listed in error messages.
const EXPECTED_SUFFIXES: &str = "n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei";

/// Errors from parsing a quantity or converting it to an integer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The input was the empty string.
    #[error("invalid quantity \"\": empty string")]
    Empty,
    /// The input contained whitespace (leading, trailing or inside).
    #[error("invalid quantity {input:?}: whitespace is not allowed")]
    Whitespace {
        /// The rejected input.
        input: String,
    },
    /// The input had no digits before its suffix (e.g. `Ki`, `abc`).
    #[error("invalid quantity {input:?}: missing number (a quantity starts with digits, e.g. 500m, 1.5Gi, 2)")]
    MissingNumber {
        /// The rejected input.
        input: String,
    },
    /// The input had more than one sign (e.g. `--1`, `+-1`).
    #[error("invalid quantity {input:?}: more than one sign")]
    MultipleSigns {
        /// The rejected input.
        input: String,
    },
    /// The number had more than one decimal point (e.g. `1.2.3`).
    #[error("invalid quantity {input:?}: more than one decimal point")]
    MultipleDecimalPoints {
        /// The rejected input.
        input: String,
    },
    /// The suffix after the number is not a known unit (e.g. `2gi`, `1KI`).
    #[error(
        "invalid quantity {input:?}: unknown suffix {suffix:?} (expected one of {EXPECTED_SUFFIXES}, or an exponent like 1e3)"
    )]
    UnknownSuffix {
        /// The rejected input.
        input: String,
        /// The part of the input after the number.
        suffix: String,
    },
    /// An `e`/`E` exponent was not a whole number (e.g. `1e`, `1e1.5`).
    #[error(
        "invalid quantity {input:?}: invalid exponent {exponent:?} (an exponent must be a whole number, e.g. 1e3 or 5e-2)"
    )]
    InvalidExponent {
        /// The rejected input.
        input: String,
        /// The exponent part of the input, including the `e` or `E`.
        exponent: String,
    },
    /// The value's decimal exponent is beyond ±1 000 000 000.
    #[error("invalid quantity {input:?}: exponent out of range")]
    ExponentOutOfRange {
        /// The rejected input.
        input: String,
    },
    /// The number has too many significant digits to be kept exactly
    /// (up to 38 are always accepted).
    #[error(
        "invalid quantity {input:?}: too many significant digits to represent exactly (up to 38 are always accepted)"
    )]
    TooPrecise {
        /// The rejected input.
        input: String,
    },
    /// The quantity was negative where only non-negative values are allowed.
    #[error("invalid quantity {input:?}: must not be negative")]
    Negative {
        /// The rejected input.
        input: String,
    },
    /// Converting the quantity to a 64-bit integer overflowed.
    #[error("quantity {quantity:?} is out of range: its {conversion} does not fit in a signed 64-bit integer")]
    Overflow {
        /// The quantity, formatted canonically.
        quantity: String,
        /// Which conversion overflowed: `value` or `milli-value`.
        conversion: &'static str,
    },
}

/// How a quantity was written; only used to choose its canonical string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// Decimal SI suffix (`m`, `k`, `M`, ...) or none.
    DecimalSi,
    /// Binary SI suffix (`Ki`, `Mi`, ...).
    BinarySi,
    /// Decimal exponent (`1e3`).
    DecimalExponent,
}

/// An exact Kubernetes resource quantity.
///
/// The value is `±mantissa × 2^twos × 5^fives` with the mantissa coprime to
/// 10 (or zero), which makes the representation unique, so equality and
/// hashing compare values: `"1Ki" == "1024"` and `"0.5" == "500m"`.
/// The way the quantity was written (binary suffix, decimal suffix or
/// exponent) is remembered only to pick the suffix style of [`fmt::Display`].
#[derive(Debug, Clone, Copy)]
pub struct Quantity {
    /// True for values below zero (never for zero).
    negative: bool,
    /// Magnitude without factors of 2 and 5; zero for a zero quantity.
    mantissa: u128,
    /// Power of two the mantissa is multiplied by.
    twos: i64,
    /// Power of five the mantissa is multiplied by.
    fives: i64,
    /// The notation the value was written in.
    format: Format,
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.negative == other.negative
            && self.mantissa == other.mantissa
            && self.twos == other.twos
            && self.fives == other.fives
    }
}

impl Eq for Quantity {}

impl Hash for Quantity {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.negative.hash(state);
        self.mantissa.hash(state);
        self.twos.hash(state);
        self.fives.hash(state);
    }
}

impl Quantity {
    /// Builds `±mantissa × 10^exp10 × 2^exp2` in normalized form.
    fn new(negative: bool, mantissa: u128, exp10: i64, exp2: i64, format: Format) -> Quantity {
        if mantissa == 0 {
            return Quantity { negative: false, mantissa: 0, twos: 0, fives: 0, format };
        }
        let mut mantissa = mantissa;
        let mut twos = exp10.saturating_add(exp2);
        let mut fives = exp10;
        let shift = mantissa.trailing_zeros();
        mantissa >>= shift;
        twos = twos.saturating_add(i64::from(shift));
        while mantissa.is_multiple_of(5) {
            mantissa /= 5;
            fives = fives.saturating_add(1);
        }
        Quantity { negative, mantissa, twos, fives, format }
    }

    /// Builds the quantity equal to an integer.
    fn from_i128(v: i128) -> Quantity {
        Quantity::new(v < 0, v.unsigned_abs(), 0, 0, Format::DecimalSi)
    }

    /// Builds the quantity equal to an unsigned integer.
    fn from_u128(v: u128) -> Quantity {
        Quantity::new(false, v, 0, 0, Format::DecimalSi)
    }

    /// Returns true if the quantity is below zero (`-0` is not negative).
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Returns the value rounded up to an integer, like apimachinery's
    /// `Value()`: `0.5` gives 1, `1.5Gi` gives 1610612736, `-0.5` gives 0.
    ///
    /// # Errors
    /// [`QuantityError::Overflow`] if the result does not fit in an `i64`.
    pub fn value(&self) -> Result<i64, QuantityError> {
        self.ceil_scaled(0).ok_or_else(|| self.overflow("value"))
    }

    /// Returns the value × 1000 rounded up to an integer, like
    /// apimachinery's `MilliValue()`: `0.1m` gives 1, `1.0001` gives 1001,
    /// `-0.1m` gives 0.
    ///
    /// # Errors
    /// [`QuantityError::Overflow`] if the result does not fit in an `i64`.
    pub fn milli_value(&self) -> Result<i64, QuantityError> {
        self.ceil_scaled(3).ok_or_else(|| self.overflow("milli-value"))
    }

    /// The overflow error for this quantity.
    fn overflow(&self, conversion: &'static str) -> QuantityError {
        QuantityError::Overflow { quantity: self.to_string(), conversion }
    }

    /// `ceil(self × 10^scale10)` as an `i64`, or `None` on overflow.
    fn ceil_scaled(&self, scale10: i64) -> Option<i64> {
        if self.mantissa == 0 {
            return Some(0);
        }
        let a = self.twos.checked_add(scale10)?;
        let c = self.fives.checked_add(scale10)?;
        let (magnitude, inexact) = if a >= 0 && c >= 0 {
            // An integer: multiply out, stopping at the first overflow
            // (the mantissa is at least 1, so this takes at most 128 steps).
            let mut v = self.mantissa;
            for _ in 0..a {
                v = v.checked_mul(2)?;
            }
            for _ in 0..c {
                v = v.checked_mul(5)?;
            }
            (v, false)
        } else {
            // A fraction: multiply by the positive powers (bounded, because
            // twos and fives differ by at most a few hundred), then divide
            // by the negative ones, remembering whether anything was lost.
            let mut big = BigUint::from_u128(self.mantissa);
            big.mul_pow(2, a.max(0));
            big.mul_pow(5, c.max(0));
            let mut inexact = big.div_pow(2, a.saturating_neg().max(0));
            inexact |= big.div_pow(5, c.saturating_neg().max(0));
            (big.to_u128()?, inexact)
        };
        if self.negative {
            // ceil(-x) = -floor(x)
            let v = i128::try_from(magnitude).ok()?;
            i64::try_from(-v).ok()
        } else {
            let v = magnitude.checked_add(u128::from(inexact))?;
            i64::try_from(v).ok()
        }
    }
}

/// Accumulates the significant digits of a number exactly.
struct MantissaAcc {
    /// Digits seen so far, without trailing zeros.
    digits: BigUint,
    /// Zeros seen after the last non-zero digit.
    pending_zeros: i64,
}

impl MantissaAcc {
    fn new() -> MantissaAcc {
        MantissaAcc { digits: BigUint::from_u128(0), pending_zeros: 0 }
    }

    /// Appends one digit; returns `None` if the number gets unreasonably long.
    fn push(&mut self, digit: u8) -> Option<()> {
        if digit == 0 {
            if !self.digits.is_zero() {
                self.pending_zeros = self.pending_zeros.checked_add(1)?;
            }
            return Some(());
        }
        self.digits.mul_pow_bounded(10, self.pending_zeros.checked_add(1)?, MAX_LIMBS)?;
        self.digits.add_small(u32::from(digit));
        self.pending_zeros = 0;
        Some(())
    }

    /// Splits the digits into `mantissa × 2^twos × 5^fives` with the
    /// mantissa coprime to 10; `None` if that mantissa exceeds 128 bits.
    fn finish(mut self) -> Option<(u128, i64, i64)> {
        if self.digits.is_zero() {
            return Some((0, 0, 0));
        }
        let twos = self.digits.strip_factor(2);
        let fives = self.digits.strip_factor(5);
        Some((self.digits.to_u128()?, twos, fives))
    }
}

/// Parses a Kubernetes quantity such as `500m`, `1.5Gi`, `+3`, `.5` or `1e-3`.
///
/// # Errors
/// A [`QuantityError`] that names what was wrong and quotes the input.
pub fn parse_quantity(s: &str) -> Result<Quantity, QuantityError> {
    let input = || s.to_owned();
    if s.is_empty() {
        return Err(QuantityError::Empty);
    }
    if s.chars().any(char::is_whitespace) {
        return Err(QuantityError::Whitespace { input: input() });
    }
    let (negative, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest.starts_with(['+', '-']) {
        return Err(QuantityError::MultipleSigns { input: input() });
    }

    let too_precise = || QuantityError::TooPrecise { input: input() };
    let mut acc = MantissaAcc::new();
    let int_end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let (int_part, mut rest) = rest.split_at_checked(int_end).ok_or_else(too_precise)?;
    for b in int_part.bytes() {
        acc.push(b - b'0').ok_or_else(too_precise)?;
    }
    let mut frac_len: usize = 0;
    if let Some(after_dot) = rest.strip_prefix('.') {
        let frac_end = after_dot.find(|c: char| !c.is_ascii_digit()).unwrap_or(after_dot.len());
        let (frac_part, after) = after_dot.split_at_checked(frac_end).ok_or_else(too_precise)?;
        for b in frac_part.bytes() {
            acc.push(b - b'0').ok_or_else(too_precise)?;
        }
        frac_len = frac_part.len();
        rest = after;
    }
    if int_part.is_empty() && frac_len == 0 {
        return Err(QuantityError::MissingNumber { input: input() });
    }
    if rest.starts_with('.') {
        return Err(QuantityError::MultipleDecimalPoints { input: input() });
    }

    let (suffix_exp10, exp2, format) = parse_suffix(s, rest)?;
    let out_of_range = || QuantityError::ExponentOutOfRange { input: input() };
    let frac_len = i64::try_from(frac_len).map_err(|_| out_of_range())?;
    let exp10 =
        acc.pending_zeros.checked_sub(frac_len).and_then(|e| e.checked_add(suffix_exp10)).ok_or_else(out_of_range)?;
    // digits = mantissa × 2^twos × 5^fives, so the value is
    // mantissa × 10^(exp10 + fives) × 2^(exp2 + twos - fives).
    let (mantissa, twos, fives) = acc.finish().ok_or_else(too_precise)?;
    let exp2 = (exp2 + twos) - fives;
    let exp10 = exp10.checked_add(fives).ok_or_else(out_of_range)?;
    let q = Quantity::new(negative, mantissa, exp10, exp2, format);
    // Checked on the normalized value so that equal values are accepted
    // alike and every displayed quantity parses back.
    if q.twos.abs() > MAX_EXPONENT || q.fives.abs() > MAX_EXPONENT {
        return Err(out_of_range());
    }
    Ok(q)
}

/// Interprets the suffix: returns (power of ten, power of two, format).
fn parse_suffix(input: &str, suffix: &str) -> Result<(i64, i64, Format), QuantityError> {
    let decimal = |e: i64| Ok((e, 0, Format::DecimalSi));
    let binary = |p: i64| Ok((0, p, Format::BinarySi));
    match suffix {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(10),
        "Mi" => binary(20),
        "Gi" => binary(30),
        "Ti" => binary(40),
        "Pi" => binary(50),
        "Ei" => binary(60),
        _ => match suffix.strip_prefix(['e', 'E']) {
            Some(exponent) => Ok((parse_exponent(input, suffix, exponent)?, 0, Format::DecimalExponent)),
            None => Err(QuantityError::UnknownSuffix { input: input.to_owned(), suffix: suffix.to_owned() }),
        },
    }
}

/// Parses the signed whole number after `e`/`E`.
fn parse_exponent(input: &str, suffix: &str, exponent: &str) -> Result<i64, QuantityError> {
    let invalid = || QuantityError::InvalidExponent { input: input.to_owned(), exponent: suffix.to_owned() };
    let (negative, digits) = match exponent.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, exponent.strip_prefix('+').unwrap_or(exponent)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let mut value: i64 = 0;
    for b in digits.bytes() {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(b - b'0')))
            .filter(|v| *v <= MAX_WRITTEN_EXPONENT)
            .ok_or_else(|| QuantityError::ExponentOutOfRange { input: input.to_owned() })?;
    }
    Ok(if negative { -value } else { value })
}

impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_quantity(s)
    }
}

/// Parses a CPU quantity (`500m`, `2`, `0.25`) into millicores.
///
/// # Errors
/// A parse error, [`QuantityError::Negative`] for values below zero, or
/// [`QuantityError::Overflow`] if the millicores do not fit in an `i64`.
pub fn parse_cpu_millis(s: &str) -> Result<i64, QuantityError> {
    let q = parse_non_negative(s)?;
    q.milli_value()
}

/// Parses a memory or storage quantity (`512Mi`, `1G`, `1e9`) into bytes,
/// rounding a fractional byte count up.
///
/// # Errors
/// A parse error, [`QuantityError::Negative`] for values below zero, or
/// [`QuantityError::Overflow`] if the bytes do not fit in an `i64`.
pub fn parse_bytes(s: &str) -> Result<i64, QuantityError> {
    let q = parse_non_negative(s)?;
    q.value()
}

/// Parses a quantity and rejects negative values.
fn parse_non_negative(s: &str) -> Result<Quantity, QuantityError> {
    let q = parse_quantity(s)?;
    if q.is_negative() {
        return Err(QuantityError::Negative { input: s.to_owned() });
    }
    Ok(q)
}

/// Decimal SI suffixes for the exponents -9, -6, ..., 18.
fn decimal_suffix(exp: i64) -> Option<&'static str> {
    Some(match exp {
        -9 => "n",
        -6 => "u",
        -3 => "m",
        0 => "",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        18 => "E",
        _ => return None,
    })
}

/// Binary SI suffixes for the powers 1024^0 ... 1024^6.
fn binary_suffix(power: i64) -> &'static str {
    match power {
        1 => "Ki",
        2 => "Mi",
        3 => "Gi",
        4 => "Ti",
        5 => "Pi",
        6 => "Ei",
        _ => "",
    }
}

impl fmt::Display for Quantity {
    /// Writes the canonical form, in the style of apimachinery:
    /// binary quantities that are whole numbers of at least 1024 keep a
    /// binary suffix (`1.5Gi` → `1536Mi`); other values use a decimal
    /// suffix with an integer mantissa (`0.5` → `500m`, `1000` → `1k`),
    /// or an exponent (`1e3`, `5e-12`) when written with one or when no
    /// suffix fits. The output always parses back to an equal value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mantissa == 0 {
            return f.write_str("0");
        }
        let sign = if self.negative { "-" } else { "" };
        if self.format == Format::BinarySi && self.twos >= 0 && (0..=40).contains(&self.fives) {
            let power = (self.twos / 10).min(6);
            let big = self.scaled_mantissa(self.twos - 10 * power, self.fives, 0);
            if power > 0 || big.ge_u32(1024) {
                return write!(f, "{sign}{}{}", big.to_decimal(), binary_suffix(power));
            }
        }
        let e = self.twos.min(self.fives);
        let e3 = e.div_euclid(3) * 3;
        let big = self.scaled_mantissa(self.twos - e, self.fives - e, e - e3);
        let digits = big.to_decimal();
        match (self.format, decimal_suffix(e3)) {
            (Format::DecimalExponent, _) if e3 == 0 => write!(f, "{sign}{digits}"),
            (Format::DecimalExponent, _) | (_, None) => write!(f, "{sign}{digits}e{e3}"),
            (_, Some(suffix)) => write!(f, "{sign}{digits}{suffix}"),
        }
    }
}

impl Quantity {
    /// `mantissa × 2^twos × 5^fives × 10^tens` for non-negative exponents.
    fn scaled_mantissa(&self, twos: i64, fives: i64, tens: i64) -> BigUint {
        let mut big = BigUint::from_u128(self.mantissa);
        big.mul_pow(2, twos);
        big.mul_pow(5, fives);
        big.mul_pow(10, tens);
        big
    }
}

impl serde::Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Quantity {
    /// Accepts a string (`"500m"`), an integer (`2`, converted exactly) or
    /// a floating-point number (`0.5`, formatted with `{}` and parsed).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(QuantityVisitor)
    }
}

/// Serde visitor for [`Quantity`].
struct QuantityVisitor;

impl serde::de::Visitor<'_> for QuantityVisitor {
    type Value = Quantity;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Kubernetes quantity such as \"500m\", \"1.5Gi\" or 2")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Quantity, E> {
        parse_quantity(v).map_err(E::custom)
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Quantity, E> {
        Ok(Quantity::from_i128(i128::from(v)))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Quantity, E> {
        Ok(Quantity::from_u128(u128::from(v)))
    }

    fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Quantity, E> {
        Ok(Quantity::from_i128(v))
    }

    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Quantity, E> {
        Ok(Quantity::from_u128(v))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Quantity, E> {
        parse_quantity(&format!("{v}")).map_err(E::custom)
    }
}

/// Limit on the digits of a parsed number, in 32-bit limbs (about 600
/// decimal digits without their trailing zeros).
const MAX_LIMBS: usize = 64;

/// A minimal unsigned big integer, little-endian 32-bit limbs, no
/// trailing zero limbs. Only what exact quantity arithmetic needs.
#[derive(Debug, Clone)]
struct BigUint {
    limbs: Vec<u32>,
}

impl BigUint {
    fn from_u128(mut v: u128) -> BigUint {
        let mut limbs = Vec::new();
        while v != 0 {
            limbs.push((v & 0xffff_ffff) as u32);
            v >>= 32;
        }
        BigUint { limbs }
    }

    fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    fn ge_u32(&self, v: u32) -> bool {
        match self.limbs.as_slice() {
            [] => v == 0,
            [only] => *only >= v,
            _ => true,
        }
    }

    fn add_small(&mut self, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.limbs {
            if carry == 0 {
                break;
            }
            let t = u64::from(*limb) + carry;
            *limb = (t & 0xffff_ffff) as u32;
            carry = t >> 32;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
    }

    /// Divides out every factor `p` (the number must be non-zero) and
    /// returns how many there were.
    fn strip_factor(&mut self, p: u32) -> i64 {
        let mut count = 0;
        while !self.is_zero() {
            let mut t = self.clone();
            if t.div_small(p) != 0 {
                break;
            }
            *self = t;
            count += 1;
        }
        count
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry: u64 = 0;
        for limb in &mut self.limbs {
            let t = u64::from(*limb) * u64::from(m) + carry;
            *limb = (t & 0xffff_ffff) as u32;
            carry = t >> 32;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
        self.trim();
    }

    /// Divides in place and returns the remainder.
    fn div_small(&mut self, d: u32) -> u32 {
        let mut rem: u64 = 0;
        for limb in self.limbs.iter_mut().rev() {
            let t = (rem << 32) | u64::from(*limb);
            *limb = (t / u64::from(d)) as u32;
            rem = t % u64::from(d);
        }
        self.trim();
        rem as u32
    }

    fn trim(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    /// The largest power of `base` that fits in a u32, and its exponent.
    fn chunk(base: u32) -> (u32, i64) {
        let mut p: u32 = base;
        let mut k = 1;
        while let Some(next) = p.checked_mul(base) {
            p = next;
            k += 1;
        }
        (p, k)
    }

    /// Multiplies by `base^exp` (`exp >= 0`). Callers only pass exponents
    /// bounded by the size of a parsed number.
    fn mul_pow(&mut self, base: u32, exp: i64) {
        let _ = self.mul_pow_bounded(base, exp, usize::MAX);
    }

    /// Multiplies by `base^exp` (`exp >= 0`); `None` (leaving a partial
    /// product) if the number grows beyond `max_limbs` limbs.
    fn mul_pow_bounded(&mut self, base: u32, exp: i64, max_limbs: usize) -> Option<()> {
        if self.is_zero() {
            return Some(());
        }
        let (chunk, chunk_exp) = Self::chunk(base);
        let mut left = exp;
        while left > 0 {
            if self.limbs.len() > max_limbs {
                return None;
            }
            if left >= chunk_exp {
                self.mul_small(chunk);
                left -= chunk_exp;
            } else {
                self.mul_small(base);
                left -= 1;
            }
        }
        Some(())
    }

    /// Divides by `base^exp` (`exp >= 0`), truncating; returns true if a
    /// non-zero remainder was dropped.
    fn div_pow(&mut self, base: u32, exp: i64) -> bool {
        let (chunk, chunk_exp) = Self::chunk(base);
        let mut inexact = false;
        let mut left = exp;
        while left > 0 {
            if self.is_zero() {
                // Further divisions keep zero; anything non-zero was
                // already reported as a remainder.
                return inexact;
            }
            let (d, k) = if left >= chunk_exp { (chunk, chunk_exp) } else { (base, 1) };
            inexact |= self.div_small(d) != 0;
            left -= k;
        }
        inexact
    }

    fn to_u128(&self) -> Option<u128> {
        if self.limbs.len() > 4 {
            return None;
        }
        let mut v: u128 = 0;
        for limb in self.limbs.iter().rev() {
            v = (v << 32) | u128::from(*limb);
        }
        Some(v)
    }

    fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".to_owned();
        }
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.div_small(1_000_000_000));
        }
        let mut out = String::new();
        for (i, chunk) in chunks.iter().rev().enumerate() {
            if i == 0 {
                out.push_str(&chunk.to_string());
            } else {
                out.push_str(&format!("{chunk:09}"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::Error as ValueError;

    fn q(s: &str) -> Quantity {
        parse_quantity(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
    }

    fn err(s: &str) -> String {
        match parse_quantity(s) {
            Ok(v) => panic!("{s:?} should be rejected, got {v}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn canonical_quantities_convert_to_the_apimachinery_values() {
        // (input, value, milli_value)
        let cases: &[(&str, i64, i64)] = &[
            ("500m", 1, 500),
            ("0.5Gi", 536_870_912, 536_870_912_000),
            ("1.5", 2, 1500),
            ("1e3", 1000, 1_000_000),
            ("100M", 100_000_000, 100_000_000_000),
            ("-1", -1, -1000),
            ("1Ki", 1024, 1_024_000),
            ("2Mi", 2 * 1024 * 1024, 2 * 1024 * 1024 * 1000),
            ("1.5Gi", 1_610_612_736, 1_610_612_736_000),
            (".5", 1, 500),
            ("5.", 5, 5000),
            ("+3", 3, 3000),
            ("1e-3", 1, 1),
            ("0.1m", 1, 1),
            ("-0.1m", 0, 0),
            ("1.0001", 2, 1001),
            ("12n", 1, 1),
            ("3u", 1, 1),
            ("1500000000n", 2, 1500),
            ("0", 0, 0),
            ("-0", 0, 0),
            ("0Gi", 0, 0),
            ("007", 7, 7000),
            ("1E3", 1000, 1_000_000),
            ("1e+3", 1000, 1_000_000),
            ("2k", 2000, 2_000_000),
            ("1G", 1_000_000_000, 1_000_000_000_000),
            ("1T", 1_000_000_000_000, 1_000_000_000_000_000),
            ("-0.5", 0, -500),
            ("-1.5", -1, -1500),
        ];
        for &(input, value, milli) in cases {
            let parsed = q(input);
            assert_eq!(parsed.value(), Ok(value), "value of {input:?}");
            assert_eq!(parsed.milli_value(), Ok(milli), "milli_value of {input:?}");
        }
    }

    #[test]
    fn large_decimal_suffixes_are_exact() {
        assert_eq!(q("1E").value(), Ok(1_000_000_000_000_000_000));
        assert_eq!(q("1P").value(), Ok(1_000_000_000_000_000));
        assert_eq!(q("7Ei").value(), Ok(7 * (1_i64 << 60)));
        assert!(q("1E").milli_value().is_err());
    }

    #[test]
    fn eight_exbibytes_overflow_value_with_an_error() {
        let e = q("8Ei").value().unwrap_err();
        assert!(matches!(e, QuantityError::Overflow { .. }));
        assert_eq!(
            e.to_string(),
            "quantity \"8Ei\" is out of range: its value does not fit in a signed 64-bit integer"
        );
        assert!(q("9223372036854775808").value().unwrap_err().to_string().contains("out of range"));
        assert_eq!(q("-9223372036854775808").value(), Ok(i64::MIN));
        assert_eq!(q("9223372036854775807").value(), Ok(i64::MAX));
    }

    #[test]
    fn negative_values_report_is_negative() {
        assert!(q("-1").is_negative());
        assert!(q("-0.1m").is_negative());
        assert!(!q("-0").is_negative());
        assert!(!q("1").is_negative());
    }

    #[test]
    fn malformed_quantities_are_rejected_with_a_specific_message() {
        let cases: &[(&str, &str)] = &[
            (
                "2gi",
                "invalid quantity \"2gi\": unknown suffix \"gi\" (expected one of n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, or an exponent like 1e3)",
            ),
            ("abc", "invalid quantity \"abc\": missing number"),
            ("", "invalid quantity \"\": empty string"),
            (" 1", "invalid quantity \" 1\": whitespace is not allowed"),
            ("1 ", "invalid quantity \"1 \": whitespace is not allowed"),
            ("1.2.3", "invalid quantity \"1.2.3\": more than one decimal point"),
            ("Ki", "invalid quantity \"Ki\": missing number"),
            ("1e", "invalid quantity \"1e\": invalid exponent \"e\""),
            ("1e1.5", "invalid quantity \"1e1.5\": invalid exponent \"e1.5\""),
            ("--1", "invalid quantity \"--1\": more than one sign"),
            ("1KI", "unknown suffix \"KI\""),
            (".", "invalid quantity \".\": missing number"),
            ("-", "invalid quantity \"-\": missing number"),
            ("1e3k", "invalid exponent \"e3k\""),
            ("1e+", "invalid exponent \"e+\""),
            ("1Ex", "invalid exponent \"Ex\""),
            ("1m2", "unknown suffix \"m2\""),
            ("1e9999999999", "exponent out of range"),
            ("12345678901234567890123456789012345678901", "too many significant digits"),
        ];
        for &(input, expected) in cases {
            let message = err(input);
            assert!(message.contains(expected), "{input:?}: {message:?} should contain {expected:?}");
        }
    }

    #[test]
    fn trailing_zeros_do_not_count_as_significant_digits() {
        let long = format!("1{}", "0".repeat(60));
        assert!(q(&long).value().is_err());
        assert_eq!(q(&format!("0.{}1", "0".repeat(80))).milli_value(), Ok(1));
        assert_eq!(q("1e-1000000").value(), Ok(1));
        assert_eq!(q("-1e-1000000").value(), Ok(0));
        assert!(q("1e1000000").value().is_err());
        for edge in ["1e-1000000000", "-1e1000000000", "1e999999999", "1.5e-999999999"] {
            let parsed = q(edge);
            assert_eq!(q(&parsed.to_string()), parsed, "{edge:?} round trips");
        }
        assert!(err("0.001e-1000000000").contains("exponent out of range"));
        assert!(err("10e1000000000").contains("exponent out of range"));
    }

    #[test]
    fn mixed_binary_and_fractional_values_stay_exact() {
        // 38 significant digits times 2^60 needs more than 128 bits on the way.
        let big = q("1.2345678901234567890123456789012345678Ei");
        assert_eq!(big.value(), Ok(1_423_359_869_420_436_338));
        assert_eq!(q("0.001Ki").milli_value(), Ok(1024));
        assert_eq!(q("0.0001Ki").milli_value(), Ok(103));
    }

    #[test]
    fn equal_values_compare_equal_whatever_the_notation() {
        assert_eq!(q("1Ki"), q("1024"));
        assert_eq!(q("0.5"), q("500m"));
        assert_eq!(q("1e3"), q("1k"));
        assert_eq!(q("1.5Gi"), q("1536Mi"));
        assert_ne!(q("1"), q("-1"));
    }

    #[test]
    fn display_uses_apimachinery_style_canonical_forms() {
        let cases: &[(&str, &str)] = &[
            ("500m", "500m"),
            ("0.5", "500m"),
            ("1.5Gi", "1536Mi"),
            ("1Gi", "1Gi"),
            ("1.5Ki", "1536"),
            ("0.5Ki", "512"),
            ("1000", "1k"),
            ("1500", "1500"),
            ("100M", "100M"),
            ("1e3", "1e3"),
            ("1e-3", "1e-3"),
            ("1.5e2", "150"),
            ("-1", "-1"),
            ("-0.1m", "-100u"),
            ("0", "0"),
            ("-0Gi", "0"),
            ("12n", "12n"),
            ("1E", "1E"),
            ("1e-12", "1e-12"),
            ("10E", "10E"),
            ("1000E", "1e21"),
            ("7", "7"),
        ];
        for &(input, expected) in cases {
            assert_eq!(q(input).to_string(), expected, "display of {input:?}");
            assert_eq!(q(expected), q(input), "{expected:?} parses back");
        }
    }

    #[test]
    fn helpers_reject_negative_values() {
        assert_eq!(parse_cpu_millis("250m"), Ok(250));
        assert_eq!(parse_cpu_millis("2"), Ok(2000));
        assert_eq!(parse_bytes("1Gi"), Ok(1 << 30));
        assert_eq!(parse_bytes("1.5"), Ok(2));
        assert_eq!(parse_cpu_millis("-1").unwrap_err().to_string(), "invalid quantity \"-1\": must not be negative");
        assert!(parse_bytes("-1Mi").unwrap_err().to_string().contains("must not be negative"));
        assert!(parse_bytes("8Ei").is_err());
        assert!(parse_cpu_millis("2gi").is_err());
    }

    #[test]
    fn from_str_matches_parse_quantity() {
        let parsed: Quantity = "2Mi".parse().unwrap();
        assert_eq!(parsed, q("2Mi"));
        assert!("x".parse::<Quantity>().is_err());
    }

    #[test]
    fn deserialize_accepts_strings_integers_and_floats() {
        let from_str = Quantity::deserialize(IntoDeserializer::<ValueError>::into_deserializer("1.5Gi")).unwrap();
        assert_eq!(from_str.value(), Ok(1_610_612_736));
        let from_int = Quantity::deserialize(IntoDeserializer::<ValueError>::into_deserializer(-4_i64)).unwrap();
        assert_eq!(from_int.value(), Ok(-4));
        let from_u64 = Quantity::deserialize(IntoDeserializer::<ValueError>::into_deserializer(u64::MAX)).unwrap();
        assert_eq!(from_u64, q("18446744073709551615"));
        let from_float = Quantity::deserialize(IntoDeserializer::<ValueError>::into_deserializer(0.25_f64)).unwrap();
        assert_eq!(from_float.milli_value(), Ok(250));
        let huge_float = Quantity::deserialize(IntoDeserializer::<ValueError>::into_deserializer(1e300_f64)).unwrap();
        assert_eq!(huge_float, q("1e300"));
        let bad = Quantity::deserialize(IntoDeserializer::<ValueError>::into_deserializer("2gi")).unwrap_err();
        assert!(bad.to_string().contains("unknown suffix \"gi\""));
        let nan = Quantity::deserialize(IntoDeserializer::<ValueError>::into_deserializer(f64::NAN)).unwrap_err();
        assert!(nan.to_string().contains("invalid quantity \"NaN\""));
    }

    const SUFFIXES: &[&str] = &[
        "", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "e0", "e3", "e-3", "e18",
        "e-25", "E7", "e+2",
    ];

    /// Checks that a parsed quantity survives Display and back.
    fn assert_round_trips(parsed: &Quantity) -> Result<(), TestCaseError> {
        let shown = parsed.to_string();
        let back = parse_quantity(&shown);
        prop_assert_eq!(back.as_ref(), Ok(parsed), "display was {:?}", shown);
        Ok(())
    }

    proptest! {
        #[test]
        fn integer_mantissas_with_any_suffix_round_trip_through_display(
            mantissa in any::<i64>(),
            frac in proptest::option::of(0u32..1_000_000),
            suffix in proptest::sample::select(SUFFIXES),
        ) {
            let text = match frac {
                Some(f) => format!("{mantissa}.{f}{suffix}"),
                None => format!("{mantissa}{suffix}"),
            };
            let parsed = q(&text);
            assert_round_trips(&parsed)?;
            prop_assert_eq!(parsed.is_negative(), mantissa < 0);
        }

        #[test]
        fn integer_mantissas_with_decimal_suffixes_have_the_exact_value(
            mantissa in -1_000_000_000i64..1_000_000_000,
            (suffix, exp) in proptest::sample::select(&[("", 0u32), ("k", 3), ("M", 6), ("G", 9)][..]),
        ) {
            let parsed = q(&format!("{mantissa}{suffix}"));
            prop_assert_eq!(parsed.value(), Ok(mantissa * 10_i64.pow(exp)));
        }

        #[test]
        fn millis_round_trip_through_the_m_suffix(m in -1_000_000_000_000_000i64..1_000_000_000_000_000) {
            let parsed = q(&format!("{m}m"));
            prop_assert_eq!(parsed.milli_value(), Ok(m));
            assert_round_trips(&parsed)?;
        }

        #[test]
        fn parsing_arbitrary_strings_never_panics(s in ".*") {
            if let Ok(parsed) = parse_quantity(&s) {
                let _ = parsed.value();
                let _ = parsed.milli_value();
                assert_round_trips(&parsed)?;
            }
        }

        #[test]
        fn parsing_strings_from_the_grammar_alphabet_never_panics(s in "[0-9.eE+\\-kmMGTPEKi ]{0,12}") {
            if let Ok(parsed) = parse_quantity(&s) {
                let _ = parsed.value();
                let _ = parsed.milli_value();
                assert_round_trips(&parsed)?;
            }
        }
    }
}
