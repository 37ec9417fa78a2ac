//! Results folders are written under a temporary name and renamed into place when complete, so a
//! crash or a bad input never leaves a half-written folder behind.

use std::path::{Path, PathBuf};

pub struct ResultsFolder {
    final_path: PathBuf,
    tmp_path: PathBuf,
    committed: bool,
}

impl ResultsFolder {
    /// Starts a fresh temporary folder beside `final_path`.
    pub fn create(final_path: &Path) -> std::io::Result<ResultsFolder> {
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
