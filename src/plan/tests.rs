use std::collections::BTreeMap;

use super::*;
use crate::scenario::SweepAxis;
use crate::scenario::plan::{Knob, Op, Search, Target};

fn knob(key: &str, n: usize, search: Search) -> Knob {
    let values: Vec<toml::Value> = (1..=n as i64).map(toml::Value::Integer).collect();
    let labels = values.iter().map(|v| v.to_string()).collect();
    Knob { axis: SweepAxis { key: key.into(), keys: vec![key.into()], values, labels }, search }
}

fn spec(knobs: Vec<Knob>) -> PlanSpec {
    PlanSpec {
        name: "t".into(),
        seed: 1,
        knobs,
        targets: vec![Target { metric: Metric::PlacementFailureRate, op: Op::AtMost, bound: 0.01 }],
        objective: Metric::CostMonthTotal,
        replications: 2,
    }
}

/// Runs the search against `meets`, counting how often each candidate is asked for.
fn run(spec: &PlanSpec, meets: impl Fn(&[usize]) -> bool) -> (Vec<Option<usize>>, BTreeMap<Choice, u32>, usize) {
    let mut asked: BTreeMap<Choice, u32> = BTreeMap::new();
    let mut rounds = 0;
    let answer = search::<()>(spec, |round, choices| {
        rounds = round;
        for c in choices {
            *asked.entry(c.clone()).or_default() += 1;
        }
        Ok(choices.iter().map(|c| meets(c)).collect())
    })
    .unwrap();
    (answer, asked, rounds)
}

#[test]
fn bisection_finds_the_smallest_value_that_meets_every_target_asking_each_candidate_once() {
    for n in [1usize, 2, 3, 7, 40, 100] {
        for threshold in 0..=n {
            let s = spec(vec![knob("hosts", n, Search::Bisect)]);
            let (answer, asked, rounds) = run(&s, |c| c[0] >= threshold);
            assert_eq!(answer, vec![(threshold < n).then_some(threshold)], "n = {n}, threshold = {threshold}");
            assert!(asked.values().all(|&k| k == 1), "a candidate was asked for twice: {asked:?}");
            let bound = (n as f64).log2().ceil() as usize + 1;
            assert!(asked.len() <= bound && rounds <= bound, "n = {n}: {} runs in {rounds} rounds > {bound}", asked.len());
            // The value just below the answer was tried: it is the "next cheaper" configuration.
            if threshold > 0 && threshold < n {
                assert!(asked.contains_key(&vec![threshold - 1]), "n = {n}, threshold = {threshold}: {asked:?}");
            }
        }
    }
}

#[test]
fn every_combination_of_the_exhaustive_knobs_is_bisected_in_the_same_rounds() {
    let s = spec(vec![knob("type", 3, Search::Exhaustive), knob("hosts", 16, Search::Bisect)]);
    // Type 0 needs 10 hosts (index 9), type 1 needs 4 (index 3), type 2 never suffices.
    let need = [9usize, 3, 99];
    let (answer, asked, rounds) = run(&s, |c| c[1] >= need[c[0]]);
    assert_eq!(answer, vec![Some(9), Some(3), None]);
    assert!(asked.values().all(|&k| k == 1));
    // One probe of the infeasible type (its largest value), at most 5 rounds for 16 values.
    assert_eq!(asked.keys().filter(|c| c[0] == 2).count(), 1);
    assert!(rounds <= 5, "{rounds} rounds");
}

#[test]
fn without_a_bisected_knob_every_combination_runs_in_one_round() {
    let s = spec(vec![knob("type", 3, Search::Exhaustive), knob("nat", 2, Search::Exhaustive)]);
    let (answer, asked, rounds) = run(&s, |c| c[0] + c[1] >= 2);
    assert_eq!(rounds, 1);
    assert_eq!(asked.len(), 6);
    assert_eq!(answer, vec![None, None, None, Some(0), Some(0), Some(0)]);
}

fn evaluation(s: &PlanSpec, cost: f64, failure_rate: f64) -> Evaluation {
    let mut m = MetricValues::default();
    m.set(Metric::CostMonthTotal, cost);
    m.set(Metric::PlacementFailureRate, failure_rate);
    Evaluation::from_runs(s, &[m.clone(), m])
}

#[test]
fn the_answer_is_the_cheapest_candidate_meeting_every_target_and_the_next_cheaper_one_that_misses() {
    let s = spec(vec![knob("hosts", 5, Search::Bisect)]);
    let evaluated = vec![
        (vec![4], evaluation(&s, 500.0, 0.0)),
        (vec![1], evaluation(&s, 200.0, 0.05)),
        (vec![2], evaluation(&s, 300.0, 0.02)),
        (vec![3], evaluation(&s, 400.0, 0.005)),
    ];
    let o = outcome(&s, &evaluated);
    assert_eq!(o.best, Some(vec![3]));
    assert_eq!(o.next, Some(vec![2]));
    // Nothing meets: the nearest is the most expensive miss.
    let misses: Vec<(Choice, Evaluation)> = evaluated.iter().filter(|(c, _)| c[0] < 3).cloned().collect();
    assert_eq!(outcome(&s, &misses), Outcome { best: None, next: Some(vec![2]) });
}

#[test]
fn a_tighter_target_never_gives_a_cheaper_answer() {
    // Failure rate falls with hosts; the cost rises. Tightening the bound can only move the answer up.
    let rates = [0.2, 0.1, 0.05, 0.02, 0.01, 0.004, 0.001, 0.0];
    let mut previous = 0;
    for bound in [0.3, 0.1, 0.05, 0.03, 0.01, 0.005, 0.001, 0.0] {
        let mut s = spec(vec![knob("hosts", rates.len(), Search::Bisect)]);
        s.targets[0].bound = bound;
        let (answer, _, _) = run(&s, |c| evaluation(&s, c[0] as f64, rates[c[0]]).meets_all());
        let found = answer[0].expect("the largest value meets every bound");
        assert!(found >= previous, "bound {bound}: answer {found} is cheaper than {previous} for a looser bound");
        previous = found;
    }
}
