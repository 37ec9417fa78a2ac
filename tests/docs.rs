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

#[test]
fn slurm_logs_go_to_an_ignored_log_folder_not_the_repository_root() {
    let repo = env!("CARGO_MANIFEST_DIR");
    let gitignore = std::fs::read_to_string(format!("{repo}/.gitignore")).unwrap();
    assert!(gitignore.lines().any(|l| l.trim() == "/logs/"), ".gitignore must ignore /logs/");
    for script in ["slurm-sweep.sbatch", "slurm-merge.sbatch"] {
        let text = std::fs::read_to_string(format!("{repo}/docs/examples/{script}")).unwrap();
        let outputs: Vec<&str> = text.lines().filter(|l| l.starts_with("#SBATCH --output=")).collect();
        assert_eq!(outputs.len(), 1, "{script}: one --output line");
        assert!(outputs[0].starts_with("#SBATCH --output=logs/"), "{script}: log files must land under logs/: {}", outputs[0]);
    }
}

#[test]
fn the_slurm_recipe_says_its_resource_requests_are_defaults_to_override() {
    let repo = env!("CARGO_MANIFEST_DIR");
    let recipe = std::fs::read_to_string(format!("{repo}/docs/distributed.md")).unwrap();
    let script = std::fs::read_to_string(format!("{repo}/docs/examples/slurm-sweep.sbatch")).unwrap();
    for text in [&recipe, &script] {
        assert!(text.contains("override them on the") && text.contains("PartitionConfig"));
        assert!(text.contains("mkdir -p logs/slurm"));
    }
}
