//! The flow tables and group table of one emulated switch in path-setup
//! mode: they follow the controller's FLOW_MODs and GROUP_MODs and answer
//! "which entry does this frame hit in table t?". What an entry then does to
//! the frame is [`super::pipeline`].
//!
//! **Matching.** A table is a tuple-space classifier: entries are grouped by
//! their match's shape (which fields, under which masks); each shape is a
//! hash map from the masked values to its entries, highest priority first.
//! A lookup probes every shape with the frame's masked fields and takes the
//! highest priority found (OpenFlow leaves ties between overlapping entries
//! of one priority undefined; here the first shape installed wins). A
//! controller installs few shapes, so a lookup costs a handful of hash
//! probes whatever the number of entries.
//!
//! **Modifications.** ADD replaces an entry of identical match and priority;
//! MODIFY and DELETE select entries strictly (identical match and priority)
//! or not (every entry at least as specific as the given match), filtered
//! by cookie and mask and, for DELETE, by out_port and out_group; table
//! 0xff means every table. Timeouts are not modelled (runs last seconds,
//! edgeflow's idle timeout is a minute). A match on a field the emulator
//! does not support ([`super::frame::Field`]) is kept (so it can be deleted)
//! and counted but never matches. GROUP_MOD ADD of an existing group,
//! MODIFY of a missing one, and a FLOW_MOD or bucket sending to a missing
//! group are refused with the OpenFlow error a switch sends; deleting a
//! group deletes the flows that send to it, as OpenFlow 1.3 says.

use super::frame::{self, Field, Fields};
use edgeflow_proto::ofp::{
    self, Action, Bucket, FlowMod, FlowModCommand, GroupMod, GroupModCommand, GroupType,
    Instruction, Match,
};
use std::collections::HashMap;

/// OFPBAC_BAD_OUT_GROUP.
const BAD_OUT_GROUP: u16 = 9;
/// OFPGMFC_GROUP_EXISTS.
const GROUP_EXISTS: u16 = 0;
/// OFPGMFC_UNKNOWN_GROUP.
const UNKNOWN_GROUP: u16 = 8;
/// OFPFMFC_BAD_TABLE_ID.
const BAD_TABLE_ID: u16 = 2;
/// Most fields one match can hold (every [`Field`] once).
const MAX_FIELDS: usize = 16;

/// An OpenFlow error a switch answers a message with: type and code.
pub type Refusal = (ofp::ErrorType, u16);

/// One flow entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Priority.
    pub priority: u16,
    /// Cookie.
    pub cookie: u64,
    /// The match as the controller sent it.
    pub raw: Match,
    /// The match as (field, masked value, mask), sorted by field; None if a
    /// field is unsupported.
    pub fields: Option<Vec<(Field, u64, u64)>>,
    /// Instructions.
    pub instructions: Vec<Instruction>,
}

impl Entry {
    /// The table-miss entry: priority 0, matching everything.
    pub fn is_table_miss(&self) -> bool {
        self.priority == 0 && self.raw.fields.is_empty()
    }

    /// Whether any action of the entry outputs to `port` / sends to `group`
    /// (ANY: no filter), as DELETE's out_port and out_group filter.
    fn sends_to(&self, port: u32, group: u32) -> bool {
        let actions = self.instructions.iter().flat_map(|i| match i {
            Instruction::ApplyActions(a) | Instruction::WriteActions(a) => a.as_slice(),
            _ => &[],
        });
        let (mut port_ok, mut group_ok) = (port == ofp::port::ANY, group == ofp::group::ANY);
        for a in actions {
            match *a {
                Action::Output { port: p, .. } if p == port => port_ok = true,
                Action::Group(g) if g == group => group_ok = true,
                _ => {}
            }
        }
        port_ok && group_ok
    }
}

/// Canonical form of a match: sorted (field, masked value, mask).
fn canonical(m: &Match) -> Option<Vec<(Field, u64, u64)>> {
    let mut v = m
        .fields
        .iter()
        .map(frame::from_oxm)
        .collect::<Option<Vec<_>>>()?;
    v.sort_by_key(|f| f.0);
    (v.len() <= MAX_FIELDS).then_some(v)
}

/// Entries of one match shape.
#[derive(Debug, Default)]
struct Shape {
    /// (field, mask) in field order.
    key: Vec<(Field, u64)>,
    /// Masked values to entry slots, highest priority first.
    index: HashMap<Vec<u64>, Vec<usize>>,
}

/// One flow table.
#[derive(Debug, Default)]
struct Table {
    slots: Vec<Option<Entry>>,
    free: Vec<usize>,
    shapes: Vec<Shape>,
    len: usize,
}

