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
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::{mpsc, Arc};
use tracing::{info, warn};

/// Rate history: the rates of a switch's ports per (unix milliseconds, dpid),
/// one row per poll or minute, a row a list of port entries
/// ([`encode_entry`]). One row per switch rather than per port: 1,000
/// switches of 48 ports make 1,000 B-tree inserts a second instead of
/// 48,000. Time first: a round's rows are appended together at the end of
/// the tree, where keyed by switch first they went to a thousand leaves,
/// each copied on write (four times the bytes written per round).
///
/// Each resolution's rows are split into tables by span of time
/// ([`Resolution::span_ms`]), named by prefix and start, and expire a table
/// at a time: deleting rows one by one took redb 1.4-2.4 s for a minute of
/// polls at 1,000 switches (60,000 rows), once a minute.
const POLL_TABLES: &str = "switch_rates_1s_v3/";
/// The minute averages' tables.
const MINUTE_TABLES: &str = "switch_rates_1m_v3/";
/// The tables of the first layout (one row per port, sessions 1-3), dropped
/// at open since session 4.
const DROPPED_TABLES: [&str; 2] = ["port_rates_1s", "port_rates_1m"];

/// How the rows of an earlier rate table are laid out.
#[derive(Debug, Clone, Copy)]
enum OldLayout {
    /// Keyed (dpid, unix ms), entries of a port number and seven f64 (the
    /// speed NaN when unknown), 60 bytes each.
    SwitchFirst,
    /// Keyed (unix ms, dpid), entries as now, all times in one table.
    OneTable,
}

/// The tables of earlier layouts whose rows are moved into the current
/// tables at open (and then dropped).
const MIGRATED_TABLES: [(&str, Resolution, OldLayout); 4] = [
    ("switch_rates_1s", Resolution::Poll, OldLayout::SwitchFirst),
    (
        "switch_rates_1m",
        Resolution::Minute,
        OldLayout::SwitchFirst,
    ),
    ("switch_rates_1s_v2", Resolution::Poll, OldLayout::OneTable),
    (
        "switch_rates_1m_v2",
        Resolution::Minute,
        OldLayout::OneTable,
    ),
];
/// Bytes of a port's entry in [`OldLayout::SwitchFirst`].
const OLD_ENTRY_LEN: usize = 60;

/// How many values a port's entry may hold ([`to_fields`]).
const FIELDS: usize = 7;
/// The place of the speed, the one value that may be unknown.
const SPEED: usize = 6;

/// The resolution of a rate history table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// One row per poll.
    Poll,
    /// One row per minute, averaged.
    Minute,
}

type RatesTable<'a> = TableDefinition<'a, (u64, u64), &'static [u8]>;

impl Resolution {
    /// The span of time one table holds: rows are kept at least as long as
    /// asked, and at most one span longer.
    pub fn span_ms(self) -> u64 {
        match self {
            Resolution::Poll => 10 * 60_000,
            Resolution::Minute => 24 * 3_600_000,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Resolution::Poll => POLL_TABLES,
            Resolution::Minute => MINUTE_TABLES,
        }
    }

    /// The name of the table holding the rows of time `unix_ms`.
    fn table_name(self, unix_ms: u64) -> String {
        format!(
            "{}{:020}",
            self.prefix(),
            unix_ms - unix_ms % self.span_ms()
        )
    }

    /// The start of a table's span, if the name is one of this resolution's.
    fn table_start(self, name: &str) -> Option<u64> {
        let start = name.strip_prefix(self.prefix())?.parse().ok()?;
        // Only names this code made: the name is rebuilt from the start.
        (self.table_name(start) == name).then_some(start)
    }
}

/// A port's rates as an entry's values, in the order of its field mask.
fn to_fields(r: &PortRates) -> [Option<f64>; FIELDS] {
    [
        Some(r.rx_bps),
        Some(r.tx_bps),
        Some(r.rx_pps),
        Some(r.tx_pps),
        Some(r.drops_ps),
        Some(r.errors_ps),
        r.speed_bps,
    ]
}

