//! What an emulated switch does with a frame (path-setup mode): the
//! OpenFlow 1.3 pipeline over its [`Tables`], or a PACKET_OUT's actions.
//!
//! From table 0 each table's hit runs its instructions in the order the
//! specification fixes (apply-actions, clear-actions, write-actions,
//! write-metadata, goto-table); without a goto the action set runs (pop,
//! push, set-field, then group or else output). Supported actions: output
//! (a port, IN_PORT, FLOOD and ALL as every port but the ingress one,
//! CONTROLLER, TABLE from a PACKET_OUT), group, push_vlan, pop_vlan and
//! set_field of eth_src, eth_dst, vlan_vid and vlan_pcp; any other action
//! is skipped and counted. Groups: all (every bucket on its own copy),
//! indirect, select (among live buckets of non-zero weight, by a hash of the
//! frame's addresses and ports modulo the total weight, so weights hold over
//! many flows and one flow always takes one bucket) and fast-failover (the
//! first live bucket). A bucket's actions run as an action set. Every port
//! of an emulated switch is up, so a bucket is live when its watch port is
//! ANY or a port of the switch and its watch group is ANY or exists.
//!
//! **A table miss** (no entry hit) goes to the controller as a PACKET_IN
//! with reason NO_MATCH. OpenFlow 1.3 says a table without a table-miss
//! entry drops, but this is what cbench-style emulators and OpenFlow 1.0
//! switches do, so reactive controllers that install no table-miss entry
//! are measured too; misses are counted apart ([`Execution::misses`]). The
//! table-miss entry itself (priority 0, empty match) outputting to the
//! controller also gives NO_MATCH, any other CONTROLLER output ACTION.
//!
//! The result is a list of [`Emit`]s: frames leaving by a port, frames for
//! the controller, and drops with their reason. Which port leads where is
//! the caller's business ([`super::datapath`]).

use super::frame::{self, Fields};
use super::table::{Entry, Tables};
use edgeflow_proto::ofp::{self, port, Action, Bucket, GroupType, Instruction, PacketInReason};

/// Groups chained deeper than this are dropped (a group loop).
const MAX_GROUP_DEPTH: u32 = 8;

/// Why a frame, or one copy of it, went nowhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drop {
    /// The entry's instructions output nothing.
    NoOutput,
    /// An output to the port the frame came in by (only IN_PORT may do that).
    InPort,
    /// A reserved port the emulator does not have (LOCAL, NORMAL, ...).
    ReservedPort,
    /// A group that does not exist, or a group chain too deep.
    BadGroup,
    /// A select or fast-failover group with no live bucket.
    NoLiveBucket,
    /// A goto to a table not after the current one.
    BadGoto,
}

/// Where one copy of a frame went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Emit {
    /// Out of a port of the switch.
    Port {
        /// The port.
        port: u32,
        /// The frame as it leaves.
        frame: Vec<u8>,
    },
    /// To the controller.
    Controller {
        /// Why.
        reason: PacketInReason,
        /// The table it was looked up in.
        table_id: u8,
        /// Cookie of the entry hit (all ones for a miss, as Open vSwitch says).
        cookie: u64,
        /// Bytes of the frame to send (CML_NO_BUFFER: all).
        max_len: u16,
        /// The frame.
        frame: Vec<u8>,
    },
    /// Nowhere.
    Drop(Drop),
}

/// What one frame's trip through a switch produced.
#[derive(Debug, Clone, Default)]
pub struct Execution {
    /// Every copy's fate, in order.
    pub emits: Vec<Emit>,
    /// Table misses sent to the controller.
    pub misses: u32,
    /// FLOOD or ALL outputs.
    pub floods: u32,
    /// Actions skipped because the emulator does not support them.
    pub unsupported: u32,
}

/// The action set of the pipeline (one action of each kind).
#[derive(Debug, Default)]
struct ActionSet {
    pop_vlan: bool,
    push_vlan: Option<u16>,
    set_fields: Vec<ofp::Oxm>,
    group: Option<u32>,
    output: Option<(u32, u16)>,
    other: u32,
}

