//! Appending records to the dead-letter file: one line per record, its data synced
//! (`fdatasync`) before the append returns — and the directory synced when the file is
//! created, so the file itself survives a crash — on a blocking thread so no async worker
//! stalls on the disk.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use super::{DeadLetterError, DeadLetterRecord};

/// An append-only NDJSON file of [`DeadLetterRecord`]s, created (with its directory) on the
/// first append. Clones share the file.
#[derive(Debug, Clone)]
pub struct DeadLetterFile {
    path: Arc<PathBuf>,
    file: Arc<Mutex<Option<File>>>,
}

impl DeadLetterFile {
    /// A dead-letter file at `path`; nothing is created until the first append.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: Arc::new(path.into()),
            file: Arc::new(Mutex::new(None)),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks that the file can be opened for append (creating its directory if needed),
    /// without leaving a file behind that was not there. A coordinator calls it at start.
    ///
    /// An existing file is opened for append. A missing one is never created here: a probe
    /// file of this process's own is made beside it and removed, so coordinators sharing
    /// one file can check it at the same moment without racing on it.
    pub fn check(&self) -> std::io::Result<()> {
        let dir = match self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                dir
            }
            None => Path::new("."),
        };
        match OpenOptions::new().append(true).open(&*self.path) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            Err(_) => {}
        }
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let probe = dir.join(format!(
            ".{name}.probe-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&probe)?;
        std::fs::remove_file(&probe)
    }

    /// Appends `record` as one line and syncs it to disk.
    pub async fn append(&self, record: &DeadLetterRecord) -> Result<(), DeadLetterError> {
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.append_blocking(&line))
            .await
            .map_err(|e| DeadLetterError::Task(e.to_string()))?
    }

    fn append_blocking(&self, line: &[u8]) -> Result<(), DeadLetterError> {
        let mut guard = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        if guard.is_none() {
            let dir = self.path.parent().filter(|d| !d.as_os_str().is_empty());
            if let Some(dir) = dir {
                std::fs::create_dir_all(dir).map_err(|e| DeadLetterError::io(dir, e))?;
            }
            let created = !self.path.exists();
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&*self.path)
                .map_err(|e| DeadLetterError::io(&*self.path, e))?;
            if created {
                sync_dir(dir.unwrap_or(Path::new(".")))?;
            }
            *guard = Some(file);
        }
        let path = &*self.path;
        let result = guard.as_mut().map_or(Ok(()), |file| {
            file.write_all(line)
                .and_then(|()| file.sync_data())
                .map_err(|e| DeadLetterError::io(path, e))
        });
        if result.is_err() {
            // Reopen on the next append: the handle may be broken.
            *guard = None;
        }
        result
    }
}

/// Syncs the directory entry of a newly created file (a no-op where directories cannot be
/// opened, i.e. off Unix).
fn sync_dir(dir: &Path) -> Result<(), DeadLetterError> {
    if cfg!(unix) {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| DeadLetterError::io(dir, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinators_checking_one_file_at_the_same_moment_all_pass_and_leave_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("shared.ndjson");
        std::thread::scope(|scope| {
            for _ in 0..4 {
                let file = DeadLetterFile::new(path.clone());
                scope.spawn(move || {
                    for _ in 0..300 {
                        file.check().expect("the check passes");
                    }
                });
            }
        });
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("lists")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert!(left.is_empty(), "no file left behind: {left:?}");
    }

    #[test]
    fn an_existing_file_is_kept_as_it_is() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("kept.ndjson");
        std::fs::write(&path, "{}\n").expect("writes");
        DeadLetterFile::new(path.clone()).check().expect("passes");
        assert_eq!(std::fs::read_to_string(&path).expect("reads"), "{}\n");
        std::fs::create_dir(dir.path().join("a-directory")).expect("dir");
        assert!(
            DeadLetterFile::new(dir.path().join("a-directory"))
                .check()
                .is_err()
        );
    }
}