impl Table {
    fn shape_of(fields: &[(Field, u64, u64)]) -> (Vec<(Field, u64)>, Vec<u64>) {
        fields.iter().map(|&(f, v, m)| ((f, m), v)).unzip()
    }

    /// The slot of the entry with this exact match and priority.
    fn find_strict(&self, m: &Match, priority: u16) -> Option<usize> {
        if let Some(fields) = canonical(m) {
            let (key, values) = Self::shape_of(&fields);
            let shape = self.shapes.iter().find(|s| s.key == key)?;
            return shape.index.get(&values)?.iter().copied().find(|&i| {
                self.slots[i]
                    .as_ref()
                    .is_some_and(|e| e.priority == priority)
            });
        }
        self.slots.iter().position(|e| {
            e.as_ref()
                .is_some_and(|e| e.priority == priority && e.fields.is_none() && e.raw == *m)
        })
    }

    fn insert(&mut self, e: Entry) {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        if let Some(fields) = &e.fields {
            let (key, values) = Self::shape_of(fields);
            let at = match self.shapes.iter().position(|s| s.key == key) {
                Some(at) => at,
                None => {
                    self.shapes.push(Shape {
                        key,
                        index: HashMap::new(),
                    });
                    self.shapes.len() - 1
                }
            };
            let list = self.shapes[at].index.entry(values).or_default();
            let slots = &self.slots;
            let pos = list
                .iter()
                .position(|&i| slots[i].as_ref().is_some_and(|o| o.priority < e.priority))
                .unwrap_or(list.len());
            list.insert(pos, slot);
        }
        self.slots[slot] = Some(e);
        self.len += 1;
    }

    fn remove(&mut self, slot: usize) {
        let Some(e) = self.slots[slot].take() else {
            return;
        };
        if let Some(fields) = &e.fields {
            let (key, values) = Self::shape_of(fields);
            if let Some(shape) = self.shapes.iter_mut().find(|s| s.key == key) {
                if let Some(list) = shape.index.get_mut(&values) {
                    list.retain(|&i| i != slot);
                    if list.is_empty() {
                        shape.index.remove(&values);
                    }
                }
            }
        }
        self.free.push(slot);
        self.len -= 1;
    }

    /// Slots of the entries a MODIFY or DELETE selects.
    fn select(&self, fm: &FlowMod, strict: bool) -> Vec<usize> {
        let cookie_ok = |e: &Entry| e.cookie & fm.cookie_mask == fm.cookie & fm.cookie_mask;
        if strict {
            return self
                .find_strict(&fm.match_, fm.priority)
                .filter(|&i| self.slots[i].as_ref().is_some_and(cookie_ok))
                .into_iter()
                .collect();
        }
        let desc = canonical(&fm.match_);
        (0..self.slots.len())
            .filter(|&i| {
                let Some(e) = &self.slots[i] else {
                    return false;
                };
                cookie_ok(e)
                    && match (&desc, &e.fields) {
                        // Every field of the description, at least as specific in the entry.
                        (Some(d), Some(f)) => d.iter().all(|&(df, dv, dm)| {
                            f.iter()
                                .any(|&(ef, ev, em)| ef == df && em & dm == dm && ev & dm == dv)
                        }),
                        _ => fm.match_.fields.iter().all(|o| e.raw.fields.contains(o)),
                    }
            })
            .collect()
    }

    fn lookup(&self, f: &Fields) -> Option<&Entry> {
        let mut best: Option<&Entry> = None;
        let mut key = [0u64; MAX_FIELDS];
        'shapes: for shape in &self.shapes {
            for (k, &(field, mask)) in key.iter_mut().zip(&shape.key) {
                let Some(v) = f.get(field) else {
                    continue 'shapes;
                };
                *k = v & mask;
            }
            let Some(&slot) = shape
                .index
                .get(&key[..shape.key.len()])
                .and_then(|l| l.first())
            else {
                continue;
            };
            let e = self.slots[slot]
                .as_ref()
                .expect("indexed slots hold entries");
            if best.is_none_or(|b| e.priority > b.priority) {
                best = Some(e);
            }
        }
        best
    }
}

/// One group.
#[derive(Debug, Clone)]
pub struct Group {
    /// Type.
    pub typ: GroupType,
    /// Buckets.
    pub buckets: Vec<Bucket>,
}

counters! {
    /// Counters of what a switch's tables were asked to do.
    #[derive(Debug, Clone, Default)]
    pub struct TableCounters {
        /// FLOW_MODs applied (including refused ones).
        pub flow_mods: u64,
        /// GROUP_MODs applied (including refused ones).
        pub group_mods: u64,
        /// Flow entries whose match has a field the emulator does not support.
        pub unsupported_matches: u64,
        /// FLOW_MODs and GROUP_MODs refused with an error.
        pub refused: u64,
    }
}