impl ActionSet {
    fn write(&mut self, actions: &[Action]) {
        for a in actions {
            match a {
                Action::PopVlan => self.pop_vlan = true,
                Action::PushVlan(t) => self.push_vlan = Some(*t),
                Action::SetField(o) => {
                    let kind = std::mem::discriminant(o);
                    self.set_fields
                        .retain(|x| std::mem::discriminant(x) != kind);
                    self.set_fields.push(o.clone());
                }
                Action::Group(g) => self.group = Some(*g),
                Action::Output { port, max_len } => self.output = Some((*port, *max_len)),
                _ => self.other += 1,
            }
        }
    }

    /// The set as an action list in the order OpenFlow runs it.
    fn into_actions(self) -> (Vec<Action>, u32) {
        let mut v = Vec::new();
        if self.pop_vlan {
            v.push(Action::PopVlan);
        }
        if let Some(t) = self.push_vlan {
            v.push(Action::PushVlan(t));
        }
        v.extend(self.set_fields.into_iter().map(Action::SetField));
        match (self.group, self.output) {
            (Some(g), _) => v.push(Action::Group(g)),
            (None, Some((port, max_len))) => v.push(Action::Output { port, max_len }),
            (None, None) => {}
        }
        (v, self.other)
    }
}

/// The entry a frame is being processed for, for PACKET_INs it causes.
#[derive(Debug, Clone, Copy)]
struct Context {
    table_id: u8,
    cookie: u64,
    table_miss: bool,
    /// Actions of a PACKET_OUT (where output TABLE is allowed).
    packet_out: bool,
}

/// One frame's trip through one switch.
struct Run<'a> {
    tables: &'a Tables,
    ports: u32,
    in_port: u32,
    out: Execution,
}

/// Runs `frame`, arriving at `in_port`, through the pipeline of a switch
/// with `tables` and ports 1..=`ports`.
pub fn receive(tables: &Tables, ports: u32, in_port: u32, frame: Vec<u8>) -> Execution {
    let mut run = Run {
        tables,
        ports,
        in_port,
        out: Execution::default(),
    };
    run.pipeline(frame);
    run.out
}

/// Runs a PACKET_OUT's `actions` on `frame` (`in_port` as the PACKET_OUT says).
pub fn packet_out(
    tables: &Tables,
    ports: u32,
    in_port: u32,
    actions: &[Action],
    mut frame: Vec<u8>,
) -> Execution {
    let mut run = Run {
        tables,
        ports,
        in_port,
        out: Execution::default(),
    };
    let ctx = Context {
        table_id: 0,
        cookie: u64::MAX,
        table_miss: false,
        packet_out: true,
    };
    run.apply(actions, &mut frame, ctx, 0);
    if run.out.emits.is_empty() {
        run.out.emits.push(Emit::Drop(Drop::NoOutput));
    }
    run.out
}

/// The order OpenFlow runs instructions in, whatever order they came in.
fn rank(i: &Instruction) -> u8 {
    match i {
        Instruction::Meter(_) => 0,
        Instruction::ApplyActions(_) => 1,
        Instruction::ClearActions => 2,
        Instruction::WriteActions(_) => 3,
        Instruction::WriteMetadata { .. } => 4,
        Instruction::GotoTable(_) => 5,
        _ => 6,
    }
}

