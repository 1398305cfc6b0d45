//! A data subject's rights at the FFI edge: a client's data for their request, the right to
//! erasure ("forget this client"), and the whole book written to a file the app then shares
//! (JSON or CSV).

use crate::error::bad;
use crate::{ApiError, ClientBook, id};

#[uniffi::export]
impl ClientBook {
    /// Everything the book holds about one client, as JSON.
    pub fn export_client(&self, client_id: String) -> Result<String, ApiError> {
        let v = self.store()?.export_client(id(&client_id)?)?;
        Ok(serde_json::to_string_pretty(&v).unwrap_or_default())
    }

    /// Forgets a client for good: gone from this book at once, and from the server and every
    /// other device at their next sync. Not undoable; the app asks first.
    pub fn forget_client(&self, client_id: String) -> Result<(), ApiError> {
        let client = id(&client_id)?;
        self.store()?.forget_client(client)?;
        self.notify(vec![client]);
        Ok(())
    }

    /// Writes the whole book to `path` as `json` or `csv`; returns how many clients it wrote.
    pub fn export_book(&self, path: String, format: String) -> Result<u32, ApiError> {
        let file = std::fs::File::create(&path).map_err(|e| ApiError::Storage {
            detail: format!("cannot write the export: {}", e.kind()),
        })?;
        let mut w = std::io::BufWriter::new(file);
        let store = self.store()?;
        let n = match format.as_str() {
            "json" => store.export_book_json(&mut w)?,
            "csv" => store.export_book_csv(&mut w)?,
            _ => return Err(bad("format", "expected json or csv")),
        };
        std::io::Write::flush(&mut w).map_err(|e| ApiError::Storage {
            detail: format!("cannot write the export: {}", e.kind()),
        })?;
        Ok(n as u32)
    }
}
