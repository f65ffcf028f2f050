//! The pipeline's checkpoint: how many bars of the source were published, in a small file
//! replaced atomically, so that a restarted pipeline resumes after them.

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

fn write_atomically(path: &Path, published: u64) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, published.to_string())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))
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