impl Run<'_> {
    fn emit(&mut self, e: Emit) {
        self.out.emits.push(e);
    }

    fn pipeline(&mut self, mut frame: Vec<u8>) {
        let before = self.out.emits.len();
        let mut set = ActionSet::default();
        let (mut table, mut metadata) = (0u8, 0u64);
        loop {
            let fields = Fields::parse(&frame, self.in_port, metadata);
            let Some(entry) = self.tables.lookup(table, &fields) else {
                self.out.misses += 1;
                self.emit(Emit::Controller {
                    reason: PacketInReason::NoMatch,
                    table_id: table,
                    cookie: u64::MAX,
                    max_len: ofp::CML_NO_BUFFER,
                    frame,
                });
                return;
            };
            let ctx = Context {
                table_id: table,
                cookie: entry.cookie,
                table_miss: entry.is_table_miss(),
                packet_out: false,
            };
            match self.instructions(entry, &mut frame, &mut set, &mut metadata, ctx) {
                Ok(Some(next)) => table = next,
                Ok(None) => break,
                Err(d) => return self.emit(Emit::Drop(d)),
            }
        }
        let (actions, other) = set.into_actions();
        self.out.unsupported += other;
        let ctx = Context {
            table_id: table,
            cookie: u64::MAX,
            table_miss: false,
            packet_out: false,
        };
        self.apply(&actions, &mut frame, ctx, 0);
        if self.out.emits.len() == before {
            self.emit(Emit::Drop(Drop::NoOutput));
        }
    }

    /// Runs an entry's instructions; the next table, if it says goto.
    fn instructions(
        &mut self,
        entry: &Entry,
        frame: &mut Vec<u8>,
        set: &mut ActionSet,
        metadata: &mut u64,
        ctx: Context,
    ) -> Result<Option<u8>, Drop> {
        let mut next = None;
        for r in 0..=6 {
            for i in entry.instructions.iter().filter(|i| rank(i) == r) {
                match i {
                    Instruction::ApplyActions(a) => self.apply(a, frame, ctx, 0),
                    Instruction::ClearActions => *set = ActionSet::default(),
                    Instruction::WriteActions(a) => set.write(a),
                    Instruction::WriteMetadata { metadata: v, mask } => {
                        *metadata = (*metadata & !mask) | (v & mask)
                    }
                    Instruction::GotoTable(t) if *t > ctx.table_id => next = Some(*t),
                    Instruction::GotoTable(_) => return Err(Drop::BadGoto),
                    Instruction::Meter(_) => {}
                    _ => self.out.unsupported += 1,
                }
            }
        }
        Ok(next)
    }

    fn apply(&mut self, actions: &[Action], frame: &mut Vec<u8>, ctx: Context, depth: u32) {
        for a in actions {
            match a {
                Action::Output { port, max_len } => self.output(*port, *max_len, frame, ctx),
                Action::Group(g) => self.group(*g, frame, ctx, depth),
                Action::PushVlan(t) => frame::push_vlan(frame, *t),
                Action::PopVlan => {
                    if !frame::pop_vlan(frame) {
                        self.out.unsupported += 1;
                    }
                }
                Action::SetField(o) => {
                    if !frame::set_field(frame, o) {
                        self.out.unsupported += 1;
                    }
                }
                Action::SetQueue(_) => {}
                _ => self.out.unsupported += 1,
            }
        }
    }

    fn output(&mut self, p: u32, max_len: u16, frame: &[u8], ctx: Context) {
        let physical = |p: u32| (1..=port::MAX).contains(&p);
        match p {
            port::IN_PORT if physical(self.in_port) => self.emit(Emit::Port {
                port: self.in_port,
                frame: frame.to_vec(),
            }),
            port::FLOOD | port::ALL => {
                self.out.floods += 1;
                let in_port = self.in_port;
                for q in (1..=self.ports).filter(|&q| q != in_port) {
                    self.emit(Emit::Port {
                        port: q,
                        frame: frame.to_vec(),
                    });
                }
            }
            port::CONTROLLER => self.emit(Emit::Controller {
                reason: if ctx.table_miss {
                    PacketInReason::NoMatch
                } else {
                    PacketInReason::Action
                },
                table_id: ctx.table_id,
                cookie: ctx.cookie,
                max_len,
                frame: frame.to_vec(),
            }),
            port::TABLE if ctx.packet_out => self.pipeline(frame.to_vec()),
            p if p == self.in_port => self.emit(Emit::Drop(Drop::InPort)),
            p if physical(p) => self.emit(Emit::Port {
                port: p,
                frame: frame.to_vec(),
            }),
            _ => self.emit(Emit::Drop(Drop::ReservedPort)),
        }
    }

    fn live(&self, b: &Bucket) -> bool {
        (b.watch_port == port::ANY || (1..=self.ports).contains(&b.watch_port))
            && (b.watch_group == ofp::group::ANY || self.tables.group(b.watch_group).is_some())
    }

    fn group(&mut self, id: u32, frame: &[u8], ctx: Context, depth: u32) {
        // A copy of the reference, so the buckets do not borrow `self`.
        let tables: &Tables = self.tables;
        let Some(g) = tables.group(id).filter(|_| depth < MAX_GROUP_DEPTH) else {
            return self.emit(Emit::Drop(Drop::BadGroup));
        };
        let chosen: Vec<&Bucket> = match g.typ {
            GroupType::All => g.buckets.iter().collect(),
            GroupType::Indirect => g.buckets.first().into_iter().collect(),
            GroupType::FastFailover => g
                .buckets
                .iter()
                .find(|b| self.live(b))
                .into_iter()
                .collect(),
            GroupType::Select => {
                let live: Vec<&Bucket> = g
                    .buckets
                    .iter()
                    .filter(|b| b.weight > 0 && self.live(b))
                    .collect();
                let total: u64 = live.iter().map(|b| u64::from(b.weight)).sum();
                let fields = Fields::parse(frame, self.in_port, 0);
                select(&live, total, fields.flow_hash())
                    .into_iter()
                    .collect()
            }
            GroupType::Unknown(_) => Vec::new(),
        };
        if chosen.is_empty() {
            return self.emit(Emit::Drop(Drop::NoLiveBucket));
        }
        for b in chosen {
            let mut set = ActionSet::default();
            set.write(&b.actions);
            let (actions, other) = set.into_actions();
            self.out.unsupported += other;
            let mut copy = frame.to_vec();
            self.apply(&actions, &mut copy, ctx, depth + 1);
        }
    }
}

