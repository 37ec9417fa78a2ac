//! Small, dependency-free statistics used by the experiment runner and the reports.
//!
//! Everything here is deterministic: sums are accumulated sequentially in the order the caller
//! gives, and no function depends on global state, threads or the platform's `libm` beyond the
//! basic `f64` operations (`ln`, `exp`, `sqrt`, `tan`, ...).
//!
//! * [`Estimate`] — mean, sample standard deviation and a two-sided 95 % Student-t confidence
//!   interval of the mean over independent replications (one sample per seed).
//! * [`paired_difference`] — the same for `a[i] - b[i]` when `a` and `b` were run with common
//!   random numbers (the same seeds), which usually gives a much tighter interval than comparing
//!   two independent [`Estimate`]s.
//! * [`student_t_quantile`] — the t critical value, computed (not looked up) by inverting the
//!   Student-t CDF, which in turn is evaluated through the regularized incomplete beta function.
//! * [`erlang_b`] — the Erlang-B blocking probability, the classic analytical yardstick for a
//!   loss system with `c` servers, used to sanity-check the simulator.
//! * [`quantile_sorted`] — numpy-style (type 7) linear-interpolated quantiles.

/// Confidence level used by [`Estimate::from_samples`] and [`paired_difference`].
pub const CONFIDENCE_LEVEL: f64 = 0.95;

/// Mean, sample standard deviation, and a two-sided 95 % Student-t confidence interval of the mean.
///
/// Conventions for small samples (chosen so that CSV columns stay numeric where that is honest):
///
/// | `n` | `mean` | `std_dev` | `ci_low`, `ci_high` |
/// |-----|--------|-----------|---------------------|
/// | 0   | NaN    | NaN       | NaN, NaN            |
/// | 1   | the sample | 0     | `mean`, `mean` (zero-width: a single run gives no spread estimate) |
/// | ≥ 2 | arithmetic mean | sample sd (divisor `n - 1`) | `mean ∓ t₀.₉₇₅,ₙ₋₁ · sd / √n` |
///
/// A NaN among the samples propagates to every field (the caller should not feed NaNs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Number of samples.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (divisor `n - 1`); 0 for `n = 1`, NaN for `n = 0`.
    pub std_dev: f64,
    /// Lower end of the 95 % confidence interval of the mean.
    pub ci_low: f64,
    /// Upper end of the 95 % confidence interval of the mean.
    pub ci_high: f64,
}

impl Estimate {
    /// An estimate with every numeric field NaN and the given `n`.
    fn nan(n: usize) -> Estimate {
        Estimate { n, mean: f64::NAN, std_dev: f64::NAN, ci_low: f64::NAN, ci_high: f64::NAN }
    }

    /// Builds the estimate from independent samples (e.g. one per seed).
    ///
    /// Sums sequentially in the given order (determinism: the order is never changed), using the
    /// two-pass formula for the variance. See the type-level table for `n = 0` and `n = 1`.
    pub fn from_samples(samples: &[f64]) -> Estimate {
        let n = samples.len();
        if n == 0 {
            return Estimate::nan(0);
        }
        let mut sum = 0.0;
        for &x in samples {
            sum += x;
        }
        let mean = sum / n as f64;
        if n == 1 {
            return Estimate { n, mean, std_dev: if mean.is_nan() { f64::NAN } else { 0.0 }, ci_low: mean, ci_high: mean };
        }
        let mut ss = 0.0;
        for &x in samples {
            let d = x - mean;
            ss += d * d;
        }
        let std_dev = (ss / (n - 1) as f64).sqrt();
        let t = student_t_quantile(CONFIDENCE_LEVEL, (n - 1) as u64);
        let half = t * std_dev / (n as f64).sqrt();
        Estimate { n, mean, std_dev, ci_low: mean - half, ci_high: mean + half }
    }

    /// Half the width of the confidence interval (`ci_high - mean` for a symmetric interval);
    /// 0 for `n = 1`, NaN for `n = 0`.
    pub fn half_width(&self) -> f64 {
        0.5 * (self.ci_high - self.ci_low)
    }

