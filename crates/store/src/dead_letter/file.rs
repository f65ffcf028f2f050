//! Appending records to the dead-letter file: one line per record, synced before the append
//! returns, on a blocking thread so no async worker stalls on the disk.

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
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| DeadLetterError::io(dir, e))?;
            }
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&*self.path)
                .map_err(|e| DeadLetterError::io(&*self.path, e))?;
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