/// The bucket a flow with `hash` takes among `live` buckets of `total`
/// weight: the one whose cumulative weight range holds `hash % total`.
pub fn select<'b>(live: &[&'b Bucket], total: u64, hash: u64) -> Option<&'b Bucket> {
    if total == 0 {
        return None;
    }
    let mut at = hash % total;
    for b in live {
        let w = u64::from(b.weight);
        if at < w {
            return Some(b);
        }
        at -= w;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ofbench::template::{packet_in_data, Host, PacketInTemplate, Tag};
    use edgeflow_proto::ofp::{FlowMod, GroupMod, GroupModCommand, Match, Oxm, OFPVID_PRESENT};
    use edgeflow_proto::packet::ethertype;

    fn frame(src: u16, dst: u16) -> Vec<u8> {
        let mut t = PacketInTemplate::new();
        let msg = t.patch(
            1,
            1,
            Host::new(0, src),
            Host::new(1, dst),
            Tag { switch: 0, seq: 1 },
        );
        packet_in_data(msg).unwrap().1.to_vec()
    }

    fn apply(actions: Vec<Action>) -> Vec<Instruction> {
        vec![Instruction::ApplyActions(actions)]
    }

    fn ports(e: &Execution) -> Vec<u32> {
        e.emits
            .iter()
            .filter_map(|e| match e {
                Emit::Port { port, .. } => Some(*port),
                _ => None,
            })
            .collect()
    }

    fn add_group(t: &mut Tables, id: u32, typ: GroupType, buckets: Vec<Bucket>) {
        t.group_mod(&GroupMod {
            command: GroupModCommand::Add,
            group_type: typ,
            group_id: id,
            buckets,
        })
        .unwrap();
    }

    #[test]
    fn a_miss_goes_to_the_controller_and_the_miss_entry_says_no_match() {
        let mut t = Tables::new();
        let e = receive(&t, 4, 1, frame(1, 2));
        assert_eq!(e.misses, 1);
        assert!(matches!(
            e.emits[0],
            Emit::Controller {
                reason: PacketInReason::NoMatch,
                ..
            }
        ));
        t.flow_mod(&FlowMod::add(
            0,
            Match::new(),
            apply(vec![Action::output(port::CONTROLLER)]),
        ))
        .unwrap();
        let e = receive(&t, 4, 1, frame(1, 2));
        assert_eq!(e.misses, 0);
        assert!(matches!(
            e.emits[0],
            Emit::Controller {
                reason: PacketInReason::NoMatch,
                ..
            }
        ));
    }

    #[test]
    fn tagging_group_then_pop_and_goto_delivers_the_original_frame() {
        // Ingress: select group pushing tag 9 out of port 2. Egress: tag on port 3 -> pop, goto 1.
        let mut t = Tables::new();
        add_group(
            &mut t,
            5,
            GroupType::Select,
            vec![Bucket {
                weight: 1,
                watch_port: 2,
                ..Bucket::new(vec![
                    Action::PushVlan(ethertype::VLAN),
                    Action::SetField(Oxm::VlanVid(OFPVID_PRESENT | 9, None)),
                    Action::output(2),
                ])
            }],
        );
        t.flow_mod(&FlowMod::add(
            1000,
            Match::new().with(Oxm::InPort(1)),
            apply(vec![Action::Group(5)]),
        ))
        .unwrap();
        let f = frame(1, 2);
        let e = receive(&t, 4, 1, f.clone());
        let Emit::Port {
            port: 2,
            frame: tagged,
        } = &e.emits[0]
        else {
            panic!("{e:?}")
        };
        assert_eq!(tagged.len(), f.len() + 4);
        let mut egress = Tables::new();
        let tag = Match::new()
            .with(Oxm::InPort(3))
            .with(Oxm::VlanVid(OFPVID_PRESENT | 9, None));
        egress
            .flow_mod(&FlowMod::add(
                2000,
                tag,
                vec![
                    Instruction::ApplyActions(vec![Action::PopVlan]),
                    Instruction::GotoTable(1),
                ],
            ))
            .unwrap();
        let mut deliver = FlowMod::add(
            1000,
            Match::new().with(Oxm::EthDst(Host::new(1, 2).mac, None)),
            apply(vec![Action::output(4)]),
        );
        deliver.table_id = 1;
        egress.flow_mod(&deliver).unwrap();
        let e = receive(&egress, 4, 3, tagged.clone());
        assert_eq!(e.emits, vec![Emit::Port { port: 4, frame: f }]);
        // Without the delivery entry, table 1 misses.
        let e = receive(&Tables::new(), 4, 3, tagged.clone());
        assert_eq!(e.misses, 1);
    }

    #[test]
    fn write_actions_run_at_the_end_and_group_beats_output() {
        let mut t = Tables::new();
        add_group(
            &mut t,
            1,
            GroupType::Indirect,
            vec![Bucket::new(vec![Action::output(3)])],
        );
        t.flow_mod(&FlowMod::add(
            1,
            Match::new(),
            vec![
                Instruction::WriteActions(vec![Action::output(2), Action::Group(1)]),
                Instruction::ApplyActions(vec![Action::output(4)]),
            ],
        ))
        .unwrap();
        assert_eq!(ports(&receive(&t, 4, 1, frame(1, 2))), vec![4, 3]);
    }

    #[test]
    fn flood_skips_the_ingress_port_and_all_groups_copy_every_bucket() {
        let mut t = Tables::new();
        add_group(
            &mut t,
            2,
            GroupType::All,
            vec![
                Bucket::new(vec![Action::output(2)]),
                Bucket::new(vec![Action::output(port::IN_PORT)]),
            ],
        );
        t.flow_mod(&FlowMod::add(
            1,
            Match::new().with(Oxm::InPort(1)),
            apply(vec![Action::Group(2)]),
        ))
        .unwrap();
        t.flow_mod(&FlowMod::add(
            1,
            Match::new().with(Oxm::InPort(2)),
            apply(vec![Action::output(port::FLOOD), Action::output(2)]),
        ))
        .unwrap();
        assert_eq!(ports(&receive(&t, 3, 1, frame(1, 2))), vec![2, 1]);
        let e = receive(&t, 3, 2, frame(1, 2));
        assert_eq!(ports(&e), vec![1, 3]);
        assert_eq!(e.floods, 1);
        assert_eq!(e.emits.last(), Some(&Emit::Drop(Drop::InPort)));
    }

    #[test]
    fn fast_failover_takes_the_first_live_bucket() {
        let mut t = Tables::new();
        let watch = |p, out| Bucket {
            watch_port: p,
            ..Bucket::new(vec![Action::output(out)])
        };
        add_group(
            &mut t,
            3,
            GroupType::FastFailover,
            vec![watch(9, 2), watch(3, 3)],
        );
        t.flow_mod(&FlowMod::add(
            1,
            Match::new(),
            apply(vec![Action::Group(3)]),
        ))
        .unwrap();
        // Port 9 does not exist on a 4-port switch: its bucket is dead.
        assert_eq!(ports(&receive(&t, 4, 1, frame(1, 2))), vec![3]);
    }

    #[test]
    fn select_respects_weights_and_keeps_a_flow_on_one_bucket() {
        let b = |w, p| Bucket {
            weight: w,
            ..Bucket::new(vec![Action::output(p)])
        };
        let buckets = [b(1, 1), b(3, 2), b(0, 3)];
        let live: Vec<&Bucket> = buckets.iter().filter(|b| b.weight > 0).collect();
        let mut counts = [0u32; 4];
        for h in 0..4000u64 {
            let Action::Output { port, .. } = select(&live, 4, h).unwrap().actions[0] else {
                panic!()
            };
            counts[port as usize] += 1;
        }
        assert_eq!(counts, [0, 1000, 3000, 0]);
        // Through a group: many host pairs spread roughly 1:3, each pair always the same way.
        let mut t = Tables::new();
        add_group(&mut t, 1, GroupType::Select, buckets.to_vec());
        t.flow_mod(&FlowMod::add(
            1,
            Match::new(),
            apply(vec![Action::Group(1)]),
        ))
        .unwrap();
        let mut seen = [0u32; 4];
        for src in 0..200 {
            let p = ports(&receive(&t, 4, 4, frame(src, 7)));
            assert_eq!(p, ports(&receive(&t, 4, 4, frame(src, 7))));
            seen[p[0] as usize] += 1;
        }
        assert_eq!(seen[3], 0);
        assert!((100..200).contains(&seen[2]) && seen[1] > 20, "{seen:?}");
    }

    #[test]
    fn a_packet_out_to_table_runs_the_pipeline() {
        let mut t = Tables::new();
        t.flow_mod(&FlowMod::add(
            1,
            Match::new().with(Oxm::InPort(2)),
            apply(vec![Action::output(3)]),
        ))
        .unwrap();
        let e = packet_out(&t, 4, 2, &[Action::output(port::TABLE)], frame(1, 2));
        assert_eq!(ports(&e), vec![3]);
        let e = receive(&t, 4, 2, frame(1, 2));
        assert_eq!(ports(&e), vec![3]);
        // TABLE in a flow entry is not allowed.
        t.flow_mod(&FlowMod::add(
            1,
            Match::new().with(Oxm::InPort(1)),
            apply(vec![Action::output(port::TABLE)]),
        ))
        .unwrap();
        assert_eq!(
            receive(&t, 4, 1, frame(1, 2)).emits,
            vec![Emit::Drop(Drop::ReservedPort)]
        );
    }
}