    /// True if the two confidence intervals overlap (touching ends count as overlapping).
    /// False when either interval is NaN.
    pub fn overlaps(&self, other: &Estimate) -> bool {
        self.ci_low <= other.ci_high && other.ci_low <= self.ci_high
    }
}

/// Paired differences `a[i] - b[i]` (same seeds), as an [`Estimate`].
///
/// Samples of different lengths are not paired: the result then has `n = 0` and every value NaN.
pub fn paired_difference(a: &[f64], b: &[f64]) -> Estimate {
    // Unpaired samples have no paired difference: NaN, in every build.
    if a.len() != b.len() {
        return Estimate::nan(0);
    }
    let diffs: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    Estimate::from_samples(&diffs)
}

/// Erlang-B blocking probability `B(c, a)` for `c` servers and offered load `a` (Erlangs).
///
/// Uses the numerically stable recurrence `B(0, a) = 1`, `B(k, a) = a·B(k-1) / (k + a·B(k-1))`,
/// which needs no factorials and never overflows. `B(c, 0) = 0` for `c ≥ 1` and `B(0, a) = 1`;
/// an infinite load gives 1; a negative or NaN load gives NaN.
pub fn erlang_b(servers: u32, offered_load: f64) -> f64 {
    let a = offered_load;
    if a.is_nan() || a < 0.0 {
        return f64::NAN;
    }
    if a.is_infinite() {
        return 1.0;
    }
    let mut b = 1.0;
    for k in 1..=servers {
        let ab = a * b;
        b = ab / (k as f64 + ab);
    }
    b
}

/// Linear-interpolated quantile (type 7, numpy's default) of a slice that is ALREADY SORTED
/// ascending.
///
/// `q` is a probability in `[0, 1]`: `q = 0` gives the minimum and `q = 1` the maximum.
/// Returns NaN when the slice is empty or `q` is NaN or outside `[0, 1]`. The input is not
/// checked for sortedness (that would cost O(n) on every call); unsorted input gives a
/// meaningless but finite result.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    quantile_by_rank(sorted.len(), q, |i| sorted[i])
}

