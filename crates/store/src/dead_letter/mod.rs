//! The dead-letter file: batches that could not be written, one NDJSON record per line with
//! the bars in lossless JSON, the error and the time; and [`replay`], which writes them back
//! through a sink.

mod error;
mod file;
mod record;
mod replay;

pub use error::DeadLetterError;
pub use file::DeadLetterFile;
pub use record::DeadLetterRecord;
pub use replay::{ReplayReport, read_records, replay};
