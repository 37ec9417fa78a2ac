//! Output folders: which folders clustersim may replace or delete, and the
//! temporary-folder-then-rename discipline that never leaves a half-written results folder.
//!
//! clustersim only ever deletes what it wrote. A folder is recognised as its own by content, not
//! by a file name: its marker file parses as clustersim's own format (the `manifest.json` of a
//! results folder, the `shard.json` of a shard folder, the `inputs.txt` of a work folder), and
//! every entry in it is one clustersim writes. Anything else is refused, naming the first
//! foreign entry. Deletion walks the same list of known entries and removes only those, so a file
//! that appears in the meantime survives (and the removal fails naming it).

use std::fs;
use std::path::{Path, PathBuf};

/// The file that marks a folder as clustersim's results (a shard folder has `shard.json`).
pub const RESULTS_MARKER: &str = "manifest.json";

/// The kinds of folder clustersim writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderKind {
    /// A results folder (`--out`, or its `.<name>.old` sibling).
    Results,
    /// A results folder being assembled (`.<name>.tmp-<pid>`): results files, the manifest not
    /// yet written (it is the last file but charts).
    Assembling,
    /// A shard folder (`run --shard`): per-run files and `shard.json`.
    Shard,
    /// The `.<name>.work` folder of per-run files beside a results folder.
    Work,
}

/// Per-run subfolders of a work or shard folder.
pub(super) const RUN_SUBFOLDERS: [&str; 8] = ["runs", "timeseries", "tasks", "decisions", "subnets", "deployments", "events", "providers"];

/// The runs a plan has done, in its results folder and (while it runs) its work folder.
pub const PLAN_RUNS: &str = "plan-runs.csv";
const PLAN_RUNS_TMP: &str = "plan-runs.csv.tmp";

/// The lock file inside a work or shard folder.
pub const LOCK_FILE: &str = "lock";

impl FolderKind {
    fn marker(self) -> &'static str {
        match self {
            FolderKind::Results | FolderKind::Assembling => RESULTS_MARKER,
            FolderKind::Shard => "shard.json",
            FolderKind::Work => "inputs.txt",
        }
    }

    /// Whether clustersim writes a file at `rel` (one or two components) in a folder of this kind.
    fn owns_file(self, rel: &[&str]) -> bool {
        let csv = |name: &str| name.ends_with(".csv") || name.ends_with(".csv.tmp");
        match (self, rel) {
            (FolderKind::Results | FolderKind::Assembling, [name]) => {
                matches!(
                    *name,
                    "manifest.json"
                        | "runs.csv"
                        | "summary.csv"
                        | "comparison.csv"
                        | "decisions.csv"
                        | "subnets.csv"
                        | "deployments.csv"
                        | "providers.csv"
                        | "plan.csv"
                        | "plan.md"
                        | PLAN_RUNS
                )
            }
            (FolderKind::Results | FolderKind::Assembling, ["timeseries" | "tasks" | "events", name]) => name.ends_with(".csv"),
            (FolderKind::Results | FolderKind::Assembling, ["charts", name]) => name.ends_with(".svg") || name.ends_with(".png"),
            (FolderKind::Shard, ["shard.json" | "shard.json.tmp"]) => true,
            (FolderKind::Work, [PLAN_RUNS | PLAN_RUNS_TMP]) => true,
            (FolderKind::Shard | FolderKind::Work, [name]) => matches!(*name, "inputs.txt" | "inputs.txt.tmp" | LOCK_FILE),
            (FolderKind::Shard | FolderKind::Work, [sub, name]) => RUN_SUBFOLDERS.contains(sub) && csv(name),
            _ => false,
        }
    }

    fn owns_dir(self, name: &str) -> bool {
        match self {
            FolderKind::Results | FolderKind::Assembling => matches!(name, "timeseries" | "tasks" | "events" | "charts"),
            FolderKind::Shard | FolderKind::Work => RUN_SUBFOLDERS.contains(&name),
        }
    }

    /// Whether the marker file's content is clustersim's own format.
    fn marker_is_ours(self, text: &str) -> bool {
        match self {
            FolderKind::Assembling => true,
            FolderKind::Results | FolderKind::Shard => {
                let keys: &[&str] = if self == FolderKind::Results {
                    &["clustersim_version", "inputs_fnv1a64", "base_seed", "runs"]
                } else {
                    &["scenario_fnv1a64", "shard", "record_tasks", "explain"]
                };
                serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| keys.iter().all(|k| v.get(k).is_some()))
            }
            FolderKind::Work => text.starts_with("inputs_fnv1a64="),
        }
    }
}

