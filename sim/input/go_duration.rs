//! Go / Kubernetes duration strings such as `90s`, `1h30m`, `250ms` or `1.5h`.
//!
//! The syntax is Go's `time.ParseDuration`: one or more decimal numbers,
//! each with an optional fraction and a required unit, written without
//! spaces (`1h30m`, `1.5h`, `.5s`, `100µs`). Units are `ns`, `us`, `µs`
//! (U+00B5), `μs` (U+03BC), `ms`, `s`, `m` and `h`; as a kubesim
//! extension `d` (24 hours) is accepted too. A bare `0` is allowed, a
//! leading `+` is accepted and ignored.
//!
//! Differences from Go, because the simulator counts time in whole
//! microseconds and never goes backwards:
//! - the result is in microseconds, **rounded to the nearest microsecond**
//!   (halves round up): `499ns` is 0, `500ns` and `1500ns` are 1 and 2;
//! - a leading `-` is rejected (`durations must not be negative`), even on
//!   a zero duration;
//! - the maximum is `u64::MAX` microseconds (about 584 542 years) rather
//!   than Go's ~292 years of nanoseconds.
//!
//! Arithmetic is integer-only. Fractions are exact down to 10⁻¹⁵ ns; any
//! digits finer than that are ignored, which can only matter for a value
//! that lies within 10⁻¹⁵ ns of a half microsecond.

use std::fmt;

/// The example durations quoted in error messages.
const EXAMPLES: &str = "expected e.g. 10s, 5m, 1h30m, 250ms";

/// Sub-nanosecond resolution used while summing: 10^15 quanta per ns.
const QUANTA_PER_NS: u128 = 1_000_000_000_000_000;

/// Quanta in one microsecond.
const QUANTA_PER_MICRO: u128 = 1_000 * QUANTA_PER_NS;

/// Errors from parsing a duration string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// The input was the empty string.
    #[error("invalid duration \"\": empty string")]
    Empty,
    /// The input started with `-`.
    #[error("invalid duration {input:?}: durations must not be negative")]
    Negative {
        /// The rejected input.
        input: String,
    },
    /// A number was not followed by a unit (e.g. `10`, `1h30`).
    #[error("missing unit in duration {input:?} ({EXAMPLES})")]
    MissingUnit {
        /// The rejected input.
        input: String,
    },
    /// A unit was not one of the known ones (e.g. `5x`, `5S`).
    #[error("invalid duration {input:?}: unknown unit {unit:?} (expected one of ns, us, µs, ms, s, m, h, d)")]
    UnknownUnit {
        /// The rejected input.
        input: String,
        /// The unrecognized unit.
        unit: String,
    },
    /// A unit was not preceded by a number (e.g. `s`, `1h.m`, ` 5s`).
    #[error("invalid duration {input:?}: expected a number before each unit ({EXAMPLES})")]
    MissingNumber {
        /// The rejected input.
        input: String,
    },
    /// A number had more than one decimal point (e.g. `1..5s`, `1.2.3s`).
    #[error("invalid duration {input:?}: more than one decimal point in a number")]
    MultipleDecimalPoints {
        /// The rejected input.
        input: String,
    },
    /// The duration does not fit in a `u64` count of microseconds.
    #[error("invalid duration {input:?}: too large (at most 18446744073709551615µs, about 584542 years)")]
    Overflow {
        /// The rejected input.
        input: String,
    },
}

/// Nanoseconds in one of the given unit, or `None` for an unknown unit.
fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        _ => return None,
    })
}

/// Splits `s` before its first character that does not satisfy `keep`.
fn split_while(s: &str, keep: impl Fn(char) -> bool) -> (&str, &str) {
    let end = s.find(|c: char| !keep(c)).unwrap_or(s.len());
    s.split_at_checked(end).unwrap_or((s, ""))
}

