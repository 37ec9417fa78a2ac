//! Task run-time distributions.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, LogNormal};

use crate::engine::SimTime;

#[derive(Debug, Clone, PartialEq)]
pub enum RunTime {
    /// Runs until something else stops it (the usual service task).
    Forever,
    Constant(SimTime),
    Exponential {
        mean_s: f64,
    },
    /// Parameterised by the mean and standard deviation of the run time itself (not of its log),
    /// which is what people measure.
    LogNormal {
        mean_s: f64,
        std_dev_s: f64,
    },
    Uniform {
        min_s: f64,
        max_s: f64,
    },
}

impl RunTime {
    /// Draws one run time; `None` for `Forever`.
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> Option<SimTime> {
        let secs = match *self {
            RunTime::Forever => return None,
            RunTime::Constant(t) => return Some(t),
            RunTime::Exponential { mean_s } => Exp::<f64>::new(1.0 / mean_s).expect("validated mean > 0").sample(rng),
            RunTime::LogNormal { mean_s, std_dev_s } => {
                let (mu, sigma) = lognormal_params(mean_s, std_dev_s);
                LogNormal::<f64>::new(mu, sigma).expect("validated sigma ≥ 0").sample(rng)
            }
            RunTime::Uniform { min_s, max_s } => {
                if max_s > min_s {
                    rng.random_range(min_s..max_s)
                } else {
                    min_s
                }
            }
        };
        Some(SimTime::from_secs_f64(secs))
    }

    /// Mean run time in seconds (∞ for `Forever`).
    pub fn mean_secs(&self) -> f64 {
        match *self {
            RunTime::Forever => f64::INFINITY,
            RunTime::Constant(t) => t.as_secs_f64(),
            RunTime::Exponential { mean_s } => mean_s,
            RunTime::LogNormal { mean_s, .. } => mean_s,
            RunTime::Uniform { min_s, max_s } => (min_s + max_s) / 2.0,
        }
    }
}

/// μ and σ of the underlying normal for a log-normal with the given mean `m` and std dev `s`:
/// σ² = ln(1 + s²/m²), μ = ln m − σ²/2.
fn lognormal_params(mean: f64, std_dev: f64) -> (f64, f64) {
    let sigma2 = (1.0 + (std_dev * std_dev) / (mean * mean)).ln();
    (mean.ln() - sigma2 / 2.0, sigma2.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStreams;

    fn sample_mean(rt: &RunTime, n: usize) -> (f64, f64) {
        let mut rng = RngStreams::new(1).stream("test", 0);
        let xs: Vec<f64> = (0..n).map(|_| rt.sample(&mut rng).unwrap().as_secs_f64()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        (mean, var.sqrt())
    }

    #[test]
    fn lognormal_has_the_requested_mean_and_std_dev() {
        let (m, s) = sample_mean(&RunTime::LogNormal { mean_s: 300.0, std_dev_s: 120.0 }, 200_000);
        assert!((m - 300.0).abs() < 3.0, "mean {m}");
        assert!((s - 120.0).abs() < 3.0, "std dev {s}");
    }

    #[test]
    fn exponential_and_uniform_means() {
        let (m, s) = sample_mean(&RunTime::Exponential { mean_s: 600.0 }, 200_000);
        assert!((m - 600.0).abs() < 6.0 && (s - 600.0).abs() < 12.0, "{m} {s}");
        let (m, _) = sample_mean(&RunTime::Uniform { min_s: 10.0, max_s: 20.0 }, 100_000);
        assert!((m - 15.0).abs() < 0.1, "{m}");
    }

    #[test]
    fn forever_never_ends_and_constant_is_exact() {
        let mut rng = RngStreams::new(1).stream("test", 0);
        assert_eq!(RunTime::Forever.sample(&mut rng), None);
        assert_eq!(RunTime::Constant(SimTime::from_secs(5)).sample(&mut rng), Some(SimTime::from_secs(5)));
    }
}