/// Every entry of `dir` (and of its known subfolders), sorted, relative to `dir`; the first entry
/// clustersim did not write is an error naming it.
fn own_entries(dir: &Path, kind: FolderKind) -> Result<Vec<(PathBuf, bool)>, String> {
    let mut out = Vec::new();
    for name in sorted_names(dir)? {
        let path = dir.join(&name);
        let meta = fs::symlink_metadata(&path).map_err(|e| format!("cannot inspect `{}`: {e}", path.display()))?;
        if meta.is_dir() && kind.owns_dir(&name) {
            for inner in sorted_names(&path)? {
                let file = path.join(&inner);
                let is_file = fs::symlink_metadata(&file).is_ok_and(|m| m.is_file());
                if !is_file || !kind.owns_file(&[&name, &inner]) {
                    return Err(foreign(dir, &file));
                }
                out.push((file, false));
            }
            out.push((path, true));
        } else if meta.is_file() && kind.owns_file(&[&name]) {
            out.push((path, false));
        } else {
            return Err(foreign(dir, &path));
        }
    }
    Ok(out)
}

fn foreign(dir: &Path, entry: &Path) -> String {
    format!(
        "`{}` holds `{}`, which clustersim did not write; refusing to replace or delete it — choose another --out, or move that file away",
        dir.display(),
        entry.display()
    )
}

fn sorted_names(dir: &Path) -> Result<Vec<String>, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot list `{}`: {e}", dir.display()))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list `{}`: {e}", dir.display()))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// Whether `dir` is a folder of `kind` that clustersim wrote: it exists, is a real folder (not a
/// symbolic link), holds only clustersim's files, and, if it holds any file but the lock, a
/// marker in clustersim's own format.
pub fn check_own(dir: &Path, kind: FolderKind) -> Result<(), String> {
    let meta = fs::symlink_metadata(dir).map_err(|e| format!("cannot inspect `{}`: {e}", dir.display()))?;
    if meta.file_type().is_symlink() {
        return Err(format!("`{}` is a symbolic link; give the folder itself", dir.display()));
    }
    if !meta.is_dir() {
        return Err(format!("`{}` exists and is not a folder; choose another --out", dir.display()));
    }
    // A folder whose only files are the lock and a half-written marker has just been claimed: a
    // run was stopped before its marker's atomic rename.
    let entries = own_entries(dir, kind)?;
    let (lock, marker_tmp) = (dir.join(LOCK_FILE), dir.join(format!("{}.tmp", kind.marker())));
    if kind == FolderKind::Assembling || entries.iter().all(|(path, is_dir)| *is_dir || *path == lock || *path == marker_tmp) {
        return Ok(());
    }
    let marker = dir.join(kind.marker());
    match fs::read_to_string(&marker) {
        Ok(text) if kind.marker_is_ours(&text) => Ok(()),
        Ok(_) => Err(format!(
            "`{}` is not a folder clustersim wrote (`{}` is not clustersim's); refusing to replace it — choose another --out",
            dir.display(),
            marker.display()
        )),
        Err(_) => Err(format!(
            "`{}` is not a folder clustersim wrote (no {}); refusing to replace it — choose another --out",
            dir.display(),
            kind.marker()
        )),
    }
}

/// Deletes a folder clustersim wrote ([`check_own`]), file by known file, its marker last; `keep`
/// names top-level entries to leave (the lock), and then the folder itself stays too.
pub fn remove_own(dir: &Path, kind: FolderKind, keep: &[&str]) -> Result<(), String> {
    check_own(dir, kind)?;
    // The marker goes last: a removal interrupted half-way leaves a folder still recognised.
    let marker = dir.join(kind.marker());
    let mut entries = own_entries(dir, kind)?;
    entries.sort_by_key(|(path, _)| *path == marker);
    for (path, is_dir) in entries {
        if path.parent() == Some(dir) && path.file_name().is_some_and(|n| keep.iter().any(|k| n == *k)) {
            continue;
        }
        let removed = if is_dir { fs::remove_dir(&path) } else { fs::remove_file(&path) };
        removed.map_err(|e| format!("cannot delete `{}`: {e}", path.display()))?;
    }
    if keep.is_empty() {
        fs::remove_dir(dir).map_err(|e| format!("cannot delete `{}`: {e}", dir.display()))?;
    }
    Ok(())
}

