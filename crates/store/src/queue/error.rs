//! Why a put was refused; the item comes back with the error.

/// A refused put; the item is handed back so that nothing is lost silently.
#[derive(Debug, thiserror::Error)]
pub enum PutError<T> {
    /// The queue is full and its strategy is `error` (or a `try_put` found no room).
    #[error("queue is full")]
    QueueFull(T),
    /// The queue is closed.
    #[error("queue is closed")]
    Closed(T),
}

impl<T> PutError<T> {
    /// The refused item.
    pub fn into_inner(self) -> T {
        match self {
            Self::QueueFull(item) | Self::Closed(item) => item,
        }
    }
}