/// Parses a Go duration string (`90s`, `1h30m`, `1.5h`, `250ms`, `100µs`,
/// `2d`, `0`) into microseconds, rounded to the nearest microsecond.
///
/// # Errors
/// A [`DurationError`] naming what was wrong and quoting the input.
pub fn parse_duration_micros(s: &str) -> Result<u64, DurationError> {
    let input = || s.to_owned();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    if s.starts_with('-') {
        return Err(DurationError::Negative { input: input() });
    }
    let mut rest = s.strip_prefix('+').unwrap_or(s);
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(DurationError::MissingNumber { input: input() });
    }
    let overflow = || DurationError::Overflow { input: input() };
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let (int_part, after_int) = split_while(rest, |c| c.is_ascii_digit());
        let (frac_part, after_number) = match after_int.strip_prefix('.') {
            Some(after_dot) => split_while(after_dot, |c| c.is_ascii_digit()),
            None => ("", after_int),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(DurationError::MissingNumber { input: input() });
        }
        if after_number.starts_with('.') {
            return Err(DurationError::MultipleDecimalPoints { input: input() });
        }
        let (unit, after_unit) = split_while(after_number, |c| !c.is_ascii_digit() && c != '.');
        if unit.is_empty() {
            return Err(DurationError::MissingUnit { input: input() });
        }
        let unit_quanta = unit_nanos(unit)
            .map(|ns| ns * QUANTA_PER_NS)
            .ok_or_else(|| DurationError::UnknownUnit { input: input(), unit: unit.to_owned() })?;

        let mut whole: u128 = 0;
        for b in int_part.bytes() {
            whole = whole.checked_mul(10).and_then(|w| w.checked_add(u128::from(b - b'0'))).ok_or_else(overflow)?;
        }
        let mut component = whole.checked_mul(unit_quanta).ok_or_else(overflow)?;
        // Each fraction digit is worth a tenth of the previous one; digits
        // worth less than one quantum are dropped.
        let mut place = unit_quanta;
        for b in frac_part.bytes() {
            place /= 10;
            component = component.checked_add(u128::from(b - b'0') * place).ok_or_else(overflow)?;
        }
        total = total
            .checked_add(component)
            .filter(|t| *t <= u128::from(u64::MAX) * QUANTA_PER_MICRO)
            .ok_or_else(overflow)?;
        rest = after_unit;
    }
    let micros = (total + QUANTA_PER_MICRO / 2) / QUANTA_PER_MICRO;
    u64::try_from(micros).map_err(|_| overflow())
}

/// A non-negative duration in whole microseconds, read from and written as
/// a Go duration string.
///
/// Deserializes from a string such as `"1h30m"`; a bare number is only
/// accepted when it is `0` (any other gets the "missing unit" error).
/// Serializes (and displays) in Go's canonical form: `1h30m0s`, `250ms`,
/// `1.5s`, `100µs`, `0s`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoDuration(pub u64);

impl std::str::FromStr for GoDuration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_duration_micros(s).map(GoDuration)
    }
}

/// Writes `whole` followed by the non-zero digits of a `digits`-digit fraction.
fn write_with_fraction(f: &mut fmt::Formatter<'_>, whole: u64, fraction: u64, digits: usize) -> fmt::Result {
    if fraction == 0 {
        return write!(f, "{whole}");
    }
    let padded = format!("{fraction:0digits$}");
    write!(f, "{whole}.{}", padded.trim_end_matches('0'))
}

impl fmt::Display for GoDuration {
    /// Go's `Duration.String()` format for a microsecond count.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        if us == 0 {
            return f.write_str("0s");
        }
        if us < 1_000 {
            return write!(f, "{us}µs");
        }
        if us < 1_000_000 {
            write_with_fraction(f, us / 1_000, us % 1_000, 3)?;
            return f.write_str("ms");
        }
        let hours = us / 3_600_000_000;
        let minutes = (us / 60_000_000) % 60;
        let seconds_us = us % 60_000_000;
        if hours > 0 {
            write!(f, "{hours}h{minutes}m")?;
        } else if minutes > 0 {
            write!(f, "{minutes}m")?;
        }
        write_with_fraction(f, seconds_us / 1_000_000, seconds_us % 1_000_000, 6)?;
        f.write_str("s")
    }
}

impl serde::Serialize for GoDuration {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for GoDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(GoDurationVisitor)
    }
}

/// Serde visitor for [`GoDuration`].
struct GoDurationVisitor;

