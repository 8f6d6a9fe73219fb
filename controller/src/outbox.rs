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
use std::iter::Peekable;
use std::vec::Drain;

/// A message for a switch: built by the policy, or encoded once and sent
/// as it is (its transaction id is replaced when it is sent).
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// A message to encode.
    Msg(Message),
    /// An encoded message.
    Encoded(Bytes),
}

/// Items an emptied outbox keeps room for.
const SPARE_ITEMS: usize = 4096;

/// Messages for switches, collected during one step of the controller.
/// One flat list, not a map of lists: a step usually speaks to one switch,
/// and an emptied outbox keeps its buffers for the next step.
#[derive(Debug, Default)]
pub struct Outbox {
    items: Vec<(u64, Out)>,
    after_flows: Vec<(u64, Message)>,
}

impl Outbox {
    /// Queues a message for switch `dpid`.
    pub fn push(&mut self, dpid: u64, msg: Message) {
        self.items.push((dpid, Out::Msg(msg)));
    }

    /// Queues an encoded message for switch `dpid`.
    pub fn push_encoded(&mut self, dpid: u64, encoded: Bytes) {
        self.items.push((dpid, Out::Encoded(encoded)));
    }

    /// Queues a frame (a PACKET_OUT) for switch `dpid` that must leave
    /// only after every switch's batch.
    pub fn push_after_flows(&mut self, dpid: u64, msg: Message) {
        self.after_flows.push((dpid, msg));
    }

    /// Hands out the batches in datapath order, each in the order pushed
    /// (`batch` is called once per switch with its messages), then returns
    /// the frames to send after them. The outbox is left empty, with its
    /// buffers, for the next step.
    pub fn finish(
        &mut self,
        mut batch: impl FnMut(u64, &mut Batch<'_, '_>),
    ) -> Drain<'_, (u64, Message)> {
        // Frames wait only for flow changes on other switches: with changes
        // on one switch at most, its frames (with none, every frame) go out
        // in batches, as one connection keeps its order.
        let first = self.items.first().map(|&(d, _)| d);
        if self.items.iter().all(|&(d, _)| Some(d) == first) {
            let direct = self
                .after_flows
                .extract_if(.., |(d, _)| first.is_none_or(|f| f == *d))
                .map(|(d, m)| (d, Out::Msg(m)));
            self.items.extend(direct);
        }
        // Stable: each switch's messages keep the order they were pushed in.
        // (Usually they are all for one switch, and moving them is the cost.)
        if !self.items.is_sorted_by_key(|&(dpid, _)| dpid) {
            self.items.sort_by_key(|&(dpid, _)| dpid);
        }
        let mut items = self.items.drain(..).peekable();
        while let Some(&(dpid, _)) = items.peek() {
            let mut msgs = Batch {
                dpid,
                items: &mut items,
            };
            batch(dpid, &mut msgs);
            // What the callback left (a switch gone) is dropped whole, never
            // handed over again as a batch of its own.
            msgs.for_each(drop);
        }
        drop(items);
        // A burst (a fabric rerouted) leaves no lasting peak behind.
        self.items.shrink_to(SPARE_ITEMS);
        self.after_flows.drain(..)
    }
}

/// One switch's messages, in the order pushed, as [`Outbox::finish`] hands
/// them out (a concrete iterator, so that the sending inlines).
pub struct Batch<'b, 'a> {
    dpid: u64,
    items: &'b mut Peekable<Drain<'a, (u64, Out)>>,
}

impl Iterator for Batch<'_, '_> {
    type Item = Out;

    fn next(&mut self) -> Option<Out> {
        let dpid = self.dpid;
        self.items.next_if(|&(d, _)| d == dpid).map(|(_, o)| o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A switch's batch as handed out.
    type Handed = (u64, Vec<Out>);

    /// The batches and the frames that wait.
    fn finish(o: &mut Outbox) -> (Vec<Handed>, Vec<(u64, Message)>) {
        let mut batches = Vec::new();
        let after = o
            .finish(|dpid, msgs| batches.push((dpid, msgs.collect())))
            .collect();
        (batches, after)
    }

    #[test]
    fn a_frame_waits_for_other_switches_flows_only() {
        let frame = || Message::EchoRequest(vec![9]);
        let mut o = Outbox::default();
        o.push(1, Message::BarrierRequest);
        o.push_after_flows(1, frame());
        let (batches, after) = finish(&mut o);
        assert!(after.is_empty());
        assert_eq!(
            batches,
            vec![(
                1,
                vec![Out::Msg(Message::BarrierRequest), Out::Msg(frame())]
            )]
        );

        o.push(1, Message::BarrierRequest);
        o.push(2, Message::BarrierRequest);
        o.push_after_flows(1, frame());
        let (batches, after) = finish(&mut o);
        assert_eq!(after, vec![(1, frame())]);
        assert_eq!(batches.len(), 2);

        // Without flow changes no frame waits.
        o.push_after_flows(2, frame());
        o.push_after_flows(1, frame());
        let (batches, after) = finish(&mut o);
        assert!(after.is_empty());
        assert_eq!(
            batches,
            vec![(1, vec![Out::Msg(frame())]), (2, vec![Out::Msg(frame())])]
        );
    }

    #[test]
    fn a_batch_left_unfinished_is_not_handed_over_again() {
        let mut o = Outbox::default();
        o.push(1, Message::BarrierRequest);
        o.push(1, Message::EchoRequest(vec![1]));
        o.push(2, Message::BarrierRequest);
        let mut calls = Vec::new();
        o.finish(|dpid, msgs| {
            calls.push(dpid);
            msgs.next();
        });
        assert_eq!(calls, vec![1, 2]);
    }

    #[test]
    fn batches_keep_push_order_per_switch() {
        let encoded = Bytes::from_static(&[4, 2, 0, 8, 0, 0, 0, 0]);
        let mut o = Outbox::default();
        o.push(2, Message::BarrierRequest);
        o.push(1, Message::EchoRequest(vec![1]));
        o.push_encoded(1, encoded.clone());
        o.push(2, Message::EchoRequest(vec![3]));
        o.push(1, Message::EchoRequest(vec![2]));
        let (batches, after) = finish(&mut o);
        assert!(after.is_empty());
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
                (
                    2,
                    vec![
                        Out::Msg(Message::BarrierRequest),
                        Out::Msg(Message::EchoRequest(vec![3]))
                    ]
                ),
            ]
        );
        let (batches, _) = finish(&mut o);
        assert!(batches.is_empty(), "finishing empties the outbox");
    }
}