/// The inverse of [`to_fields`]: a rate left out is zero.
fn from_fields(f: [Option<f64>; FIELDS]) -> PortRates {
    let rate = |i: usize| f[i].unwrap_or(0.0);
    PortRates {
        rx_bps: rate(0),
        tx_bps: rate(1),
        rx_pps: rate(2),
        tx_pps: rate(3),
        drops_ps: rate(4),
        errors_ps: rate(5),
        speed_bps: f[SPEED],
    }
}

/// Appends one port's entry to a row: the port number (u32 LE), a byte
/// whose bit i says that value i of [`to_fields`] follows, then those
/// values as f64 LE. A rate of zero is left out (compared bitwise, so -0.0
/// is kept) and so is an unknown speed: most ports of a fabric are idle
/// most seconds, and an idle port's entry is 13 bytes (every entry was 60 in
/// the fixed layout before; one with every value is 61).
fn encode_entry(port: u32, r: &PortRates, row: &mut Vec<u8>) {
    row.extend_from_slice(&port.to_le_bytes());
    let mask_at = row.len();
    row.push(0);
    let mut mask = 0u8;
    for (i, v) in to_fields(r).into_iter().enumerate() {
        if let Some(v) = v.filter(|v| i == SPEED || v.to_bits() != 0) {
            mask |= 1 << i;
            row.extend_from_slice(&v.to_le_bytes());
        }
    }
    row[mask_at] = mask;
}

