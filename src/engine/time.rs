//! Simulated time as an integer number of microseconds.
//!
//! A floating-point clock drifts and makes event order depend on rounding; an integer clock makes
//! `(time, sequence)` a total order that is the same on every machine.

use std::fmt;

/// A point in (or span of) simulated time, in microseconds since the start of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);
    pub const US_PER_SECOND: u64 = 1_000_000;

    pub const fn from_secs(secs: u64) -> SimTime {
        SimTime(secs * Self::US_PER_SECOND)
    }

    pub const fn from_millis(ms: u64) -> SimTime {
        SimTime(ms * 1_000)
    }

    /// Rounds to the nearest microsecond; negative and NaN inputs become zero, huge ones saturate.
    pub fn from_secs_f64(secs: f64) -> SimTime {
        let us = (secs * Self::US_PER_SECOND as f64).round();
        if us.is_nan() || us <= 0.0 {
            SimTime::ZERO
        } else if us >= u64::MAX as f64 {
            SimTime::MAX
        } else {
            SimTime(us as u64)
        }
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / Self::US_PER_SECOND as f64
    }

    pub const fn as_micros(self) -> u64 {
        self.0
    }

    pub const fn saturating_add(self, other: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(other.0))
    }

    pub const fn saturating_sub(self, other: SimTime) -> SimTime {
        SimTime(self.0.saturating_sub(other.0))
    }
}

impl std::ops::Add for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimTime) -> SimTime {
        self.saturating_add(rhs)
    }
}

impl fmt::Display for SimTime {
    /// Seconds with microsecond precision, e.g. `12.000250`: exact, and stable across platforms.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}", self.0 / Self::US_PER_SECOND, self.0 % Self::US_PER_SECOND)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_trip_to_the_microsecond() {
        assert_eq!(SimTime::from_secs_f64(1.5), SimTime(1_500_000));
        assert_eq!(SimTime::from_secs_f64(0.0000004), SimTime(0));
        assert_eq!(SimTime::from_secs_f64(0.0000006), SimTime(1));
        assert_eq!(SimTime::from_secs_f64(-3.0), SimTime::ZERO);
        assert_eq!(SimTime::from_secs_f64(f64::NAN), SimTime::ZERO);
        assert_eq!(SimTime::from_secs_f64(1e30), SimTime::MAX);
        assert_eq!(SimTime::from_secs(90).as_secs_f64(), 90.0);
    }

    #[test]
    fn display_is_exact_seconds_with_six_decimals() {
        assert_eq!(SimTime(12_000_250).to_string(), "12.000250");
        assert_eq!(SimTime::ZERO.to_string(), "0.000000");
    }
}
