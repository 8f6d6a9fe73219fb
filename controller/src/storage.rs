//! Durable controller state in a redb database.
//!
//! redb rather than sled: redb is stable (1.0 in 2023) and crash-safe by
//! default (copy-on-write B-trees, checksummed commits), while sled's last
//! stable release dates from 2021 and its own README calls it beta with
//! space amplification. Each kind of state has its own tables here: the
//! controller's identity, port-rate history at two resolutions, and the
//! records the API writes (Kubernetes nodes, placement batches) as JSON by
//! key, written in order by a thread of their own ([`spawn_record_writer`]).

use crate::stats::PortRates;
use crate::topology::PortRef;
use redb::{Database, ReadableTable, TableDefinition};
use std::ops::Range;
use std::path::Path;
use std::sync::{mpsc, Arc};
use tracing::warn;

/// The rates of a switch's ports per (dpid, unix milliseconds), one row per
/// poll: a row is a list of (port number as u32 LE, encoded [`PortRates`]).
/// One row per switch rather than per port: 1,000 switches of 48 ports
/// make 1,000 B-tree inserts a second instead of 48,000.
const RATES_SECOND: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("switch_rates_1s");
/// The same per minute, averaged.
const RATES_MINUTE: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("switch_rates_1m");
/// The tables of an earlier layout (one row per port), dropped at open.
const OLD_TABLES: [&str; 2] = ["port_rates_1s", "port_rates_1m"];
/// Bytes of one encoded [`PortRates`]: seven little-endian f64 (NaN for an unknown speed).
const RATES_LEN: usize = 56;
/// Bytes of one port's entry in a row: its number and its rates.
const ENTRY_LEN: usize = 4 + RATES_LEN;

/// The resolution of a rate history table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// One row per poll.
    Poll,
    /// One row per minute, averaged.
    Minute,
}

impl Resolution {
    fn table(self) -> TableDefinition<'static, (u64, u64), &'static [u8]> {
        match self {
            Resolution::Poll => RATES_SECOND,
            Resolution::Minute => RATES_MINUTE,
        }
    }
}

fn encode(r: &PortRates) -> [u8; RATES_LEN] {
    let fields = [
        r.rx_bps,
        r.tx_bps,
        r.rx_pps,
        r.tx_pps,
        r.drops_ps,
        r.errors_ps,
        r.speed_bps.unwrap_or(f64::NAN),
    ];
    let mut out = [0u8; RATES_LEN];
    for (chunk, v) in out.chunks_exact_mut(8).zip(fields) {
        chunk.copy_from_slice(&v.to_le_bytes());
    }
    out
}

fn decode(b: &[u8]) -> Option<PortRates> {
    if b.len() != RATES_LEN {
        return None;
    }
    let f = |i: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[i * 8..i * 8 + 8]);
        f64::from_le_bytes(a)
    };
    Some(PortRates {
        rx_bps: f(0),
        tx_bps: f(1),
        rx_pps: f(2),
        tx_pps: f(3),
        drops_ps: f(4),
        errors_ps: f(5),
        speed_bps: Some(f(6)).filter(|u| !u.is_nan()),
    })
}

/// The kinds of records the API writes, each a table of JSON values by key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// Kubernetes nodes by name.
    Node,
    /// Placement batches by id.
    Placement,
}

impl Record {
    fn table(self) -> TableDefinition<'static, &'static str, &'static [u8]> {
        match self {
            Record::Node => TableDefinition::new("nodes"),
            Record::Placement => TableDefinition::new("placements"),
        }
    }
}

/// The database's page cache.
const CACHE_BYTES: usize = 32 << 20;

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
        // redb caches up to 1 GiB of pages by default; the history is
        // written once and rarely read, so a small cache does.
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| err(&e))?;
        let txn = db.begin_write().map_err(|e| err(&e))?;
        for old in OLD_TABLES {
            let def: TableDefinition<(u64, u32, u64), &[u8]> = TableDefinition::new(old);
            txn.delete_table(def).map_err(|e| err(&e))?;
        }
        txn.commit().map_err(|e| err(&e))?;
        Ok(Store { db, path: name })
    }

    fn err(&self, e: impl std::fmt::Display) -> StorageError {
        StorageError {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }
}