/// The entries of a row in order; a truncated or unknown entry ends it.
fn entries(mut row: &[u8]) -> impl Iterator<Item = (u32, PortRates)> + '_ {
    std::iter::from_fn(move || {
        let (head, rest) = row.split_first_chunk::<5>()?;
        let mask = head[4];
        let len = 8 * mask.count_ones() as usize;
        if mask >> FIELDS != 0 || rest.len() < len {
            return None;
        }
        let (mut values, next) = rest.split_at(len);
        row = next;
        let mut fields = [None; FIELDS];
        for (i, field) in fields.iter_mut().enumerate() {
            if mask & (1 << i) != 0 {
                let (v, tail) = values.split_first_chunk::<8>()?;
                *field = Some(f64::from_le_bytes(*v));
                values = tail;
            }
        }
        let port = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        Some((port, from_fields(fields)))
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
        for old in DROPPED_TABLES {
            let def: TableDefinition<(u64, u32, u64), &[u8]> = TableDefinition::new(old);
            txn.delete_table(def).map_err(|e| err(&e))?;
        }
        let existing: Vec<String> = txn
            .list_tables()
            .map_err(|e| err(&e))?
            .map(|t| redb::TableHandle::name(&t).to_string())
            .collect();
        for (old, resolution, layout) in MIGRATED_TABLES {
            if existing.iter().any(|n| n == old) {
                let rows = migrate(&txn, old, resolution, layout).map_err(|e| err(&e))?;
                info!(
                    table = old,
                    rows, "rate history moved to the current layout"
                );
            }
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

/// Moves the rows of an earlier layout's table into the current tables and
/// drops it; returns the rows moved.
// redb's own error, large but returned once, at open.
#[allow(clippy::result_large_err)]
fn migrate(
    txn: &redb::WriteTransaction,
    old: &str,
    resolution: Resolution,
    layout: OldLayout,
) -> Result<u64, redb::Error> {
    let old_def: RatesTable = TableDefinition::new(old);
    let mut rows = 0;
    {
        let from = txn.open_table(old_def)?;
        // The tables a row may go to, open together: the old rows come in
        // switch order, so consecutive rows land in different tables.
        let mut to: HashMap<u64, redb::Table<(u64, u64), &[u8]>> = HashMap::new();
        let mut entry = Vec::new();
        for row in from.iter()? {
            let (k, v) = row?;
            let ((unix_ms, dpid), value) = match layout {
                OldLayout::SwitchFirst => {
                    let (dpid, unix_ms) = k.value();
                    entry.clear();
                    for e in v.value().chunks_exact(OLD_ENTRY_LEN) {
                        let port = u32::from_le_bytes([e[0], e[1], e[2], e[3]]);
                        let mut f = [None; FIELDS];
                        for (field, b) in f.iter_mut().zip(e[4..].chunks_exact(8)) {
                            *field = Some(f64::from_le_bytes(b.try_into().expect("8 bytes")));
                        }
                        // An unknown speed was written as NaN.
                        f[SPEED] = f[SPEED].filter(|x| !x.is_nan());
                        encode_entry(port, &from_fields(f), &mut entry);
                    }
                    ((unix_ms, dpid), entry.as_slice())
                }
                OldLayout::OneTable => (k.value(), v.value()),
            };
            let start = unix_ms - unix_ms % resolution.span_ms();
            let table = match to.entry(start) {
                std::collections::hash_map::Entry::Occupied(t) => t.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    let name = resolution.table_name(unix_ms);
                    slot.insert(txn.open_table(RatesTable::new(&name))?)
                }
            };
            table.insert((unix_ms, dpid), value)?;
            rows += 1;
        }
    }
    txn.delete_table(old_def)?;
    Ok(rows)
}

/// The starts of a resolution's tables among `tables`, in order.
fn rate_tables(
    tables: impl Iterator<Item = redb::UntypedTableHandle>,
    resolution: Resolution,
) -> Vec<u64> {
    let mut starts: Vec<u64> = tables
        .filter_map(|t| resolution.table_start(redb::TableHandle::name(&t)))
        .collect();
    starts.sort_unstable();
    starts
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
            let name = resolution.table_name(unix_ms);
            let mut table = txn
                .open_table(RatesTable::new(&name))
                .map_err(|e| self.err(e))?;
            // One row per switch, in datapath order, built in one buffer. A
            // round lists each switch's ports together (one reply each), so
            // only the switches are sorted; a switch listed twice gets one
            // row, its ports in the order given.
            let mut switches: Vec<&[(PortRef, PortRates)]> =
                rates.chunk_by(|a, b| a.0.dpid == b.0.dpid).collect();
            switches.sort_by_key(|s| s[0].0.dpid);
            let mut row = Vec::new();
            for same in switches.chunk_by(|a, b| a[0].0.dpid == b[0].0.dpid) {
                row.clear();
                for (p, r) in same.iter().copied().flatten() {
                    encode_entry(p.port, r, &mut row);
                }
                table
                    .insert((unix_ms, same[0][0].0.dpid), row.as_slice())
                    .map_err(|e| self.err(e))?;
            }
        }
        txn.commit().map_err(|e| self.err(e))
    }

    /// Deletes the tables whose whole span is older than `before_unix_ms`.
    pub fn expire_rates(
        &self,
        resolution: Resolution,
        before_unix_ms: u64,
    ) -> Result<(), StorageError> {
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        let tables = txn.list_tables().map_err(|e| self.err(e))?;
        for start in rate_tables(tables, resolution) {
            if start.saturating_add(resolution.span_ms()) > before_unix_ms {
                break;
            }
            let name = resolution.table_name(start);
            txn.delete_table(RatesTable::new(&name))
                .map_err(|e| self.err(e))?;
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
        let tables = txn.list_tables().map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for start in rate_tables(tables, resolution) {
            let end = start.saturating_add(resolution.span_ms());
            if end <= window.start || start >= window.end {
                continue;
            }
            let name = resolution.table_name(start);
            let table = txn
                .open_table(RatesTable::new(&name))
                .map_err(|e| self.err(e))?;
            // Each round's time, then the switch's row in it: two lookups
            // per round, whatever the number of switches.
            let mut from = window.start.max(start);
            let until = window.end.min(end);
            while from < until {
                let next = table
                    .range((from, 0)..(until, 0))
                    .map_err(|e| self.err(e))?
                    .next()
                    .transpose()
                    .map_err(|e| self.err(e))?
                    .map(|(k, _)| k.value().0);
                let Some(t) = next else { break };
                if let Some(row) = table.get((t, port.dpid)).map_err(|e| self.err(e))? {
                    let found = entries(row.value()).find(|(p, _)| *p == port.port);
                    if let Some((_, r)) = found {
                        out.push((t, r));
                    }
                }
                from = t + 1;
            }
        }
        Ok(out)
    }
}

impl edgeflow_api::RateHistory for Store {
    fn port_history(
        &self,
        dpid: u64,
        port_no: u32,
        resolution: edgeflow_api::model::HistoryResolution,
        window: Range<u64>,
    ) -> Result<Vec<edgeflow_api::model::RateSample>, String> {
        use edgeflow_api::model::{HistoryResolution, RateSample};
        let resolution = match resolution {
            HistoryResolution::Poll => Resolution::Poll,
            HistoryResolution::Minute => Resolution::Minute,
        };
        let port = PortRef {
            dpid,
            port: port_no,
        };
        let samples = self
            .rate_history(resolution, port, window)
            .map_err(|e| e.to_string())?;
        Ok(samples
            .into_iter()
            .map(|(unix_ms, rates)| RateSample { unix_ms, rates })
            .collect())
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
    fn entries_keep_every_value_and_leave_zeros_out() {
        let idle = PortRates {
            speed_bps: Some(1e10),
            ..PortRates::ZERO
        };
        let odd = PortRates {
            rx_bps: -0.0,
            tx_bps: f64::INFINITY,
            speed_bps: None,
            ..rates(5.0)
        };
        let mut row = Vec::new();
        encode_entry(3, &idle, &mut row);
        assert_eq!(
            row.len(),
            13,
            "an idle port is its number, a mask and its speed"
        );
        encode_entry(u32::MAX, &odd, &mut row);
        encode_entry(7, &rates(0.0), &mut row);
        let back: Vec<_> = entries(&row).collect();
        assert_eq!(back.len(), 3);
        assert_eq!(back[0], (3, idle));
        assert_eq!(back[1].0, u32::MAX);
        assert!(back[1].1.rx_bps.is_sign_negative(), "-0.0 is kept");
        assert_eq!(back[1].1, odd);
        assert_eq!(back[2], (7, rates(0.0)));
        // A truncated entry, or a mask with an unknown field, ends the row.
        assert_eq!(entries(&row[..row.len() - 1]).count(), 2);
        let mut bad = row[..13].to_vec();
        bad[4] = 0x80;
        assert_eq!(entries(&bad).count(), 0);
    }

    #[test]
    fn rate_history_survives_reopening_and_expires() {
        let dir = std::env::temp_dir().join(format!("edgeflow-hist-{}", std::process::id()));
        let path = dir.join("state.redb");
        let (a, b) = (PortRef { dpid: 1, port: 1 }, PortRef { dpid: 1, port: 2 });
        let c = PortRef { dpid: 9, port: 1 };
        // Rounds every 5 minutes: two in each table's 10-minute span.
        let min = 60_000;
        let span = Resolution::Poll.span_ms();
        assert_eq!(span, 10 * min);
        // Only names this code makes are taken for its tables.
        let name = Resolution::Poll.table_name(span + 5);
        assert_eq!(Resolution::Poll.table_start(&name), Some(span));
        assert_eq!(Resolution::Minute.table_start(&name), None);
        for other in [
            "switch_rates_1s_v3/600000",
            "switch_rates_1s_v3/+0000000000000600000",
        ] {
            assert_eq!(Resolution::Poll.table_start(other), None, "{other}");
        }
        {
            let store = Store::open(&path).unwrap();
            for t in 0..6u64 {
                store
                    .append_rates(
                        Resolution::Poll,
                        5 * min * t,
                        // A switch listed twice still gets one row.
                        &[(a, rates(t as f64)), (c, rates(7.0)), (b, rates(9.0))],
                    )
                    .unwrap();
            }
        }
        let store = Store::open(&path).unwrap();
        let times = |p: PortRef, window: Range<u64>| -> Vec<u64> {
            let h = store.rate_history(Resolution::Poll, p, window).unwrap();
            h.iter().map(|(t, _)| *t / min).collect()
        };
        let h = store
            .rate_history(Resolution::Poll, a, 0..u64::MAX)
            .unwrap();
        assert_eq!(h.len(), 6);
        assert_eq!(h[3], (15 * min, rates(3.0)));
        assert_eq!(h[0].1.speed_bps, None, "unknown speed stays unknown");
        assert_eq!(
            times(b, 5 * min..15 * min),
            vec![5, 10],
            "windows cross tables"
        );
        assert_eq!(times(b, 5 * min + 1..15 * min + 1), vec![10, 15]);
        // Only whole spans expire: the table of 10-20 minutes ends after 19.
        store.expire_rates(Resolution::Poll, 19 * min).unwrap();
        assert_eq!(times(a, 0..u64::MAX), vec![10, 15, 20, 25]);
        store.expire_rates(Resolution::Poll, 2 * span).unwrap();
        assert_eq!(times(a, 0..u64::MAX), vec![20, 25]);
        assert_eq!(
            times(c, 0..u64::MAX),
            vec![20, 25],
            "every switch's rows expire"
        );
        assert!(store
            .rate_history(Resolution::Minute, a, 0..u64::MAX)
            .unwrap()
            .is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn tables_of_earlier_layouts_are_moved_at_open() {
        let dir = std::env::temp_dir().join(format!("edgeflow-old-{}", std::process::id()));
        let path = dir.join("state.redb");
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (PortRef { dpid: 7, port: 1 }, PortRef { dpid: 7, port: 2 });
        let min = 60_000;
        {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            // Session 5's polls: keyed by switch first, entries of 60 bytes
            // (port, seven f64, NaN for an unknown speed), in two 10-minute
            // spans.
            let old: RatesTable = TableDefinition::new("switch_rates_1s");
            let mut t = txn.open_table(old).unwrap();
            for (unix_ms, x) in [(min, 1.0), (11 * min, 2.0)] {
                let mut row = Vec::new();
                for (port, speed) in [(1u32, 1e7), (2, f64::NAN)] {
                    row.extend_from_slice(&port.to_le_bytes());
                    for v in [x, 2.0 * x, 3.0, 4.0, 0.0, 0.5, speed] {
                        row.extend_from_slice(&f64::to_le_bytes(v));
                    }
                }
                t.insert((7, unix_ms), row.as_slice()).unwrap();
            }
            drop(t);
            // This session's minutes before the tables by span.
            let v2: RatesTable = TableDefinition::new("switch_rates_1m_v2");
            let mut row = Vec::new();
            encode_entry(2, &rates(9.0), &mut row);
            let mut t = txn.open_table(v2).unwrap();
            t.insert((5 * min, 7), row.as_slice()).unwrap();
            drop(t);
            txn.commit().unwrap();
        }
        let store = Store::open(&path).unwrap();
        let polls = |p| {
            store
                .rate_history(Resolution::Poll, p, 0..u64::MAX)
                .unwrap()
        };
        let mut expected = PortRates {
            speed_bps: Some(1e7),
            ..rates(1.0)
        };
        assert_eq!(polls(a)[0], (min, expected));
        expected.rx_bps = 2.0;
        expected.tx_bps = 4.0;
        assert_eq!(polls(a)[1], (11 * min, expected));
        assert_eq!(
            polls(b)[1].1.speed_bps,
            None,
            "an unknown speed stays unknown"
        );
        let minutes = store
            .rate_history(Resolution::Minute, b, 0..u64::MAX)
            .unwrap();
        assert_eq!(minutes, vec![(5 * min, rates(9.0))]);
        let txn = store.db.begin_read().unwrap();
        let names: Vec<String> = txn
            .list_tables()
            .unwrap()
            .map(|t| redb::TableHandle::name(&t).to_string())
            .collect();
        for (name, ..) in MIGRATED_TABLES {
            assert!(!names.iter().any(|n| n == name), "{name} in {names:?}");
        }
        drop(txn);
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