/// Whether `out` may be (re)written as an output folder of `kind`: its path names a folder (not
/// `.`, `..` or a root), it is not a symbolic link, and it does not exist (and can be created),
/// is empty, or is a folder clustersim wrote ([`check_own`]). Anything else (a file, someone's
/// documents) would be replaced: refuse, saying why.
pub fn check_replaceable(out: &Path, kind: FolderKind) -> Result<(), String> {
    if out.file_name().is_none() {
        return Err(format!("--out `{}` does not name a folder; give one, e.g. results/study", out.display()));
    }
    if fs::symlink_metadata(out).is_err() {
        if let Some(file) = out.ancestors().skip(1).find(|a| a.is_file()) {
            return Err(format!("cannot create `{}`: `{}` is a file", out.display(), file.display()));
        }
        return Ok(());
    }
    check_own(out, kind)
}

/// The folder beside `out` named `.<out's name><suffix>`.
pub fn sibling(out: &Path, suffix: &str) -> PathBuf {
    let name = out.file_name().map_or_else(|| "results".into(), |n| n.to_string_lossy().into_owned());
    parent_of(out).join(format!(".{name}{suffix}"))
}

fn parent_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Writes `text` to `path` under a temporary name (`<path>.tmp`), then renames it into place, so a
/// marker file is either absent or complete however the process ends.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, text).map_err(|e| format!("cannot write `{}`: {e}", tmp.display()))?;
    fs::rename(&tmp, path).map_err(|e| format!("cannot rename `{}` to `{}`: {e}", tmp.display(), path.display()))
}

/// Removes what interrupted runs left beside `out`: `.<name>.tmp-<pid>` folders (a results folder
/// being assembled) and `.<name>.old` (the previous results, moved aside during the final rename;
/// put back if `out` itself is missing). The caller holds the lock on `out`, so no live clustersim
/// process is using them. Returns one line per folder removed or restored, for the user.
pub fn clean_stale(out: &Path) -> Result<Vec<String>, String> {
    let mut notes = Vec::new();
    let parent = parent_of(out);
    if !parent.is_dir() {
        return Ok(notes);
    }
    let name = out.file_name().map_or_else(|| "results".into(), |n| n.to_string_lossy().into_owned());
    let tmp_prefix = format!(".{name}.tmp-");
    for entry in sorted_names(parent)? {
        let Some(pid) = entry.strip_prefix(&tmp_prefix) else { continue };
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let path = parent.join(&entry);
        remove_own(&path, FolderKind::Assembling, &[])?;
        notes.push(format!("removed `{}`, left by an interrupted run (process {pid})", path.display()));
    }
    let old = sibling(out, ".old");
    if fs::symlink_metadata(&old).is_ok() {
        if fs::symlink_metadata(out).is_err() {
            check_own(&old, FolderKind::Results)?;
            fs::rename(&old, out).map_err(|e| format!("cannot move `{}` back to `{}`: {e}", old.display(), out.display()))?;
            notes.push(format!("restored `{}` from `{}`, left by a run interrupted while replacing it", out.display(), old.display()));
        } else {
            remove_own(&old, FolderKind::Results, &[])?;
            notes.push(format!("removed `{}`, left by a run interrupted while replacing `{}`", old.display(), out.display()));
        }
    }
    Ok(notes)
}

pub struct ResultsFolder {
    final_path: PathBuf,
    tmp_path: PathBuf,
    committed: bool,
}

impl ResultsFolder {
    /// Starts a fresh temporary folder beside `final_path`, which must be replaceable
    /// ([`check_replaceable`]): `commit` replaces whatever is there. The caller holds the lock
    /// on `final_path` ([`OutputLock`]).
    pub fn create(final_path: &Path) -> Result<ResultsFolder, String> {
        check_replaceable(final_path, FolderKind::Results)?;
        let parent = parent_of(final_path);
        fs::create_dir_all(parent).map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
        let tmp_path = sibling(final_path, &format!(".tmp-{}", std::process::id()));
        if fs::symlink_metadata(&tmp_path).is_ok() {
            remove_own(&tmp_path, FolderKind::Assembling, &[])?;
        }
        fs::create_dir(&tmp_path).map_err(|e| format!("cannot create `{}`: {e}", tmp_path.display()))?;
        Ok(ResultsFolder { final_path: final_path.to_path_buf(), tmp_path, committed: false })
    }

