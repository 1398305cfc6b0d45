//! WAL checkpoints off the write path.
//!
//! SQLite's automatic checkpoint runs inside whichever commit crosses the threshold, so one write
//! in a few dozen pays for copying the whole WAL back into the database (measured here: a p99 of
//! 7.8 ms for single-client writes whose median is 0.5 ms). Instead, the store counts its commits
//! and every so often asks a thread of its own to run a PASSIVE checkpoint through a second
//! connection. A checkpoint writes no data of its own, so this keeps the rule of one writer.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::thread::JoinHandle;

use rusqlite::{Connection, Transaction};

use crate::error::Result;

/// Commits between two checkpoint requests: about 1.5 MB of WAL at a typical write.
const COMMITS_PER_CHECKPOINT: u32 = 64;

pub(crate) struct Checkpointer {
    commits: AtomicU32,
    wake: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the checkpoint thread for the database at `path` and turns off automatic
    /// checkpoints on `conn`.
    pub(crate) fn start(
        conn: &Connection,
        path: &Path,
        key: Option<&super::BookKey>,
    ) -> Result<Checkpointer> {
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let other = Connection::open(path)?;
        if let Some(key) = key {
            super::cipher::apply_key(&other, key)?;
        }
        other.busy_timeout(std::time::Duration::from_secs(5))?;
        let (wake, requests) = mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("kartka-checkpoint".into())
            .spawn(move || {
                while requests.recv().is_ok() {
                    if let Err(e) =
                        other.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::warn!(error = %e, "background checkpoint failed");
                    }
                }
            })?;
        Ok(Checkpointer {
            commits: AtomicU32::new(0),
            wake: Some(wake),
            thread: Some(thread),
        })
    }

    /// Commits `tx` and, every so many commits, wakes the checkpoint thread.
    pub(crate) fn commit(&self, tx: Transaction<'_>) -> Result<()> {
        tx.commit()?;
        if self.commits.fetch_add(1, Ordering::Relaxed) + 1 >= COMMITS_PER_CHECKPOINT {
            self.commits.store(0, Ordering::Relaxed);
            if let Some(wake) = &self.wake {
                // Full: a checkpoint is already pending, which is as good.
                if let Err(TrySendError::Disconnected(())) = wake.try_send(()) {
                    tracing::warn!("checkpoint thread is gone");
                }
            }
        }
        Ok(())
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.wake.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
