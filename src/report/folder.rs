//! Results folders are written under a temporary name and renamed into place when complete, so a
//! crash or a bad input never leaves a half-written folder behind.

use std::path::{Path, PathBuf};

/// The file that marks a folder as clustersim's results (a shard folder has `shard.json`).
pub const RESULTS_MARKER: &str = "manifest.json";

/// Whether `out` may be (re)written as an output folder: it does not exist (and can be created),
/// is empty, or holds `marker` — a folder clustersim wrote. Anything else (a file, someone's
/// documents) would be replaced: refuse, saying why.
pub fn check_replaceable(out: &Path, marker: &str) -> Result<(), String> {
    if !out.exists() {
        if let Some(file) = out.ancestors().skip(1).find(|a| a.is_file()) {
            return Err(format!("cannot create `{}`: `{}` is a file", out.display(), file.display()));
        }
        return Ok(());
    }
    if !out.is_dir() {
        return Err(format!("`{}` exists and is not a folder; choose another --out", out.display()));
    }
    let empty = std::fs::read_dir(out).map(|mut d| d.next().is_none()).unwrap_or(false);
    if !empty && !out.join(marker).is_file() {
        return Err(format!(
            "`{}` is not a folder clustersim wrote (no {marker}); refusing to replace it — choose another --out",
            out.display()
        ));
    }
    Ok(())
}

pub struct ResultsFolder {
    final_path: PathBuf,
    tmp_path: PathBuf,
    committed: bool,
}

impl ResultsFolder {
    /// Starts a fresh temporary folder beside `final_path`, which must be replaceable
    /// ([`check_replaceable`]): `commit` replaces whatever is there.
    pub fn create(final_path: &Path) -> std::io::Result<ResultsFolder> {
        check_replaceable(final_path, RESULTS_MARKER).map_err(std::io::Error::other)?;
        let parent = final_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)?;
        let name = final_path.file_name().map_or_else(|| "results".into(), |n| n.to_string_lossy().into_owned());
        let tmp_path = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if tmp_path.exists() {
            std::fs::remove_dir_all(&tmp_path)?;
        }
        std::fs::create_dir_all(&tmp_path)?;
        Ok(ResultsFolder { final_path: final_path.to_path_buf(), tmp_path, committed: false })
    }

    /// Where to write files now.
    pub fn path(&self) -> &Path {
        &self.tmp_path
    }

    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// Replaces any previous folder at the final path with the completed one.
    pub fn commit(mut self) -> std::io::Result<PathBuf> {
        if self.final_path.exists() {
            let old = self.tmp_path.with_extension("old");
            std::fs::rename(&self.final_path, &old)?;
            std::fs::rename(&self.tmp_path, &self.final_path)?;
            std::fs::remove_dir_all(&old)?;
        } else {
            std::fs::rename(&self.tmp_path, &self.final_path)?;
        }
        self.committed = true;
        Ok(self.final_path.clone())
    }
}

impl Drop for ResultsFolder {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp_path);
        }
    }
}
