//! The one place where policy output becomes per-switch message batches.
//!
//! Policy code (discovery, flooding, forwarding) pushes messages for
//! switches into an [`Outbox`] during one step of the controller; the step
//! ends by handing each switch its batch, which leaves in one write. Within
//! a switch the order is the order of the policy's decisions (a delete
//! pushed after an add must remove it), and a switch applies its messages in
//! order, so no reordering happens here.
//!
//! Across switches there is one ordering rule: a frame the controller
//! forwards itself after installing a path ([`Outbox::push_after_flows`])
//! is handed to its connection after the other switches' flow changes are
//! handed to theirs, so that the next frame of the flow usually finds its
//! path in place instead of missing behind it. Usually, not surely: the
//! switches apply their messages independently, and bytes waiting behind a
//! full socket wait there; only barriers would make it certain.

use bytes::Bytes;
use edgeflow_proto::ofp::Message;
use std::collections::BTreeMap;

/// A message for a switch: built by the policy, or encoded once and sent
/// as it is (its transaction id is replaced when it is sent).
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// A message to encode.
    Msg(Message),
    /// An encoded message.
    Encoded(Bytes),
}

/// Per-switch batches, in datapath order.
pub type Batches = std::collections::btree_map::IntoIter<u64, Vec<Out>>;

/// Messages for switches, collected during one step of the controller.
#[derive(Debug, Default)]
pub struct Outbox {
    per_switch: BTreeMap<u64, Vec<Out>>,
    after_flows: Vec<(u64, Message)>,
}

impl Outbox {
    /// Queues a message for switch `dpid`.
    pub fn push(&mut self, dpid: u64, msg: Message) {
        self.per_switch.entry(dpid).or_default().push(Out::Msg(msg));
    }

    /// Queues an encoded message for switch `dpid`.
    pub fn push_encoded(&mut self, dpid: u64, encoded: Bytes) {
        self.per_switch
            .entry(dpid)
            .or_default()
            .push(Out::Encoded(encoded));
    }

    /// Queues a frame (a PACKET_OUT) for switch `dpid` that must leave
    /// only after every switch's batch.
    pub fn push_after_flows(&mut self, dpid: u64, msg: Message) {
        self.after_flows.push((dpid, msg));
    }

    /// The batches in datapath order, each in the order pushed, and the
    /// frames to send after them.
    pub fn finish(mut self) -> (Batches, Vec<(u64, Message)>) {
        // A frame for the only switch whose flows changed needs no waiting:
        // one connection keeps its order.
        let mut after_flows = Vec::new();
        for (dpid, msg) in std::mem::take(&mut self.after_flows) {
            let others = self.per_switch.keys().any(|&d| d != dpid);
            if others {
                after_flows.push((dpid, msg));
            } else {
                self.push(dpid, msg);
            }
        }
        (self.per_switch.into_iter(), after_flows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_waits_for_other_switches_flows_only() {
        let frame = || Message::EchoRequest(vec![9]);
        let mut o = Outbox::default();
        o.push(1, Message::BarrierRequest);
        o.push_after_flows(1, frame());
        let (batches, after) = o.finish();
        assert!(after.is_empty());
        assert_eq!(
            batches.collect::<Vec<_>>(),
            vec![(
                1,
                vec![Out::Msg(Message::BarrierRequest), Out::Msg(frame())]
            )]
        );

        let mut o = Outbox::default();
        o.push(1, Message::BarrierRequest);
        o.push(2, Message::BarrierRequest);
        o.push_after_flows(1, frame());
        let (batches, after) = o.finish();
        assert_eq!(after, vec![(1, frame())]);
        assert_eq!(batches.count(), 2);
    }

    #[test]
    fn batches_keep_push_order_per_switch() {
        let encoded = Bytes::from_static(&[4, 2, 0, 8, 0, 0, 0, 0]);
        let mut o = Outbox::default();
        o.push(2, Message::BarrierRequest);
        o.push(1, Message::EchoRequest(vec![1]));
        o.push_encoded(1, encoded.clone());
        o.push(1, Message::EchoRequest(vec![2]));
        let (batches, after) = o.finish();
        assert!(after.is_empty());
        let batches: Vec<_> = batches.collect();
        assert_eq!(
            batches,
            vec![
                (
                    1,
                    vec![
                        Out::Msg(Message::EchoRequest(vec![1])),
                        Out::Encoded(encoded),
                        Out::Msg(Message::EchoRequest(vec![2]))
                    ]
                ),
                (2, vec![Out::Msg(Message::BarrierRequest)]),
            ]
        );
    }
}
