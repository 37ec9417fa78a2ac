//! Capacity planning: which candidates to run ([`search`]), how a candidate is judged from its
//! replications ([`Evaluation`]), and what the answer is ([`Outcome`]: the best candidate that
//! meets every target, and the next better one that does not).
//!
//! The search is bisection over the one monotone numeric knob (hosts per AZ: once enough, more
//! stay enough), for every combination of the exhaustive knobs at once, so each round's probes
//! run in parallel; without a bisected knob every combination runs in one round. Running is the
//! caller's: it gets each round's candidates and answers whether each met every target. That
//! keeps this module free of files and threads, and the search testable with a closure.
//!
//! Architecture invariant: `plan` does no I/O and starts no threads; the CLI runs the candidates
//! (through `sweep::execute`) and the report writes the files.

use std::collections::BTreeMap;

use crate::metrics::stats::Estimate;
use crate::metrics::{Direction, Metric, MetricValues};
use crate::scenario::plan::{Choice, Judgement, PlanSpec};

/// A candidate judged on its replications.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Every metric's estimate over the replications, indexed by `Metric as usize`.
    pub estimates: Vec<Estimate>,
    /// One per target of the plan, in its order.
    pub judgements: Vec<Judgement>,
}

impl Evaluation {
    /// Judges a candidate from its runs' metrics (one per replication, in replication order). As
    /// in `summary.csv`, a run without a value for a metric (NaN) is left out of its estimate.
    pub fn from_runs(spec: &PlanSpec, runs: &[MetricValues]) -> Evaluation {
        let estimates: Vec<Estimate> = Metric::ALL
            .iter()
            .map(|&m| Estimate::from_samples(&runs.iter().map(|r| r.get(m)).filter(|v| !v.is_nan()).collect::<Vec<f64>>()))
            .collect();
        let judgements = spec.targets.iter().map(|t| t.judge(&estimates[t.metric as usize])).collect();
        Evaluation { estimates, judgements }
    }

    pub fn estimate(&self, m: Metric) -> Estimate {
        self.estimates[m as usize]
    }

    /// Whether every target is met.
    pub fn meets_all(&self) -> bool {
        self.judgements.iter().all(|j| j.met)
    }
}

/// Runs the search: calls `evaluate` with each round's candidates (never one it asked for
/// before) and their round number (from 1), which answers, for each, whether it met every
/// target. Returns, per combination of the exhaustive knobs ([`PlanSpec::combos`]), the smallest
/// value index of the bisected knob that met every target (`None`: not even the largest did);
/// without a bisected knob, whether the combination met them (`Some(0)`) or not.
///
/// Bisection assumes the targets, once met, stay met as the knob grows: it tries the largest
/// value first (if that misses, no smaller one is tried), then halves the interval between the
/// largest miss and the smallest hit. A knob of `n` values costs at most ⌈log₂ n⌉ + 1 runs of
/// each combination, and the value just below the answer is always among them.
pub fn search<E>(spec: &PlanSpec, mut evaluate: impl FnMut(usize, &[Choice]) -> Result<Vec<bool>, E>) -> Result<Vec<Option<usize>>, E> {
    let combos = spec.combos();
    let Some(b) = spec.bisected() else {
        let met = evaluate(1, &combos)?;
        return Ok(met.into_iter().map(|m| m.then_some(0)).collect());
    };
    let n = spec.knobs[b].axis.values.len();
    // Per combination: (lowest index not known to miss, highest index not known to hit, best hit).
    let mut state: Vec<(usize, usize, Option<usize>)> = vec![(0, n - 1, None); combos.len()];
    let mut asked: BTreeMap<Choice, bool> = BTreeMap::new();
    let mut first_round = true;
    for round in 1.. {
        let mut probes: Vec<(usize, Choice)> = Vec::new();
        for (i, &(lo, hi, best)) in state.iter().enumerate() {
            let open = if first_round { true } else { best.is_some() && lo <= hi };
            if !open {
                continue;
            }
            let at = if first_round { n - 1 } else { lo + (hi - lo) / 2 };
            let mut choice = combos[i].clone();
            choice[b] = at;
            probes.push((i, choice));
        }
        if probes.is_empty() {
            break;
        }
        let mut fresh: Vec<Choice> = probes.iter().map(|(_, c)| c.clone()).filter(|c| !asked.contains_key(c)).collect();
        fresh.dedup();
        if !fresh.is_empty() {
            let met = evaluate(round, &fresh)?;
            assert_eq!(met.len(), fresh.len(), "one answer per candidate");
            asked.extend(fresh.into_iter().zip(met));
        }
        for (i, choice) in probes {
            let at = choice[b];
            let met = asked[&choice];
            let (lo, hi, best) = &mut state[i];
            if met {
                *best = Some(at);
                // Everything from `at` up meets; look below it.
                match at.checked_sub(1) {
                    Some(below) if below >= *lo => *hi = below,
                    _ => *lo = *hi + 1,
                }
            } else {
                *lo = at + 1;
            }
        }
        first_round = false;
    }
    Ok(state.into_iter().map(|(_, _, best)| best).collect())
}

/// The answer of a plan, from every candidate evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The candidate with the best objective that meets every target.
    pub best: Option<Choice>,
    /// The candidate with the next better objective than `best` that misses a target (for the
    /// default objective: the next cheaper configuration); with no `best`, the candidate that
    /// came closest by objective (the most expensive one tried).
    pub next: Option<Choice>,
}

/// Whether objective value `a` is better than `b` for `objective` (NaN is never better).
fn better(objective: Metric, a: f64, b: f64) -> bool {
    match objective.direction() {
        Direction::HigherIsBetter => a > b,
        _ => a < b,
    }
}

/// Picks the answer from the evaluated candidates (ties broken by the earlier candidate in
/// `evaluated`'s order).
pub fn outcome(spec: &PlanSpec, evaluated: &[(Choice, Evaluation)]) -> Outcome {
    let value = |e: &Evaluation| e.estimate(spec.objective).mean;
    let pick = |keep: &dyn Fn(&Evaluation) -> bool, prefer_better: bool| {
        let mut chosen: Option<&(Choice, Evaluation)> = None;
        for item in evaluated.iter().filter(|(_, e)| keep(e) && !value(e).is_nan()) {
            let replace = match chosen {
                None => true,
                Some((_, c)) => {
                    if prefer_better {
                        better(spec.objective, value(&item.1), value(c))
                    } else {
                        better(spec.objective, value(c), value(&item.1))
                    }
                }
            };
            if replace {
                chosen = Some(item);
            }
        }
        chosen.map(|(c, _)| c.clone())
    };
    let best = pick(&|e| e.meets_all(), true);
    let next = match &best {
        Some(b) => {
            let best_value = evaluated.iter().find(|(c, _)| c == b).map(|(_, e)| value(e)).expect("best was evaluated");
            pick(&|e| !e.meets_all() && better(spec.objective, value(e), best_value), false)
        }
        None => pick(&|e| !e.meets_all(), false),
    };
    Outcome { best, next }
}

#[cfg(test)]
mod tests;