/// A switch's flow tables and group table.
#[derive(Debug, Default)]
pub struct Tables {
    tables: Vec<Table>,
    groups: HashMap<u32, Group>,
    /// Counters.
    pub counters: TableCounters,
}

fn group_refs(actions: &[Action]) -> impl Iterator<Item = u32> + '_ {
    actions.iter().filter_map(|a| match a {
        Action::Group(g) => Some(*g),
        _ => None,
    })
}

impl Tables {
    /// Empty tables.
    pub fn new() -> Tables {
        Tables::default()
    }

    /// Entries in table `t`.
    pub fn len(&self, t: u8) -> usize {
        self.tables.get(usize::from(t)).map_or(0, |t| t.len)
    }

    /// Entries in every table.
    pub fn total(&self) -> usize {
        self.tables.iter().map(|t| t.len).sum()
    }

    /// The entry `fields` hits in table `t`.
    pub fn lookup(&self, t: u8, fields: &Fields) -> Option<&Entry> {
        self.tables.get(usize::from(t))?.lookup(fields)
    }

    /// Groups.
    pub fn groups(&self) -> usize {
        self.groups.len()
    }

    /// Group `id`.
    pub fn group(&self, id: u32) -> Option<&Group> {
        self.groups.get(&id)
    }

    /// Every group with its id, in id order.
    pub fn group_list(&self) -> Vec<(u32, &Group)> {
        let mut all: Vec<_> = self.groups.iter().map(|(&id, g)| (id, g)).collect();
        all.sort_unstable_by_key(|(id, _)| *id);
        all
    }

    fn table_ids(&self, t: u8) -> std::ops::Range<usize> {
        if t == ofp::table::ALL {
            0..self.tables.len()
        } else {
            let t = usize::from(t).min(self.tables.len());
            t..(t + 1).min(self.tables.len())
        }
    }

    /// Applies a FLOW_MOD; Err is the error to answer it with.
    pub fn flow_mod(&mut self, fm: &FlowMod) -> Result<(), Refusal> {
        self.counters.flow_mods += 1;
        let refused = self.apply_flow_mod(fm);
        self.counters.refused += u64::from(refused.is_err());
        refused
    }

    fn apply_flow_mod(&mut self, fm: &FlowMod) -> Result<(), Refusal> {
        let adds = matches!(
            fm.command,
            FlowModCommand::Add | FlowModCommand::Modify | FlowModCommand::ModifyStrict
        );
        if adds {
            let groups = fm.instructions.iter().flat_map(|i| match i {
                Instruction::ApplyActions(a) | Instruction::WriteActions(a) => group_refs(a),
                _ => group_refs(&[]),
            });
            for g in groups {
                if !self.groups.contains_key(&g) {
                    return Err((ofp::ErrorType::BadAction, BAD_OUT_GROUP));
                }
            }
        }
        match fm.command {
            FlowModCommand::Add => {
                if fm.table_id > ofp::table::MAX {
                    return Err((ofp::ErrorType::FlowModFailed, BAD_TABLE_ID));
                }
                let t = usize::from(fm.table_id);
                if self.tables.len() <= t {
                    self.tables.resize_with(t + 1, Table::default);
                }
                let table = &mut self.tables[t];
                if let Some(old) = table.find_strict(&fm.match_, fm.priority) {
                    table.remove(old);
                }
                let fields = canonical(&fm.match_);
                self.counters.unsupported_matches += u64::from(fields.is_none());
                table.insert(Entry {
                    priority: fm.priority,
                    cookie: fm.cookie,
                    raw: fm.match_.clone(),
                    fields,
                    instructions: fm.instructions.clone(),
                });
            }
            FlowModCommand::Modify | FlowModCommand::ModifyStrict => {
                let strict = fm.command == FlowModCommand::ModifyStrict;
                for t in self.table_ids(fm.table_id) {
                    for slot in self.tables[t].select(fm, strict) {
                        if let Some(e) = self.tables[t].slots[slot].as_mut() {
                            e.instructions = fm.instructions.clone();
                        }
                    }
                }
            }
            FlowModCommand::Delete | FlowModCommand::DeleteStrict => {
                let strict = fm.command == FlowModCommand::DeleteStrict;
                for t in self.table_ids(fm.table_id) {
                    let table = &mut self.tables[t];
                    for slot in table.select(fm, strict) {
                        let hit = table.slots[slot]
                            .as_ref()
                            .is_some_and(|e| e.sends_to(fm.out_port, fm.out_group));
                        if hit {
                            table.remove(slot);
                        }
                    }
                }
            }
            FlowModCommand::Unknown(_) => {
                return Err((ofp::ErrorType::FlowModFailed, ofp::bad_request::BAD_TYPE))
            }
        }
        Ok(())
    }