/// [`quantile_sorted`] over `n` sorted values that `value_at(i)` gives by rank (0-based), for
/// samples not held as one slice (counted runs of equal values, say).
pub fn quantile_by_rank(n: usize, q: f64, value_at: impl Fn(usize) -> f64) -> f64 {
    if n == 0 || !(0.0..=1.0).contains(&q) {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * q;
    let lo = h.floor();
    let i = lo as usize;
    let frac = h - lo;
    if i + 1 >= n || frac == 0.0 {
        return value_at(i.min(n - 1));
    }
    let (a, b) = (value_at(i), value_at(i + 1));
    a + frac * (b - a)
}

/// Two-sided Student t critical value `t_{1-alpha/2, df}` for confidence `level` (e.g. 0.95 gives
/// `t_{0.975, df}`).
///
/// Computed, not tabulated: `df = 1` and `df = 2` use their closed forms; otherwise a
/// Cornish–Fisher start (Hill 1970) is polished by safeguarded Newton steps on the upper tail
/// `P(T > t) = ½·I_{df/(df+t²)}(df/2, ½)`, with the regularized incomplete beta function from
/// its continued fraction. Very large `df` (> 10⁷) use the 4-term Cornish–Fisher series
/// directly, whose error there is far below 1e-12. Accurate to better than 1e-9 for all `df ≥ 1`.
///
/// Returns NaN for `df = 0` or a `level` that is NaN or outside `(0, 1)`.
pub fn student_t_quantile(level: f64, df: u64) -> f64 {
    if df == 0 || level.is_nan() || level <= 0.0 || level >= 1.0 {
        return f64::NAN;
    }
    // Upper-tail probability we are solving for.
    let p = 0.5 * (1.0 - level);
    let nu = df as f64;
    match df {
        1 => return (std::f64::consts::PI * (0.5 - p)).tan(),
        2 => {
            // Closed form: t = (2u - 1) / sqrt(2u(1-u)) with u = 1 - p.
            let u = 1.0 - p;
            return (2.0 * u - 1.0) / (2.0 * u * (1.0 - u)).sqrt();
        }
        _ => {}
    }
    let z = normal_quantile(1.0 - p);
    let start = cornish_fisher(z, nu);
    if df > 10_000_000 {
        return start;
    }

    // Safeguarded Newton on g(t) = upper_tail(t) - p, which is strictly decreasing in t > 0.
    let mut lo = 0.0_f64; // g(lo) > 0
    let mut hi = f64::INFINITY; // g(hi) < 0 once known
    let mut t = if start.is_finite() && start > 0.0 { start } else { 1.0 };
    let ln_norm = ln_gamma(0.5 * (nu + 1.0)) - ln_gamma(0.5 * nu) - 0.5 * (nu * std::f64::consts::PI).ln();
    for _ in 0..200 {
        let g = t_upper_tail(t, nu) - p;
        if g == 0.0 {
            return t;
        }
        if g > 0.0 {
            lo = t;
        } else {
            hi = t;
        }
        // d/dt upper_tail = -pdf(t)
        let pdf = (ln_norm - 0.5 * (nu + 1.0) * (t * t / nu).ln_1p()).exp();
        let mut next = t + g / pdf;
        let outside = !(next > lo && next < hi && next.is_finite());
        if outside {
            next = if hi.is_finite() { 0.5 * (lo + hi) } else { 2.0 * t.max(1.0) };
        }
        if (next - t).abs() <= 1e-14 * t.abs() {
            return next;
        }
        t = next;
    }
    t
}

/// Upper tail `P(T > t)` of Student's t with `nu` degrees of freedom, for `t ≥ 0`.
fn t_upper_tail(t: f64, nu: f64) -> f64 {
    let t2 = t * t;
    // x = nu / (nu + t²) and 1 - x computed without cancellation.
    let x = nu / (nu + t2);
    let y = t2 / (nu + t2);
    0.5 * reg_inc_beta(0.5 * nu, 0.5, x, y)
}

/// Regularized incomplete beta `I_x(a, b)`, with `y = 1 - x` supplied separately for accuracy.
fn reg_inc_beta(a: f64, b: f64, x: f64, y: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if y <= 0.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * y.ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) { front * beta_cont_frac(a, b, x) / a } else { 1.0 - front * beta_cont_frac(b, a, y) / b }
}