impl StorageError {
    /// The record writer thread has stopped.
    pub fn unavailable() -> StorageError {
        StorageError {
            path: "(record writer)".into(),
            message: "the writer thread has stopped".into(),
        }
    }
}

impl Store {
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

impl Store {
    /// Stores (`Some`) or deletes (`None`) one record, in one transaction.
    pub fn put_record(
        &self,
        kind: Record,
        key: &str,
        value: Option<&[u8]>,
    ) -> Result<(), StorageError> {
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut table = txn.open_table(kind.table()).map_err(|e| self.err(e))?;
            match value {
                Some(v) => table.insert(key, v).map(drop),
                None => table.remove(key).map(drop),
            }
            .map_err(|e| self.err(e))?;
        }
        txn.commit().map_err(|e| self.err(e))
    }

    /// Every record of a kind, by key.
    pub fn records(&self, kind: Record) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = match txn.open_table(kind.table()) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(self.err(e)),
        };
        let rows = table.iter().map_err(|e| self.err(e))?;
        rows.map(|row| {
            let (k, v) = row.map_err(|e| self.err(e))?;
            Ok((k.value().to_string(), v.value().to_vec()))
        })
        .collect()
    }
}

/// One record write and what to do once it is durable (or failed).
pub struct RecordWrite {
    /// Which table.
    pub kind: Record,
    /// The key.
    pub key: String,
    /// The JSON value, or None to delete.
    pub value: Option<Vec<u8>>,
    /// Called with the outcome.
    pub done: Box<dyn FnOnce(Result<(), StorageError>) + Send>,
}

/// A thread that writes records in the order given, so the event loop
/// never waits on a commit and a later write never lands before an earlier one.
pub fn spawn_record_writer(store: Arc<Store>) -> mpsc::Sender<RecordWrite> {
    let (tx, rx) = mpsc::channel::<RecordWrite>();
    std::thread::Builder::new()
        .name("edgeflow-records".into())
        .spawn(move || {
            for w in rx {
                let result = store.put_record(w.kind, &w.key, w.value.as_deref());
                if let Err(e) = &result {
                    warn!(error = %e, key = w.key, "storing a record failed");
                }
                (w.done)(result);
            }
        })
        .expect("spawning the record writer thread");
    tx
}