    /// Where to write files now.
    pub fn path(&self) -> &Path {
        &self.tmp_path
    }

    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// Replaces any previous folder at the final path with the completed one. The previous folder
    /// is moved aside first and deleted file by known file ([`remove_own`]).
    pub fn commit(mut self) -> Result<PathBuf, String> {
        let rename = |from: &Path, to: &Path| {
            fs::rename(from, to).map_err(|e| format!("cannot rename `{}` to `{}`: {e}", from.display(), to.display()))
        };
        if fs::symlink_metadata(&self.final_path).is_ok() {
            check_own(&self.final_path, FolderKind::Results)?;
            let old = sibling(&self.final_path, ".old");
            rename(&self.final_path, &old)?;
            rename(&self.tmp_path, &self.final_path)?;
            self.committed = true;
            remove_own(&old, FolderKind::Results, &[])?;
        } else {
            rename(&self.tmp_path, &self.final_path)?;
            self.committed = true;
        }
        Ok(self.final_path.clone())
    }
}

impl Drop for ResultsFolder {
    fn drop(&mut self) {
        if !self.committed {
            let _ = remove_own(&self.tmp_path, FolderKind::Assembling, &[]);
        }
    }
}

/// An exclusive advisory lock (`flock`-style, through `fs4`) on the file `lock` in a work or
/// shard folder, held while a command writes that folder and its results folder. The kernel
/// releases it when the process ends, however it ends, so a killed run never blocks the next one;
/// the file holds the owner's process id for the message a second run prints.
pub struct OutputLock {
    path: PathBuf,
    file: fs::File,
}

/// "`dir` is in use by …": names the process whose id the lock file holds (empty in the instant
/// between its lock and its write).
fn in_use(dir: &Path, lock: &Path, file: &mut fs::File) -> String {
    use std::io::Read;
    let mut holder = String::new();
    let _ = file.read_to_string(&mut holder);
    let holder = holder.trim();
    let who = if holder.is_empty() { "another clustersim process".to_string() } else { format!("clustersim process {holder}") };
    format!("`{}` is in use by {who} (lock `{}`); wait for it to finish, or choose another --out", dir.display(), lock.display())
}

impl OutputLock {
    /// Whether another process holds the lock in `dir` right now, and the message that says so.
    /// Creates nothing: a folder without a lock file is not in use.
    pub fn held_elsewhere(dir: &Path) -> Option<String> {
        let path = dir.join(LOCK_FILE);
        let mut file = fs::OpenOptions::new().read(true).open(&path).ok()?;
        match fs4::FileExt::try_lock_shared(&file) {
            Err(fs4::TryLockError::WouldBlock) => Some(in_use(dir, &path, &mut file)),
            _ => None,
        }
    }

    /// Takes the lock in `dir` (created if missing), or says which process holds it.
    pub fn acquire(dir: &Path) -> Result<OutputLock, String> {
        use std::io::{Seek, Write};
        let path = dir.join(LOCK_FILE);
        // A previous holder deletes the file when it finishes; a lock taken on a file that was
        // deleted meanwhile protects nothing, so check the path still names the locked file.
        for _ in 0..10 {
            fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
            let mut file = match fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(format!("cannot open `{}`: {e}", path.display())),
            };
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => {}
                Err(fs4::TryLockError::WouldBlock) => {
                    return Err(in_use(dir, &path, &mut file));
                }
                Err(fs4::TryLockError::Error(e)) => return Err(format!("cannot lock `{}`: {e}", path.display())),
            }
            if !same_file(&file, &path) {
                continue;
            }
            let write = (|| {
                file.set_len(0)?;
                file.rewind()?;
                writeln!(file, "{}", std::process::id())
            })();
            write.map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
            return Ok(OutputLock { path, file });
        }
        Err(format!("cannot lock `{}`: it keeps being removed by another process", path.display()))
    }

    /// Deletes the lock file while still holding the lock, then releases it.
    pub fn release(self) -> Result<(), String> {
        let removed = fs::remove_file(&self.path).map_err(|e| format!("cannot delete `{}`: {e}", self.path.display()));
        drop(self.file);
        removed
    }
}

