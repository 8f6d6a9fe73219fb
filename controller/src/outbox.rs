//! The one place where policy output becomes per-switch message batches.
//!
//! Policy code (discovery, flooding, forwarding) pushes messages for
//! switches into an [`Outbox`] during one step of the controller; the step
//! ends by handing each switch its batch, which leaves in one write. Within
//! a switch the order is the order of the policy's decisions (a delete
//! pushed after an add must remove it), and a switch applies its messages in
//! order, so no reordering happens here.

use edgeflow_proto::ofp::Message;
use std::collections::BTreeMap;

/// Messages for switches, collected during one step of the controller.
#[derive(Debug, Default)]
pub struct Outbox {
    per_switch: BTreeMap<u64, Vec<Message>>,
}

impl Outbox {
    /// Queues a message for switch `dpid`.
    pub fn push(&mut self, dpid: u64, msg: Message) {
        self.per_switch.entry(dpid).or_default().push(msg);
    }

    /// The batches in datapath order, each in the order pushed.
    pub fn finish(self) -> impl Iterator<Item = (u64, Vec<Message>)> {
        self.per_switch.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_keep_push_order_per_switch() {
        let mut o = Outbox::default();
        o.push(2, Message::BarrierRequest);
        o.push(1, Message::EchoRequest(vec![1]));
        o.push(1, Message::EchoRequest(vec![2]));
        let batches: Vec<_> = o.finish().collect();
        assert_eq!(
            batches,
            vec![
                (
                    1,
                    vec![Message::EchoRequest(vec![1]), Message::EchoRequest(vec![2])]
                ),
                (2, vec![Message::BarrierRequest]),
            ]
        );
    }
}
