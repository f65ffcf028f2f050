//! The pipeline's checkpoint: how many bars of the source were published, in a small file
//! replaced atomically and durably (the new file and its directory are fsynced before the
//! count is trusted), so that a restarted pipeline resumes after them even after a crash of
//! the machine.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// A checkpoint file (or none: every start begins at the first bar).
#[derive(Debug, Clone)]
pub struct Checkpoint {
    path: Option<PathBuf>,
}

impl Checkpoint {
    /// The checkpoint at `path`.
    pub fn new(path: Option<PathBuf>) -> Self {
        Self { path }
    }

    /// Bars already published (0 without a file).
    pub fn load(&self) -> anyhow::Result<u64> {
        let Some(path) = &self.path else {
            return Ok(0);
        };
        match std::fs::read_to_string(path) {
            Ok(text) => text
                .trim()
                .parse()
                .with_context(|| format!("corrupt checkpoint {}: {text:?}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Records that `published` bars were published.
    pub async fn save(&self, published: u64) -> anyhow::Result<()> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || write_atomically(&path, published))
            .await
            .context("checkpoint task failed")?
    }
}

/// Writes `published` to a temporary file, fsyncs it, renames it over `path` and fsyncs the
/// directory, so that after a crash the checkpoint is either the old count or the new one.
fn write_atomically(path: &Path, published: u64) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(published.to_string().as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    drop(file);
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    sync_dir(path)
}

/// Fsyncs the directory holding `path`, making a rename in it durable.
fn sync_dir(path: &Path) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync directory {}", dir.display()))
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
}
