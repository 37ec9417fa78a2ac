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

/// Every key the scenario reader asks for, found in its source: the string literals passed to the
/// reader's accessors (`opt_u32_min("max_enis", …)`, `table("cluster")`, `duration("at")`…) and
/// to the helpers that call them. The reader refuses any key it does not ask for, so this is the
/// set of keys a scenario may contain.
fn scenario_keys_the_reader_accepts() -> std::collections::BTreeSet<String> {
    let repo = env!("CARGO_MANIFEST_DIR");
    let call = regex::Regex::new(
        r#"(?:\.(?:opt_\w+|str|table|named_tables|duration|opt_value|get)|positive|num|read_distribution)\((?:&mut \w+, |\w+, )?"([a-z_]+)""#,
    )
    .unwrap();
    let mut keys = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(format!("{repo}/src/scenario")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        // Only the reading code, not its unit tests.
        let code = text.split("#[cfg(test)]").next().unwrap();
        keys.extend(call.captures_iter(code).map(|c| c[1].to_string()));
    }
    keys
}

#[test]
fn every_scenario_key_the_reader_accepts_is_documented() {
    let keys = scenario_keys_the_reader_accepts();
    // The scan must find the keys it is meant to: a broken pattern would pass vacuously.
    for known in ["horizon", "max_enis", "trunk_task_limit", "hourly_usd", "registered_memory_fraction", "eni_attach_delay", "std_dev"] {
        assert!(keys.contains(known), "the key scan missed `{known}`: {keys:?}");
    }
    assert!(keys.len() >= 60, "only {} keys found", keys.len());
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/scenario.md")).unwrap();
    // A key is documented in backquotes (`max_enis`), a table as its header ([cluster], [network.subnets.<name>]).
    let documented =
        |k: &str| [format!("`{k}`"), format!("[{k}]"), format!("[{k}."), format!("[[{k}.")].iter().any(|f| doc.contains(f.as_str()));
    let missing: Vec<&String> = keys.iter().filter(|k| !documented(k)).collect();
    assert!(missing.is_empty(), "docs/scenario.md does not document: {missing:?}");
}

#[test]
fn the_readme_links_the_model_and_scenario_references() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(readme.contains("(docs/model.md)") && readme.contains("(docs/scenario.md)"));
}

/// GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn text_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            text_files(&path, out);
        } else if path.extension().is_some_and(|e| ["rs", "md", "toml", "json", "sbatch", "yaml", "sh", "csv"].iter().any(|x| e == *x)) {
            out.push(path);
        }
    }
}

#[test]
fn every_pointer_into_docs_model_md_names_an_existing_section() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = std::fs::read_to_string(repo.join("docs/model.md")).unwrap();
    let anchors: Vec<String> = model.lines().filter_map(|l| l.strip_prefix("## ")).map(anchor).collect();
    let pointer = regex::Regex::new(r"model\.md#([a-z0-9_-]+)").unwrap();
    let mut files = Vec::new();
    for dir in ["src", "tests", "docs", "scenarios", "examples"] {
        text_files(&repo.join(dir), &mut files);
    }
    files.push(repo.join("README.md"));
    let mut seen = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for c in pointer.captures_iter(&text) {
            seen += 1;
            assert!(anchors.contains(&c[1].to_string()), "{}: `model.md#{}` is not a section of docs/model.md", file.display(), &c[1]);
        }
    }
    assert!(seen >= 30, "only {seen} pointers found");
}

#[test]
fn nothing_points_outside_the_repository() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // Spelt in pieces so that this file does not match itself.
    let outside = [
        concat!("ECS-", "REFERENCE"),
        concat!("../", "shared"),
        concat!("DESIGN", ".md"),
        concat!("CRATES", ".md"),
        concat!("STYLE", ".md"),
    ];
    let mut files = Vec::new();
    for dir in ["src", "tests", "docs", "scenarios", "examples", "benches", "results"] {
        text_files(&repo.join(dir), &mut files);
    }
    files.extend(["README.md", "ARCHITECTURE.md", "Cargo.toml"].map(|f| repo.join(f)));
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for word in outside {
            assert!(!text.contains(word), "{} mentions `{word}`; point at docs/model.md or the AWS page instead", file.display());
        }
    }
}