    /// Applies a GROUP_MOD; Err is the error to answer it with.
    pub fn group_mod(&mut self, gm: &GroupMod) -> Result<(), Refusal> {
        self.counters.group_mods += 1;
        let refused = self.apply_group_mod(gm);
        self.counters.refused += u64::from(refused.is_err());
        refused
    }

    fn apply_group_mod(&mut self, gm: &GroupMod) -> Result<(), Refusal> {
        let refuse = |code| Err((ofp::ErrorType::GroupModFailed, code));
        let exists = self.groups.contains_key(&gm.group_id);
        let group = || Group {
            typ: gm.group_type,
            buckets: gm.buckets.clone(),
        };
        match gm.command {
            GroupModCommand::Add | GroupModCommand::Modify => {
                let chained = gm.buckets.iter().flat_map(|b| group_refs(&b.actions));
                for g in chained {
                    if g != gm.group_id && !self.groups.contains_key(&g) {
                        return Err((ofp::ErrorType::BadAction, BAD_OUT_GROUP));
                    }
                }
                match (gm.command, exists) {
                    (GroupModCommand::Add, true) => return refuse(GROUP_EXISTS),
                    (GroupModCommand::Modify, false) => return refuse(UNKNOWN_GROUP),
                    _ => {}
                }
                self.groups.insert(gm.group_id, group());
            }
            GroupModCommand::Delete => {
                let gone: Vec<u32> = if gm.group_id == ofp::group::ALL {
                    self.groups.drain().map(|(id, _)| id).collect()
                } else {
                    self.groups
                        .remove(&gm.group_id)
                        .map(|_| gm.group_id)
                        .into_iter()
                        .collect()
                };
                for g in gone {
                    self.delete_flows_to_group(g);
                }
            }
            GroupModCommand::Unknown(_) => return refuse(UNKNOWN_GROUP),
        }
        Ok(())
    }