impl Store {
    /// Appends one round of rates taken at `unix_ms`, in one transaction
    /// (a crash loses at most the round being written).
    pub fn append_rates(
        &self,
        resolution: Resolution,
        unix_ms: u64,
        rates: &[(PortRef, PortRates)],
    ) -> Result<(), StorageError> {
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut table = txn
                .open_table(resolution.table())
                .map_err(|e| self.err(e))?;
            // One row per switch, in datapath order, each switch's ports in
            // the order given, built in one buffer.
            let mut order: Vec<usize> = (0..rates.len()).collect();
            order.sort_by_key(|&i| rates[i].0.dpid);
            let mut row = Vec::new();
            for ports in order.chunk_by(|&a, &b| rates[a].0.dpid == rates[b].0.dpid) {
                row.clear();
                for &i in ports {
                    let (p, r) = &rates[i];
                    row.extend_from_slice(&p.port.to_le_bytes());
                    row.extend_from_slice(&encode(r));
                }
                let dpid = rates[ports[0]].0.dpid;
                table
                    .insert((dpid, unix_ms), row.as_slice())
                    .map_err(|e| self.err(e))?;
            }
        }
        txn.commit().map_err(|e| self.err(e))
    }

    /// Deletes the rows older than `before_unix_ms`: one range per switch,
    /// found by skipping from one datapath id to the next, so the cost
    /// follows the rows deleted, not the rows kept.
    pub fn expire_rates(
        &self,
        resolution: Resolution,
        before_unix_ms: u64,
    ) -> Result<(), StorageError> {
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut table = txn
                .open_table(resolution.table())
                .map_err(|e| self.err(e))?;
            let mut next = Some(0u64);
            while let Some(from) = next {
                let first = table
                    .range((from, 0)..)
                    .map_err(|e| self.err(e))?
                    .next()
                    .transpose()
                    .map_err(|e| self.err(e))?
                    .map(|(k, _)| k.value().0);
                let Some(dpid) = first else { break };
                table
                    .retain_in((dpid, 0)..(dpid, before_unix_ms), |_, _| false)
                    .map_err(|e| self.err(e))?;
                next = dpid.checked_add(1);
            }
        }
        txn.commit().map_err(|e| self.err(e))
    }

    /// The stored rates of one port with timestamps in `window` (unix ms).
    pub fn rate_history(
        &self,
        resolution: Resolution,
        port: PortRef,
        window: Range<u64>,
    ) -> Result<Vec<(u64, PortRates)>, StorageError> {
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = match txn.open_table(resolution.table()) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(self.err(e)),
        };
        let range = (port.dpid, window.start)..(port.dpid, window.end);
        let mut out = Vec::new();
        for row in table.range(range).map_err(|e| self.err(e))? {
            let (k, v) = row.map_err(|e| self.err(e))?;
            let entry = v
                .value()
                .chunks_exact(ENTRY_LEN)
                .find(|e| e[..4] == port.port.to_le_bytes());
            if let Some(r) = entry.and_then(|e| decode(&e[4..])) {
                out.push((k.value().1, r));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rates(x: f64) -> PortRates {
        PortRates {
            rx_bps: x,
            tx_bps: 2.0 * x,
            rx_pps: 3.0,
            tx_pps: 4.0,
            drops_ps: 0.0,
            errors_ps: 0.5,
            speed_bps: (x > 0.0).then_some(1e7),
        }
    }

    #[test]
    fn rate_history_survives_reopening_and_expires() {
        let dir = std::env::temp_dir().join(format!("edgeflow-hist-{}", std::process::id()));
        let path = dir.join("state.redb");
        let (a, b) = (PortRef { dpid: 1, port: 1 }, PortRef { dpid: 1, port: 2 });
        let c = PortRef { dpid: 9, port: 1 };
        {
            let store = Store::open(&path).unwrap();
            for t in 0..5u64 {
                store
                    .append_rates(
                        Resolution::Poll,
                        1000 * t,
                        &[(a, rates(t as f64)), (b, rates(9.0)), (c, rates(7.0))],
                    )
                    .unwrap();
            }
        }
        let store = Store::open(&path).unwrap();
        let h = store
            .rate_history(Resolution::Poll, a, 0..u64::MAX)
            .unwrap();
        assert_eq!(h.len(), 5);
        assert_eq!(h[3], (3000, rates(3.0)));
        assert_eq!(h[0].1.speed_bps, None, "unknown speed stays unknown");
        store.expire_rates(Resolution::Poll, 2000).unwrap();
        assert_eq!(
            store
                .rate_history(Resolution::Poll, c, 0..u64::MAX)
                .unwrap()
                .len(),
            3,
            "every switch's rows expire"
        );
        let h = store
            .rate_history(Resolution::Poll, a, 0..u64::MAX)
            .unwrap();
        assert_eq!(
            h.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
            vec![2000, 3000, 4000]
        );
        assert_eq!(
            store
                .rate_history(Resolution::Poll, b, 0..2500)
                .unwrap()
                .len(),
            1
        );
        assert!(store
            .rate_history(Resolution::Minute, a, 0..u64::MAX)
            .unwrap()
            .is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }

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
    fn records_survive_reopening_and_deletes() {
        let dir = std::env::temp_dir().join(format!("edgeflow-records-{}", std::process::id()));
        let path = dir.join("state.redb");
        {
            let store = Store::open(&path).unwrap();
            assert!(store.records(Record::Node).unwrap().is_empty());
            store.put_record(Record::Node, "n1", Some(b"{}")).unwrap();
            store.put_record(Record::Node, "n2", Some(b"[]")).unwrap();
            store
                .put_record(Record::Placement, "b1", Some(b"1"))
                .unwrap();
            store.put_record(Record::Node, "n1", None).unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.records(Record::Node).unwrap(),
            vec![("n2".to_string(), b"[]".to_vec())]
        );
        assert_eq!(store.records(Record::Placement).unwrap().len(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn unusable_path_is_an_error() {
        assert!(Store::open(Path::new("/proc/edgeflow/state.redb")).is_err());
    }
}
