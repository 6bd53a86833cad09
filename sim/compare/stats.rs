//! Sample statistics for `comparison.csv`: mean, standard deviation (with n − 1) and the 95%
//! confidence interval of the mean from Student's t distribution, `mean ± t(0.975, n−1)·sd/√n`.
//!
//! The t quantile is computed, not tabulated: the two-sided probability `P(|T| < t)` of
//! Student's t with an integer number of degrees of freedom has a closed form (a finite
//! series in `cos θ`, `θ = atan(t/√ν)`), which is inverted by bisection. Sums run in the
//! order given, so the same sample gives the same bits.

/// Mean, standard deviation and 95% confidence interval of a sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Sample size.
    pub n: usize,
    /// Mean (NaN when `n == 0`).
    pub mean: f64,
    /// Standard deviation with `n − 1` in the denominator (`None` when `n < 2`).
    pub sd: Option<f64>,
    /// Half-width of the 95% confidence interval of the mean (`None` when `n < 2`).
    pub ci95_half: Option<f64>,
}

impl Summary {
    /// Statistics of `xs`, summed in the order given.
    pub fn of(xs: &[f64]) -> Summary {
        let n = xs.len();
        if n == 0 {
            return Summary { n, mean: f64::NAN, sd: None, ci95_half: None };
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Summary { n, mean, sd: None, ci95_half: None };
        }
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
        let sd = var.sqrt();
        let half = t_quantile_975((n - 1) as u64) * sd / (n as f64).sqrt();
        Summary { n, mean, sd: Some(sd), ci95_half: Some(half) }
    }

    /// Lower bound of the 95% interval.
    pub fn ci95_low(&self) -> Option<f64> {
        self.ci95_half.map(|h| self.mean - h)
    }

    /// Upper bound of the 95% interval.
    pub fn ci95_high(&self) -> Option<f64> {
        self.ci95_half.map(|h| self.mean + h)
    }
}

/// `P(|T| < t)` for Student's t with `df` (≥ 1) degrees of freedom.
pub fn t_two_sided_probability(t: f64, df: u64) -> f64 {
    let nu = df.max(1) as f64;
    let theta = (t.abs() / nu.sqrt()).atan();
    let (s, c) = (theta.sin(), theta.cos());
    let c2 = c * c;
    if df % 2 == 1 {
        if df == 1 {
            return 2.0 * theta / std::f64::consts::PI;
        }
        // 1 + (2/3)c² + (2·4)/(3·5)c⁴ + ... up to c^(ν−3)
        let (mut term, mut sum, mut k) = (1.0, 1.0, 1u64);
        while 2 * k < df - 1 {
            term *= (2 * k) as f64 / (2 * k + 1) as f64 * c2;
            sum += term;
            k += 1;
        }
        (2.0 / std::f64::consts::PI) * (theta + s * c * sum)
    } else {
        // 1 + (1/2)c² + (1·3)/(2·4)c⁴ + ... up to c^(ν−2)
        let (mut term, mut sum, mut k) = (1.0, 1.0, 1u64);
        while 2 * k < df {
            term *= (2 * k - 1) as f64 / (2 * k) as f64 * c2;
            sum += term;
            k += 1;
        }
        s * sum
    }
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom (≥ 1), to about 1e-12.
pub fn t_quantile_975(df: u64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0e3f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_two_sided_probability(mid, df) < 0.95 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_published_table() {
        // Student's t table, two-sided 95%.
        for (df, want) in [
            (1, 12.706205),
            (2, 4.302653),
            (3, 3.182446),
            (4, 2.776445),
            (9, 2.262157),
            (10, 2.228139),
            (19, 2.093024),
            (29, 2.045230),
            (30, 2.042272),
            (100, 1.983972),
            (1000, 1.962339),
        ] {
            let got = t_quantile_975(df);
            assert!((got - want).abs() < 5e-6, "df {df}: {got} vs {want}");
        }
    }

    #[test]
    fn the_interval_of_one_to_five_matches_the_hand_computed_value() {
        // mean 3, sd = sqrt(2.5), half = 2.776445 * 1.5811388 / sqrt(5) = 1.963243
        let s = Summary::of(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(s.n, 5);
        assert_eq!(s.mean, 3.0);
        assert!((s.sd.unwrap() - 1.5811388).abs() < 1e-6);
        assert!((s.ci95_low().unwrap() - 1.036757).abs() < 1e-5);
        assert!((s.ci95_high().unwrap() - 4.963243).abs() < 1e-5);
    }

    #[test]
    fn fewer_than_two_values_have_no_interval() {
        assert_eq!(Summary::of(&[4.0]).ci95_half, None);
        assert_eq!(Summary::of(&[4.0]).mean, 4.0);
        assert!(Summary::of(&[]).mean.is_nan());
    }

    #[test]
    fn a_constant_sample_has_a_zero_width_interval() {
        let s = Summary::of(&[2.5, 2.5, 2.5]);
        assert_eq!((s.sd, s.ci95_half), (Some(0.0), Some(0.0)));
    }
}
