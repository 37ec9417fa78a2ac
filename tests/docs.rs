//! The documentation stays true: every metric is documented in the README, and every shipped
//! scenario says which question it answers.

use clustersim::metrics::Metric;

#[test]
fn every_metric_column_is_documented_in_the_readme() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for m in Metric::ALL {
        assert!(readme.contains(&format!("`{}`", m.name())), "README does not document `{}`", m.name());
    }
}

#[test]
fn every_shipped_scenario_starts_with_the_question_it_answers() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.starts_with('#'), "{} must start with a comment", path.display());
            let header: String = text.lines().take_while(|l| l.starts_with('#')).collect::<Vec<_>>().join(" ");
            assert!(
                header.to_lowercase().contains("question") || header.contains('?'),
                "{}: say which question it answers",
                path.display()
            );
            seen += 1;
        }
    }
    assert!(seen >= 3);
}
