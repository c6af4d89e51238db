//! Embedded mode's in-process queue.
use apalis::prelude::*;
use futures::{SinkExt, StreamExt};
use std::sync::Arc;

/// Where jobs are pushed in embedded mode.
pub type Sender<T> = futures::channel::mpsc::UnboundedSender<Task<T>>;

/// A channel pair wrapped as apalis storage. The API keeps the plain sender:
/// apalis-core 1.0's `MemorySink` panics under concurrent pushes.
pub fn storage<T: Send + 'static>() -> (Sender<T>, MemoryStorage<T>) {
    let (tx, rx) = futures::channel::mpsc::unbounded::<Task<T>>();
    let sink: Box<dyn futures::Sink<Task<T>, Error = MemoryStorageError> + Send + Sync + Unpin> =
        Box::new(tx.clone().sink_map_err(MemoryStorageError::from));
    let sink = MemorySink::new(Arc::new(futures::lock::Mutex::new(sink)));
    (tx, MemoryStorage::new_with(sink, rx.boxed()))
}
