//! Durable controller state in a redb database.
//!
//! redb rather than sled: redb is stable (1.0 in 2023) and crash-safe by
//! default (copy-on-write B-trees, checksummed commits), while sled's last
//! stable release dates from 2021 and its own README calls it beta with
//! space amplification. Later state (statistics history, placements) gets
//! its own tables here.

use redb::{Database, ReadableTable, TableDefinition};
use std::path::Path;

/// Small named values: identity and secrets of this controller.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Key of the LLDP signing key in `META`.
const LLDP_KEY: &str = "lldp_key";

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[error("state database {path}: {message}")]
pub struct StorageError {
    path: String,
    message: String,
}

/// The controller's database.
pub struct Store {
    db: Database,
    path: String,
}

impl Store {
    /// Opens (or creates) the database file, creating its directory.
    pub fn open(path: &Path) -> Result<Store, StorageError> {
        let name = path.display().to_string();
        let err = |e: &dyn std::fmt::Display| StorageError {
            path: name.clone(),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
        }
        let db = Database::create(path).map_err(|e| err(&e))?;
        Ok(Store { db, path: name })
    }

    fn err(&self, e: impl std::fmt::Display) -> StorageError {
        StorageError {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// The LLDP signing key: the stored one, or `fresh()` stored for next
    /// time, so a restarted controller recognises probes still in flight and
    /// instances sharing the database recognise each other's.
    pub fn lldp_key(&self, fresh: impl FnOnce() -> Vec<u8>) -> Result<Vec<u8>, StorageError> {
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        let key = {
            let mut table = txn.open_table(META).map_err(|e| self.err(e))?;
            let stored = table
                .get(LLDP_KEY)
                .map_err(|e| self.err(e))?
                .map(|v| v.value().to_vec());
            match stored {
                Some(k) => k,
                None => {
                    let k = fresh();
                    table
                        .insert(LLDP_KEY, k.as_slice())
                        .map_err(|e| self.err(e))?;
                    k
                }
            }
        };
        txn.commit().map_err(|e| self.err(e))?;
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lldp_key_survives_reopening() {
        let dir = std::env::temp_dir().join(format!("edgeflow-store-{}", std::process::id()));
        let path = dir.join("nested/state.redb");
        let first = Store::open(&path)
            .unwrap()
            .lldp_key(|| vec![1, 2, 3])
            .unwrap();
        let again = Store::open(&path).unwrap().lldp_key(|| vec![9]).unwrap();
        assert_eq!(first, vec![1, 2, 3]);
        assert_eq!(again, first);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn unusable_path_is_an_error() {
        assert!(Store::open(Path::new("/proc/edgeflow/state.redb")).is_err());
    }
}
