//! The README's examples run as shown. Every ```toml block is a complete scenario that
//! `validate` accepts when saved in `scenarios/`, and every command line in a ```sh block that
//! starts with `cargo run` or `clustersim` exits 0 — run in a scratch copy of `scenarios/`, so
//! relative paths resolve as they do in a checkout and results land in the scratch folder.
//!
//! A block that is deliberately a fragment says so in an HTML comment on the line before it:
//! `<!-- readme-test: fragment -->`; it is then skipped.

use std::fs;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_clustersim");
const REPO: &str = env!("CARGO_MANIFEST_DIR");
const FRAGMENT: &str = "<!-- readme-test: fragment -->";

struct Block {
    language: String,
    /// 1-based line of the opening fence.
    line: usize,
    text: String,
}

/// The fenced code blocks of a Markdown text, fragments left out.
fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut current: Option<Block> = None;
    let mut previous = "";
    for (i, line) in markdown.lines().enumerate() {
        match current.take() {
            None => {
                if let Some(language) = line.strip_prefix("```") {
                    if previous.trim() != FRAGMENT {
                        current = Some(Block { language: language.trim().to_string(), line: i + 1, text: String::new() });
                    } else {
                        current = Some(Block { language: "fragment".to_string(), line: i + 1, text: String::new() });
                    }
                }
            }
            Some(mut block) => {
                if line.starts_with("```") {
                    if block.language != "fragment" {
                        out.push(block);
                    }
                } else {
                    block.text.push_str(line);
                    block.text.push('\n');
                    current = Some(block);
                }
            }
        }
        previous = line;
    }
    assert!(current.is_none(), "README has an unclosed code block");
    out
}

/// The clustersim arguments of a README command line, or `None` if the line runs something else.
fn clustersim_args(line: &str) -> Option<Vec<String>> {
    let command = line.split(" #").next().unwrap().trim();
    let words: Vec<&str> = command.split_whitespace().collect();
    let args = match words.as_slice() {
        ["clustersim", rest @ ..] => rest,
        ["cargo", "run", "--release", "--", rest @ ..] | ["cargo", "run", "--", rest @ ..] => rest,
        ["cargo", "run", ..] => panic!("README command `{command}`: this test runs `cargo run [--release] -- ARGS` only"),
        _ => return None,
    };
    Some(args.iter().map(|a| a.to_string()).collect())
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() { copy_dir(&path, &target) } else { fs::copy(&path, &target).map(|_| ()).unwrap() }
    }
}

/// A scratch folder holding a copy of `scenarios/`, as a checkout has it.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&Path::new(REPO).join("scenarios"), &dir.path().join("scenarios"));
    dir
}

fn readme() -> String {
    fs::read_to_string(Path::new(REPO).join("README.md")).unwrap()
}

#[test]
fn every_toml_block_of_the_readme_validates_as_shown() {
    let tomls: Vec<Block> = blocks(&readme()).into_iter().filter(|b| b.language == "toml").collect();
    assert!(!tomls.is_empty(), "the README shows no scenario");
    let dir = scratch();
    for block in &tomls {
        let file = format!("scenarios/readme-line-{}.toml", block.line);
        fs::write(dir.path().join(&file), &block.text).unwrap();
        let o = Command::new(BIN).args(["validate", &file]).current_dir(dir.path()).output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "the README's TOML block at line {} does not validate:\n{}",
            block.line,
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn every_clustersim_command_of_the_readme_runs_as_shown() {
    let commands: Vec<(usize, Vec<String>)> = blocks(&readme())
        .into_iter()
        .filter(|b| b.language == "sh")
        .flat_map(|b| b.text.lines().filter_map(clustersim_args).map(|args| (b.line, args)).collect::<Vec<_>>())
        .collect();
    assert!(commands.len() >= 3, "expected the README's run commands, found {}", commands.len());
    let dir = scratch();
    for (line, args) in &commands {
        let o = Command::new(BIN).args(args).current_dir(dir.path()).output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "README command `clustersim {}` (block at line {line}) failed:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn the_block_parser_finds_code_and_skips_marked_fragments() {
    let markdown = format!(
        "text\n```toml\na = 1\n```\n{FRAGMENT}\n```toml\nb =\n```\n```sh\ncargo run --release -- validate x.toml   # note\nls\n```\n"
    );
    let found = blocks(&markdown);
    assert_eq!(found.len(), 2);
    assert_eq!((found[0].language.as_str(), found[0].line, found[0].text.as_str()), ("toml", 2, "a = 1\n"));
    let args: Vec<Vec<String>> = found[1].text.lines().filter_map(clustersim_args).collect();
    assert_eq!(args, vec![vec!["validate".to_string(), "x.toml".to_string()]]);
}