/// Continued fraction for the incomplete beta function (modified Lentz method).
fn beta_cont_frac(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-16;
    let qab = a + b;
    let qap = a + 1.0;
    let qam = a - 1.0;
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=100_000u32 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// Natural log of the gamma function for `x > 0`: Lanczos (g = 7, 9 terms) for small `x`,
/// Stirling's series for `x ≥ 10` (both accurate to ~1e-15 relative).
pub fn ln_gamma(x: f64) -> f64 {
    if x < 0.5 {
        // Reflection formula (not needed by this module's callers, kept for completeness).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    if x >= 10.0 {
        let inv = 1.0 / x;
        let inv2 = inv * inv;
        let series = inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0 - inv2 * (1.0 / 1680.0 - inv2 * (1.0 / 1188.0)))));
        return (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln() + series;
    }
    const G: f64 = 7.0;
    #[allow(clippy::excessive_precision)] // the published coefficients, verbatim
    const COEF: [f64; 9] = [
        0.999_999_999_999_809_93,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_13,
        -176.615_029_162_140_59,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_571_6e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let x = x - 1.0;
    let mut s = COEF[0];
    for (i, &c) in COEF.iter().enumerate().skip(1) {
        s += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + s.ln()
}

/// Cornish–Fisher expansion of the t quantile in powers of `1/nu` around the normal quantile `z`
/// (Hill 1970 / Abramowitz & Stegun 26.7.5).
fn cornish_fisher(z: f64, nu: f64) -> f64 {
    let z2 = z * z;
    let z3 = z2 * z;
    let z5 = z3 * z2;
    let z7 = z5 * z2;
    let z9 = z7 * z2;
    let g1 = (z3 + z) / 4.0;
    let g2 = (5.0 * z5 + 16.0 * z3 + 3.0 * z) / 96.0;
    let g3 = (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / 384.0;
    let g4 = (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / 92160.0;
    z + g1 / nu + g2 / (nu * nu) + g3 / (nu * nu * nu) + g4 / (nu * nu * nu * nu)
}

/// Evaluates the polynomial with coefficients `c` (constant term first) at `x`.
fn horner(c: &[f64], x: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &k| acc * x + k)
}

// Wichura (1988), algorithm AS 241 (PPND16): rational approximations, constant term first.
// The coefficients are kept verbatim as published (hence the precision lint allowances).
#[allow(clippy::excessive_precision)]
const AS241_A: [f64; 8] = [
    3.387132872796366608,
    133.14166789178437745,
    1971.5909503065514427,
    13731.693765509461125,
    45921.953931549871457,
    67265.770927008700853,
    33430.575583588128105,
    2509.0809287301226727,
];
#[allow(clippy::excessive_precision)]
const AS241_B: [f64; 8] = [
    1.0,
    42.313330701600911252,
    687.1870074920579083,
    5394.1960214247511077,
    21213.794301586595867,
    39307.89580009271061,
    28729.085735721942674,
    5226.495278852545925,
];
#[allow(clippy::excessive_precision)]
const AS241_C: [f64; 8] = [
    1.42343711074968357734,
    4.6303378461565452959,
    5.7694972214606914055,
    3.64784832476320460504,
    1.27045825245236838258,
    0.24178072517745061177,
    0.0227238449892691845833,
    7.7454501427834140764e-4,
];
#[allow(clippy::excessive_precision)]
const AS241_D: [f64; 8] = [
    1.0,
    2.05319162663775882187,
    1.6763848301838038494,
    0.68976733498510000455,
    0.14810397642748007459,
    0.0151986665636164571966,
    5.475938084995344946e-4,
    1.05075007164441684324e-9,
];
#[allow(clippy::excessive_precision)]
const AS241_E: [f64; 8] = [
    6.6579046435011037772,
    5.4637849111641143699,
    1.7848265399172913358,
    0.29656057182850489123,
    0.026532189526576123093,
    0.0012426609473880784386,
    2.71155556874348757815e-5,
    2.01033439929228813265e-7,
];
#[allow(clippy::excessive_precision)]
const AS241_F: [f64; 8] = [
    1.0,
    0.59983220655588793769,
    0.13692988092273580531,
    0.0148753612908506148525,
    7.868691311456132591e-4,
    1.8463183175100546818e-5,
    1.4215117583164458887e-7,
    2.04426310338993978564e-15,
];

/// Standard normal quantile, Wichura's AS 241 (PPND16), relative accuracy ~1e-16.
fn normal_quantile(p: f64) -> f64 {
    if p.is_nan() || p <= 0.0 || p >= 1.0 {
        return match p {
            0.0 => f64::NEG_INFINITY,
            1.0 => f64::INFINITY,
            _ => f64::NAN,
        };
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q * horner(&AS241_A, r) / horner(&AS241_B, r);
    }
    let r = (-(if q < 0.0 { p } else { 1.0 - p }).ln()).sqrt();
    let val = if r <= 5.0 {
        let r = r - 1.6;
        horner(&AS241_C, r) / horner(&AS241_D, r)
    } else {
        let r = r - 5.0;
        horner(&AS241_E, r) / horner(&AS241_F, r)
    };
    if q < 0.0 { -val } else { val }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn t_quantile_matches_tables() {
        let table = [
            (1, 12.706_205),
            (2, 4.302_653),
            (3, 3.182_446),
            (4, 2.776_445),
            (5, 2.570_582),
            (9, 2.262_157),
            (10, 2.228_139),
            (19, 2.093_024),
            (29, 2.045_230),
            (30, 2.042_272),
            (100, 1.983_972),
            (1000, 1.962_339),
        ];
        for (df, want) in table {
            let got = student_t_quantile(0.95, df);
            assert!(close(got, want, 1e-6), "df={df}: got {got}, want {want}");
        }
        let got = student_t_quantile(0.99, 10);
        assert!(close(got, 3.169_273, 1e-6), "0.99/10: got {got}");
    }

    #[test]
    fn t_quantile_more_levels_and_limits() {
        // Closed form for df = 4 at any level: check the solver against it.
        // P(T > t) for df=4 is 1/2 - (3/4)·s·(1 - s²/3) with s = t/sqrt(t²+4).
        for level in [0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 0.999_999] {
            let t = student_t_quantile(level, 4);
            let s = t / (t * t + 4.0).sqrt();
            let tail = 0.5 - 0.75 * s * (1.0 - s * s / 3.0);
            assert!(close(tail, 0.5 * (1.0 - level), 1e-12), "level={level}");
        }
        // Table values at other levels.
        assert!(close(student_t_quantile(0.90, 5), 2.015_048, 1e-6));
        assert!(close(student_t_quantile(0.99, 1), 63.656_741, 1e-5));
        assert!(close(student_t_quantile(0.999, 3), 12.923_979, 1e-5));
        assert!(close(student_t_quantile(0.80, 20), 1.325_341, 1e-6));
        // Large df approaches the normal quantile 1.959964; continuous across the 1e7 switch.
        let a = student_t_quantile(0.95, 10_000_000);
        let b = student_t_quantile(0.95, 10_000_001);
        assert!(close(a, b, 1e-9), "{a} vs {b}");
        assert!(close(a, 1.959_964, 1e-6));
        assert!(close(student_t_quantile(0.95, u64::MAX), 1.959_963_984_540_054, 1e-12));
        // Monotone decreasing in df.
        let mut prev = f64::INFINITY;
        for df in 1..300 {
            let t = student_t_quantile(0.95, df);
            assert!(t < prev, "df={df}");
            prev = t;
        }
        // Invalid inputs.
        assert!(student_t_quantile(0.95, 0).is_nan());
        assert!(student_t_quantile(1.0, 5).is_nan());
        assert!(student_t_quantile(0.0, 5).is_nan());
        assert!(student_t_quantile(f64::NAN, 5).is_nan());
    }

    #[test]
    fn normal_quantile_known_values() {
        assert!(close(normal_quantile(0.975), 1.959_963_984_540_054, 1e-14));
        assert!(close(normal_quantile(0.5), 0.0, 1e-16));
        assert!(close(normal_quantile(0.001), -3.090_232_306_167_813_5, 1e-13));
        assert!(close(normal_quantile(1e-10), -6.361_340_902_404_056, 1e-11));
    }

    #[test]
    fn ln_gamma_known_values() {
        assert!(close(ln_gamma(1.0), 0.0, 1e-14));
        assert!(close(ln_gamma(0.5), 0.5 * std::f64::consts::PI.ln(), 1e-14));
        assert!(close(ln_gamma(5.0), 24f64.ln(), 1e-13));
        // Both branches agree around the switch at 10: Γ(10) = 9! and Γ(11) = 10!.
        assert!(close(ln_gamma(10.0), 362_880f64.ln(), 1e-12));
        assert!(close(ln_gamma(9.999_999), ln_gamma(10.0) - 1e-6 * 2.251_752_589, 1e-11));
        assert!(close(ln_gamma(11.0), 3_628_800f64.ln(), 1e-12));
    }

    #[test]
    fn estimate_hand_computed_sample() {
        let e = Estimate::from_samples(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(e.n, 8);
        assert!(close(e.mean, 5.0, 1e-15));
        // Σ(x - 5)² = 9+1+1+1+0+0+4+16 = 32; s² = 32/7.
        assert!(close(e.std_dev, (32.0f64 / 7.0).sqrt(), 1e-15));
        assert!(close(e.std_dev, 2.138_090, 1e-6));
        let half = 2.364_624 * 2.138_090 / 8f64.sqrt();
        assert!(close(e.half_width(), half, 1e-6), "{}", e.half_width());
        assert!(close(e.ci_low, 5.0 - half, 1e-6));
        assert!(close(e.ci_high, 5.0 + half, 1e-6));
        assert!(close(e.ci_high - e.mean, e.mean - e.ci_low, 1e-12));
    }

    #[test]
    fn estimate_small_n_conventions() {
        let e0 = Estimate::from_samples(&[]);
        assert_eq!(e0.n, 0);
        assert!(e0.mean.is_nan() && e0.std_dev.is_nan() && e0.ci_low.is_nan());
        assert!(e0.ci_high.is_nan() && e0.half_width().is_nan());
        assert!(!e0.overlaps(&e0));

        let e1 = Estimate::from_samples(&[3.5]);
        assert_eq!(e1, Estimate { n: 1, mean: 3.5, std_dev: 0.0, ci_low: 3.5, ci_high: 3.5 });
        assert_eq!(e1.half_width(), 0.0);

        // Two samples: t_{0.975,1} = 12.706205; sd = |a-b|/√2; half = t·sd/√2 = t·|a-b|/2.
        let e2 = Estimate::from_samples(&[1.0, 3.0]);
        assert!(close(e2.half_width(), 12.706_205, 1e-6));
        // Constant samples: zero-width interval, not NaN.
        let c = Estimate::from_samples(&[0.25; 10]);
        assert_eq!((c.std_dev, c.ci_low, c.ci_high), (0.0, 0.25, 0.25));
    }

    #[test]
    fn estimate_is_order_sensitive_but_deterministic() {
        let xs: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.1).sin() * 1e3).collect();
        assert_eq!(Estimate::from_samples(&xs), Estimate::from_samples(&xs));
    }

    #[test]
    fn overlaps_cases() {
        let mk = |lo: f64, hi: f64| Estimate { n: 5, mean: 0.5 * (lo + hi), std_dev: 1.0, ci_low: lo, ci_high: hi };
        assert!(mk(0.0, 2.0).overlaps(&mk(1.0, 3.0)));
        assert!(mk(1.0, 3.0).overlaps(&mk(0.0, 2.0)));
        assert!(mk(0.0, 2.0).overlaps(&mk(2.0, 3.0))); // touching
        assert!(mk(0.0, 5.0).overlaps(&mk(1.0, 2.0))); // nested
        assert!(!mk(0.0, 1.0).overlaps(&mk(1.5, 3.0)));
        assert!(!mk(1.5, 3.0).overlaps(&mk(0.0, 1.0)));
    }

    #[test]
    fn paired_difference_uses_pairs() {
        let a = [10.0, 12.0, 9.0, 11.0, 13.0];
        let b = [9.0, 11.5, 8.0, 10.0, 12.5];
        let d = paired_difference(&a, &b);
        // Differences: 1, 0.5, 1, 1, 0.5 → mean 0.8, Σ(d-0.8)² = 4·... = 0.04·3 + 0.09·2 = 0.3.
        assert_eq!(d.n, 5);
        assert!(close(d.mean, 0.8, 1e-15));
        assert!(close(d.std_dev, (0.3f64 / 4.0).sqrt(), 1e-15));
        let half = 2.776_445 * (0.075f64).sqrt() / 5f64.sqrt();
        assert!(close(d.half_width(), half, 1e-6));
        // The paired interval excludes 0 although the unpaired intervals overlap heavily.
        assert!(d.ci_low > 0.0);
        assert!(Estimate::from_samples(&a).overlaps(&Estimate::from_samples(&b)));
        // Antisymmetric.
        let r = paired_difference(&b, &a);
        assert!(close(r.mean, -d.mean, 1e-15) && close(r.half_width(), d.half_width(), 1e-15));
        assert_eq!(paired_difference(&[], &[]).n, 0);
    }

    #[test]
    fn unpaired_samples_have_no_paired_difference() {
        let d = paired_difference(&[1.0, 2.0], &[1.0]);
        assert_eq!(d.n, 0);
        assert!(d.mean.is_nan() && d.ci_low.is_nan() && d.ci_high.is_nan());
    }

    #[test]
    fn erlang_b_known_values() {
        assert!(close(erlang_b(1, 1.0), 0.5, 1e-15));
        assert!(close(erlang_b(2, 1.0), 0.2, 1e-15));
        // B(3, 2) = (8/6) / (1 + 2 + 2 + 8/6) = 4/19 by the explicit formula.
        assert!(close(erlang_b(3, 2.0), 4.0 / 19.0, 1e-15));
        // B(10, 5) by the explicit formula a^c/c! / Σ_k a^k/k!.
        let explicit = |c: u32, a: f64| {
            let mut term = 1.0;
            let mut sum = 1.0;
            for k in 1..=c {
                term *= a / k as f64;
                sum += term;
            }
            term / sum
        };
        assert!(close(erlang_b(10, 5.0), explicit(10, 5.0), 1e-15));
        assert!(close(erlang_b(10, 5.0), 0.018_385, 1e-6));
        assert!(close(erlang_b(100, 80.0), explicit(100, 80.0), 1e-14));
        // Exact rational arithmetic gives B(100, 80) = 0.003992028604553197 (the often-quoted
        // 0.004039 is wrong).
        assert!(close(erlang_b(100, 80.0), 0.003_992_028_604_553_197, 1e-15));
        // Edge cases and stability at sizes where factorials would overflow.
        assert_eq!(erlang_b(0, 3.0), 1.0);
        assert_eq!(erlang_b(5, 0.0), 0.0);
        assert_eq!(erlang_b(5, f64::INFINITY), 1.0);
        assert!(erlang_b(5, -1.0).is_nan() && erlang_b(5, f64::NAN).is_nan());
        let big = erlang_b(10_000, 9_000.0);
        assert!(big.is_finite() && (0.0..1e-10).contains(&big));
        // Monotone: more servers → less blocking; more load → more blocking.
        assert!(erlang_b(11, 5.0) < erlang_b(10, 5.0));
        assert!(erlang_b(10, 6.0) > erlang_b(10, 5.0));
    }

    #[test]
    fn quantiles_type7() {
        let xs = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&xs, 0.0), 1.0);
        assert_eq!(quantile_sorted(&xs, 1.0), 4.0);
        assert!(close(quantile_sorted(&xs, 0.5), 2.5, 1e-15));
        // numpy.quantile([1,2,3,4], 0.25) = 1.75, 0.9 → 3.7
        assert!(close(quantile_sorted(&xs, 0.25), 1.75, 1e-15));
        assert!(close(quantile_sorted(&xs, 0.9), 3.7, 1e-15));
        let ys: Vec<f64> = (1..=10).map(|i| i as f64 * 10.0).collect();
        // numpy.quantile(10..100, 0.95) = 95.5, 0.99 → 99.1
        assert!(close(quantile_sorted(&ys, 0.95), 95.5, 1e-12));
        assert!(close(quantile_sorted(&ys, 0.99), 99.1, 1e-12));
        assert_eq!(quantile_sorted(&[7.0], 0.3), 7.0);
        assert!(quantile_sorted(&[], 0.5).is_nan());
        assert!(quantile_sorted(&xs, 1.5).is_nan());
        assert!(quantile_sorted(&xs, -0.1).is_nan());
        assert!(quantile_sorted(&xs, f64::NAN).is_nan());
        // Repeated values and infinities at the ends do not produce NaN at exact positions.
        assert_eq!(quantile_sorted(&[1.0, 1.0, 1.0], 0.7), 1.0);
        assert_eq!(quantile_sorted(&[0.0, 1.0, f64::INFINITY], 0.5), 1.0);
    }
}
