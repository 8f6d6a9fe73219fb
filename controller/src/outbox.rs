//! The one place where policy output becomes per-switch message batches.
//!
//! Policy code (discovery, flooding, forwarding) pushes messages for
//! switches into an [`Outbox`]; [`Outbox::finish`] orders each switch's
//! batch so that flow deletions go before additions (a replaced flow is
//! never deleted after its replacement arrives), and drops exact duplicate
//! flow and group modifications (both ends of a failed link report it).

use edgeflow_proto::ofp::{FlowModCommand, Message};
use std::collections::BTreeMap;

/// Messages for switches, collected during one step of the controller.
#[derive(Debug, Default)]
pub struct Outbox {
    per_switch: BTreeMap<u64, Vec<Message>>,
}

fn is_delete(m: &Message) -> bool {
    matches!(
        m,
        Message::FlowMod(f) if matches!(f.command, FlowModCommand::Delete | FlowModCommand::DeleteStrict)
    )
}

impl Outbox {
    /// Queues a message for switch `dpid`.
    pub fn push(&mut self, dpid: u64, msg: Message) {
        self.per_switch.entry(dpid).or_default().push(msg);
    }

    /// True if nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.per_switch.is_empty()
    }

    /// The batches, deletes first and duplicates removed, in datapath order.
    pub fn finish(self) -> impl Iterator<Item = (u64, Vec<Message>)> {
        self.per_switch.into_iter().map(|(dpid, msgs)| {
            let (mut out, adds): (Vec<Message>, Vec<Message>) =
                msgs.into_iter().partition(is_delete);
            out.extend(adds);
            let mut kept: Vec<Message> = Vec::with_capacity(out.len());
            for m in out {
                let modifies = matches!(m, Message::FlowMod(_) | Message::GroupMod(_));
                if !(modifies && kept.contains(&m)) {
                    kept.push(m);
                }
            }
            (dpid, kept)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::flow_mod_defaults;
    use edgeflow_proto::ofp::FlowMod;

    fn fm(command: FlowModCommand, priority: u16) -> Message {
        Message::FlowMod(FlowMod {
            command,
            priority,
            ..flow_mod_defaults()
        })
    }

    #[test]
    fn deletes_go_first_and_duplicates_go() {
        let mut o = Outbox::default();
        o.push(1, fm(FlowModCommand::Add, 10));
        o.push(1, fm(FlowModCommand::Delete, 5));
        o.push(1, fm(FlowModCommand::Add, 10));
        o.push(2, Message::BarrierRequest);
        o.push(2, Message::BarrierRequest);
        let batches: Vec<_> = o.finish().collect();
        assert_eq!(
            batches[0],
            (
                1,
                vec![fm(FlowModCommand::Delete, 5), fm(FlowModCommand::Add, 10)]
            )
        );
        assert_eq!(
            batches[1].1.len(),
            2,
            "only flow and group mods are deduplicated"
        );
    }
}