    fn delete_flows_to_group(&mut self, g: u32) {
        for table in &mut self.tables {
            let doomed: Vec<usize> = (0..table.slots.len())
                .filter(|&i| {
                    table.slots[i]
                        .as_ref()
                        .is_some_and(|e| e.sends_to(ofp::port::ANY, g))
                })
                .collect();
            for slot in doomed {
                table.remove(slot);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeflow_proto::ofp::{Oxm, OFPVID_PRESENT};
    use edgeflow_proto::MacAddr;

    fn out(port: u32) -> Vec<Instruction> {
        vec![Instruction::ApplyActions(vec![Action::output(port)])]
    }

    fn fields(in_port: u32, dst: u64, vid: Option<u16>) -> Fields {
        Fields {
            in_port,
            eth_dst: dst,
            eth_type: Some(0x0800),
            tci: vid,
            ..Fields::default()
        }
    }

    fn mac(x: u8) -> MacAddr {
        MacAddr([2, 0, 0, 0, 0, x])
    }

    fn output_of(e: Option<&Entry>) -> Option<u32> {
        match e?.instructions.first()? {
            Instruction::ApplyActions(a) => match a.first()? {
                Action::Output { port, .. } => Some(*port),
                _ => None,
            },
            _ => None,
        }
    }

    #[test]
    fn the_highest_priority_matching_entry_wins_across_shapes() {
        let mut t = Tables::new();
        t.flow_mod(&FlowMod::add(0, Match::new(), out(ofp::port::CONTROLLER)))
            .unwrap();
        t.flow_mod(&FlowMod::add(
            1000,
            Match::new().with(Oxm::EthDst(mac(2), None)),
            out(2),
        ))
        .unwrap();
        let tag = Match::new()
            .with(Oxm::InPort(1))
            .with(Oxm::VlanVid(OFPVID_PRESENT | 7, None));
        t.flow_mod(&FlowMod::add(2000, tag, out(3))).unwrap();
        let group_bit = MacAddr([1, 0, 0, 0, 0, 0]);
        t.flow_mod(&FlowMod::add(
            100,
            Match::new().with(Oxm::EthDst(group_bit, Some(group_bit))),
            out(4),
        ))
        .unwrap();
        let dst2 = mac(2).to_u64();
        assert_eq!(output_of(t.lookup(0, &fields(1, dst2, None))), Some(2));
        assert_eq!(output_of(t.lookup(0, &fields(1, dst2, Some(7)))), Some(3));
        // The tag on another port is not this entry's.
        assert_eq!(output_of(t.lookup(0, &fields(2, dst2, Some(7)))), Some(2));
        let bcast = MacAddr([0xff; 6]).to_u64();
        assert_eq!(output_of(t.lookup(0, &fields(1, bcast, None))), Some(4));
        let miss = t.lookup(0, &fields(1, mac(9).to_u64(), None)).unwrap();
        assert!(miss.is_table_miss());
        assert!(t.lookup(1, &fields(1, dst2, None)).is_none());
    }

    #[test]
    fn add_replaces_and_deletes_select_strictly_or_by_specificity_and_cookie() {
        let mut t = Tables::new();
        let m = |x| {
            Match::new()
                .with(Oxm::InPort(1))
                .with(Oxm::EthDst(mac(x), None))
        };
        for x in 1..=3 {
            let mut fm = FlowMod::add(10, m(x), out(5));
            fm.cookie = 0x0400_0000_0000_0000;
            t.flow_mod(&fm).unwrap();
        }
        t.flow_mod(&FlowMod::add(10, m(1), out(6))).unwrap();
        assert_eq!(t.len(0), 3);
        let f1 = fields(1, mac(1).to_u64(), None);
        assert_eq!(output_of(t.lookup(0, &f1)), Some(6));
        // Strict delete at another priority removes nothing.
        let del = |command, match_, priority| FlowMod {
            command,
            priority,
            match_,
            ..FlowMod::add(0, Match::new(), vec![])
        };
        t.flow_mod(&del(FlowModCommand::DeleteStrict, m(2), 11))
            .unwrap();
        assert_eq!(t.len(0), 3);
        t.flow_mod(&del(FlowModCommand::DeleteStrict, m(2), 10))
            .unwrap();
        assert_eq!(t.len(0), 2);
        // Non-strict on in_port alone with a cookie filter: only cookie-matching entries go.
        let mut fm = del(FlowModCommand::Delete, Match::new().with(Oxm::InPort(1)), 0);
        fm.cookie = 0x0400_0000_0000_0000;
        fm.cookie_mask = 0xff00_0000_0000_0000;
        fm.table_id = ofp::table::ALL;
        t.flow_mod(&fm).unwrap();
        assert_eq!(t.len(0), 1, "the entry re-added with cookie 0 stays");
        t.flow_mod(&FlowMod {
            table_id: ofp::table::ALL,
            ..del(FlowModCommand::Delete, Match::new(), 0)
        })
        .unwrap();
        assert_eq!(t.total(), 0);
        assert!(t.lookup(0, &f1).is_none());
    }

    #[test]
    fn unsupported_matches_are_kept_counted_and_never_hit() {
        let mut t = Tables::new();
        let m = Match::new().with(Oxm::ArpOp(1));
        t.flow_mod(&FlowMod::add(5, m.clone(), out(1))).unwrap();
        assert_eq!(t.counters.unsupported_matches, 1);
        assert!(t.lookup(0, &fields(1, 0, None)).is_none());
        t.flow_mod(&FlowMod {
            command: FlowModCommand::DeleteStrict,
            ..FlowMod::add(5, m, vec![])
        })
        .unwrap();
        assert_eq!(t.total(), 0);
    }

    #[test]
    fn groups_are_refused_like_a_switch_and_their_flows_go_with_them() {
        let mut t = Tables::new();
        let add = |command, id| GroupMod {
            command,
            group_type: GroupType::Select,
            group_id: id,
            buckets: vec![Bucket::new(vec![Action::output(1)])],
        };
        let to_group = FlowMod::add(
            1,
            Match::new().with(Oxm::InPort(2)),
            vec![Instruction::ApplyActions(vec![Action::Group(7)])],
        );
        assert!(t.flow_mod(&to_group).is_err());
        assert!(t.group_mod(&add(GroupModCommand::Modify, 7)).is_err());
        t.group_mod(&add(GroupModCommand::Add, 7)).unwrap();
        assert!(t.group_mod(&add(GroupModCommand::Add, 7)).is_err());
        t.group_mod(&add(GroupModCommand::Modify, 7)).unwrap();
        t.flow_mod(&to_group).unwrap();
        assert_eq!(t.counters.refused, 3);
        t.group_mod(&GroupMod {
            command: GroupModCommand::Delete,
            group_type: GroupType::All,
            group_id: ofp::group::ALL,
            buckets: vec![],
        })
        .unwrap();
        assert!(t.group(7).is_none());
        assert_eq!(t.total(), 0);
    }
}