#[cfg(unix)]
fn same_file(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &fs::File, path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results_folder(dir: &Path) {
        fs::create_dir_all(dir.join("timeseries")).unwrap();
        fs::write(dir.join("manifest.json"), r#"{"clustersim_version":"0","inputs_fnv1a64":"1","base_seed":1,"runs":[]}"#).unwrap();
        fs::write(dir.join("runs.csv"), "run_id\n").unwrap();
        fs::write(dir.join("timeseries/p00-r00.csv"), "t\n").unwrap();
    }

    #[test]
    fn a_folder_with_a_foreign_manifest_json_is_not_replaceable() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("docs");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("manifest.json"), "{\"name\": \"my app\"}").unwrap();
        let e = check_replaceable(&out, FolderKind::Results).unwrap_err();
        assert!(e.contains("manifest.json") && e.contains("not clustersim's"), "{e}");
    }

    #[test]
    fn a_results_folder_holding_a_foreign_file_is_refused_naming_it_and_nothing_is_deleted() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("r");
        results_folder(&out);
        fs::write(out.join("notes.txt"), "mine").unwrap();
        let e = check_replaceable(&out, FolderKind::Results).unwrap_err();
        assert!(e.contains("notes.txt"), "{e}");
        assert!(remove_own(&out, FolderKind::Results, &[]).is_err());
        assert_eq!(fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
        assert!(out.join("runs.csv").is_file());
    }

    #[test]
    fn a_results_folder_clustersim_wrote_is_replaceable_and_removable() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("r");
        results_folder(&out);
        check_replaceable(&out, FolderKind::Results).unwrap();
        remove_own(&out, FolderKind::Results, &[]).unwrap();
        assert!(!out.exists());
    }

    #[test]
    fn a_work_folder_stopped_before_its_marker_was_renamed_is_still_ours() {
        // Killed between writing `inputs.txt.tmp` and renaming it: the lock, the run subfolders
        // and the half-written marker. The next run must be able to take it over.
        let tmp = tempfile::tempdir().unwrap();
        let work = tmp.path().join(".r.work");
        fs::create_dir_all(work.join("runs")).unwrap();
        fs::write(work.join(LOCK_FILE), "").unwrap();
        fs::write(work.join("inputs.txt.tmp"), "inputs_fnv1a64=").unwrap();
        check_own(&work, FolderKind::Work).unwrap();
        remove_own(&work, FolderKind::Work, &[LOCK_FILE]).unwrap();
        assert!(!work.join("inputs.txt.tmp").exists() && work.join(LOCK_FILE).exists());
        // A foreign file beside them still makes it someone else's.
        fs::write(work.join("inputs.txt.tmp"), "x").unwrap();
        fs::write(work.join("notes.txt"), "mine").unwrap();
        assert!(check_own(&work, FolderKind::Work).unwrap_err().contains("notes.txt"));
    }

    #[test]
    fn dot_and_a_dangling_symlink_are_not_output_folders() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(check_replaceable(Path::new("."), FolderKind::Results).unwrap_err().contains("does not name a folder"));
        assert!(check_replaceable(Path::new(".."), FolderKind::Results).is_err());
        #[cfg(unix)]
        {
            let link = tmp.path().join("link");
            std::os::unix::fs::symlink(tmp.path().join("nowhere"), &link).unwrap();
            let e = check_replaceable(&link, FolderKind::Results).unwrap_err();
            assert!(e.contains("symbolic link") && e.contains("link"), "{e}");
        }
    }

    #[test]
    fn stale_temporary_folders_are_removed_and_a_stranded_old_folder_is_put_back() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("r");
        results_folder(&tmp.path().join(".r.tmp-999999"));
        results_folder(&tmp.path().join(".r.old"));
        let notes = clean_stale(&out).unwrap();
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(!tmp.path().join(".r.tmp-999999").exists());
        assert!(out.join("manifest.json").is_file() && !tmp.path().join(".r.old").exists());
        results_folder(&tmp.path().join(".r.old"));
        clean_stale(&out).unwrap();
        assert!(!tmp.path().join(".r.old").exists() && out.is_dir());
    }

    #[test]
    fn a_second_lock_on_the_same_folder_is_refused_naming_the_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let first = OutputLock::acquire(tmp.path()).unwrap();
        let e = OutputLock::acquire(tmp.path()).map(|_| ()).unwrap_err();
        assert!(e.contains(&format!("process {}", std::process::id())), "{e}");
        first.release().unwrap();
        OutputLock::acquire(tmp.path()).unwrap().release().unwrap();
        assert!(!tmp.path().join(LOCK_FILE).exists());
    }
}