impl GoDurationVisitor {
    /// Numbers go through the string parser: `0` is accepted, anything
    /// else fails with "missing unit" (or "must not be negative").
    fn number<E: serde::de::Error>(text: String) -> Result<GoDuration, E> {
        parse_duration_micros(&text).map(GoDuration).map_err(E::custom)
    }
}

impl serde::de::Visitor<'_> for GoDurationVisitor {
    type Value = GoDuration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration string such as \"90s\", \"1h30m\" or \"250ms\"")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<GoDuration, E> {
        parse_duration_micros(v).map(GoDuration).map_err(E::custom)
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<GoDuration, E> {
        Self::number(v.to_string())
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<GoDuration, E> {
        Self::number(v.to_string())
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<GoDuration, E> {
        Self::number(format!("{v}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::Error as ValueError;

    fn micros(s: &str) -> u64 {
        parse_duration_micros(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
    }

    fn err(s: &str) -> String {
        match parse_duration_micros(s) {
            Ok(v) => panic!("{s:?} should be rejected, got {v}µs"),
            Err(e) => e.to_string(),
        }
    }

    fn deserialize<T: IntoDeserializer<'static, ValueError>>(v: T) -> Result<GoDuration, ValueError> {
        GoDuration::deserialize(v.into_deserializer())
    }

    #[test]
    fn go_durations_parse_to_microseconds() {
        let cases: &[(&str, u64)] = &[
            ("0", 0),
            ("+0", 0),
            ("0s", 0),
            ("90s", 90_000_000),
            ("5m", 300_000_000),
            ("1h30m", 5_400_000_000),
            ("1.5h", 5_400_000_000),
            ("250ms", 250_000),
            ("100us", 100),
            ("100µs", 100),
            ("100μs", 100),
            ("1d", 86_400_000_000),
            ("1.5d", 129_600_000_000),
            ("1h0m0s", 3_600_000_000),
            ("2h45m30.5s", 9_930_500_000),
            (".5s", 500_000),
            ("5.s", 5_000_000),
            ("+5s", 5_000_000),
            ("1.000001s", 1_000_001),
            ("0.1ms", 100),
            ("1m0.000001s", 60_000_001),
            ("007s", 7_000_000),
            ("1s1s", 2_000_000),
            ("18446744073709551615us", u64::MAX),
        ];
        for &(input, expected) in cases {
            assert_eq!(micros(input), expected, "{input:?}");
        }
    }

    #[test]
    fn nanoseconds_round_to_the_nearest_microsecond() {
        assert_eq!(micros("3ns"), 0);
        assert_eq!(micros("499ns"), 0);
        assert_eq!(micros("500ns"), 1);
        assert_eq!(micros("1499ns"), 1);
        assert_eq!(micros("1500ns"), 2);
        assert_eq!(micros("0.4us"), 0);
        assert_eq!(micros("0.5us"), 1);
        assert_eq!(micros("250ns250ns"), 1);
        assert_eq!(micros("1.0000005s"), 1_000_001);
        assert_eq!(micros("0.33333333333333333333333333333h"), 1_200_000_000);
    }

    #[test]
    fn malformed_durations_are_rejected_with_clear_messages() {
        let cases: &[(&str, &str)] = &[
            ("", "invalid duration \"\": empty string"),
            ("-5s", "invalid duration \"-5s\": durations must not be negative"),
            ("10", "missing unit in duration \"10\" (expected e.g. 10s, 5m, 1h30m, 250ms)"),
            ("1h30", "missing unit in duration \"1h30\""),
            ("00", "missing unit in duration \"00\""),
            ("5x", "invalid duration \"5x\": unknown unit \"x\" (expected one of ns, us, µs, ms, s, m, h, d)"),
            ("5S", "unknown unit \"S\""),
            ("5 s", "unknown unit \" s\""),
            ("5s ", "unknown unit \"s \""),
            ("s", "invalid duration \"s\": expected a number before each unit"),
            (" 5s", "expected a number before each unit"),
            (".s", "expected a number before each unit"),
            ("1h.m", "expected a number before each unit"),
            ("+", "expected a number before each unit"),
            ("1..5s", "invalid duration \"1..5s\": more than one decimal point"),
            ("1.2.3s", "more than one decimal point"),
            ("-0", "durations must not be negative"),
            ("18446744073709551616us", "too large"),
            ("99999999999999999999999999999999999999999h", "too large"),
            ("500000000000000000d", "too large"),
        ];
        for &(input, expected) in cases {
            let message = err(input);
            assert!(message.contains(expected), "{input:?}: {message:?} should contain {expected:?}");
        }
    }

    #[test]
    fn durations_display_in_go_canonical_form() {
        let cases: &[(u64, &str)] = &[
            (0, "0s"),
            (1, "1µs"),
            (999, "999µs"),
            (1_000, "1ms"),
            (1_500, "1.5ms"),
            (250_000, "250ms"),
            (1_000_000, "1s"),
            (1_500_000, "1.5s"),
            (90_000_000, "1m30s"),
            (5_400_000_000, "1h30m0s"),
            (3_600_000_001, "1h0m0.000001s"),
            (86_400_000_000, "24h0m0s"),
        ];
        for &(us, expected) in cases {
            assert_eq!(GoDuration(us).to_string(), expected, "{us}µs");
            assert_eq!(micros(expected), us, "{expected:?} parses back");
        }
    }

    #[test]
    fn deserialize_accepts_strings_and_only_a_zero_number() {
        assert_eq!(deserialize("1h30m").unwrap(), GoDuration(5_400_000_000));
        assert_eq!(deserialize(0_u64).unwrap(), GoDuration(0));
        assert_eq!(deserialize(0_i64).unwrap(), GoDuration(0));
        assert_eq!(deserialize(0.0_f64).unwrap(), GoDuration(0));
        let ten = deserialize(10_u64).unwrap_err().to_string();
        assert_eq!(ten, "missing unit in duration \"10\" (expected e.g. 10s, 5m, 1h30m, 250ms)");
        assert!(deserialize(-5_i64).unwrap_err().to_string().contains("must not be negative"));
        assert!(deserialize(1.5_f64).unwrap_err().to_string().contains("missing unit in duration \"1.5\""));
        assert!(deserialize("5x").unwrap_err().to_string().contains("unknown unit"));
    }

    #[test]
    fn from_str_matches_parse_duration_micros() {
        let d: GoDuration = "250ms".parse().unwrap();
        assert_eq!(d, GoDuration(250_000));
        assert!("10".parse::<GoDuration>().is_err());
    }

    /// Ten years of microseconds.
    const TEN_YEARS_US: u64 = 10 * 366 * 86_400 * 1_000_000;

    proptest! {
        #[test]
        fn any_duration_up_to_ten_years_round_trips_through_display(us in 0..=TEN_YEARS_US) {
            let shown = GoDuration(us).to_string();
            prop_assert_eq!(parse_duration_micros(&shown), Ok(us), "display was {:?}", shown);
        }

        #[test]
        fn any_duration_round_trips_through_display(us in any::<u64>()) {
            let shown = GoDuration(us).to_string();
            prop_assert_eq!(parse_duration_micros(&shown), Ok(us), "display was {:?}", shown);
        }

        #[test]
        fn whole_units_parse_exactly(n in 0u64..1_000_000, unit in 0usize..6) {
            let (suffix, scale) = [("us", 1), ("ms", 1_000), ("s", 1_000_000), ("m", 60_000_000), ("h", 3_600_000_000), ("d", 86_400_000_000)][unit];
            prop_assert_eq!(parse_duration_micros(&format!("{n}{suffix}")), Ok(n * scale));
        }

        #[test]
        fn parsing_arbitrary_strings_never_panics(s in ".*") {
            let _ = parse_duration_micros(&s);
        }

        #[test]
        fn parsing_strings_from_the_duration_alphabet_never_panics(s in "[0-9.+\\-nsuµμmhd ]{0,14}") {
            if let Ok(us) = parse_duration_micros(&s) {
                let shown = GoDuration(us).to_string();
                prop_assert_eq!(parse_duration_micros(&shown), Ok(us));
            }
        }
    }
}
