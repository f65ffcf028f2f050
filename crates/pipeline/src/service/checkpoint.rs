//! The pipeline's checkpoint: how many bars of the source were published, in a small file
//! replaced atomically and durably (the new file and its directory are fsynced before the
//! count is trusted), so that a restarted pipeline resumes after them even after a crash of
//! the machine.

use std::path::{Path, PathBuf};

/// Why a checkpoint could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The file holds something other than a count.
    #[error("corrupt checkpoint {}: {text:?} is not a count of bars", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What it holds.
        text: String,
    },
    /// Reading, writing, renaming or syncing failed.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done: `read`, `write`, `replace`, `sync directory`.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The blocking task writing the file did not finish.
    #[error("checkpoint task failed: {0}")]
    Task(String),
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError {
    let path = path.to_owned();
    move |source| CheckpointError::Io {
        action,
        path,
        source,
    }
}

/// A checkpoint file (or none: every start begins at the first bar).
#[derive(Debug, Clone)]
pub(super) struct Checkpoint {
    path: Option<PathBuf>,
}

impl Checkpoint {
    /// The checkpoint at `path`.
    pub(super) fn new(path: Option<PathBuf>) -> Self {
        Self { path }
    }

    /// Bars already published (0 without a file).
    pub(super) fn load(&self) -> Result<u64, CheckpointError> {
        let Some(path) = &self.path else {
            return Ok(0);
        };
        match std::fs::read_to_string(path) {
            Ok(text) => text.trim().parse().map_err(|_| CheckpointError::Corrupt {
                path: path.clone(),
                text,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(io("read", path)(e)),
        }
    }

    /// Records that `published` bars were published.
    pub(super) async fn save(&self, published: u64) -> Result<(), CheckpointError> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || write_atomically(&path, published))
            .await
            .map_err(|e| CheckpointError::Task(e.to_string()))?
    }
}

/// Writes `published` to a temporary file, fsyncs it, renames it over `path` and fsyncs the
/// directory, so that after a crash the checkpoint is either the old count or the new one.
fn write_atomically(path: &Path, published: u64) -> Result<(), CheckpointError> {
    use std::io::Write as _;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file = std::fs::File::create(&tmp).map_err(io("write", &tmp))?;
    file.write_all(published.to_string().as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io("write", &tmp))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io("replace", path))?;
    sync_dir(path)
}

/// Fsyncs the directory holding `path`, making a rename in it durable.
fn sync_dir(path: &Path) -> Result<(), CheckpointError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("sync directory", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_saved_count_is_loaded_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let checkpoint = Checkpoint::new(Some(dir.path().join("cp")));
        assert_eq!(checkpoint.load().expect("loads"), 0);
        checkpoint.save(1234).await.expect("saves");
        assert_eq!(checkpoint.load().expect("loads"), 1234);
        assert_eq!(Checkpoint::new(None).load().expect("loads"), 0);
    }

    #[test]
    fn a_corrupt_checkpoint_is_refused_with_its_content() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("cp");
        std::fs::write(&path, "12x").expect("writes");
        let error = Checkpoint::new(Some(path)).load().expect_err("refused");
        assert!(
            matches!(error, CheckpointError::Corrupt { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("\"12x\""), "{error}");
    }
}
