//! The PACKET_INs a switch has outstanding, and matching answers to them.
//!
//! Sequence numbers index a ring of slots; an answer counts only if its slot
//! still holds that sequence number unanswered, so a PACKET_IN answered by
//! several messages (FLOW_MOD + PACKET_OUT, or two PACKET_OUTs) counts once,
//! and answers to packets sent outside the window (learning frames) or
//! given up as lost never count.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
struct Slot {
    seq: u32,
    sent: Instant,
    live: bool,
}

/// What an answer turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The first answer to an outstanding packet, after this long.
    First(Duration),
    /// A packet already answered, given up, or never sent in the window.
    Stale,
}

/// Outstanding packets of one switch, at most `limit` at a time.
#[derive(Debug)]
pub struct Window {
    slots: Vec<Slot>,
    limit: u32,
    outstanding: u32,
    next_seq: u32,
}

impl Window {
    /// A window of `limit` (at least 1) outstanding packets.
    pub fn new(limit: u32, now: Instant) -> Window {
        let limit = limit.max(1);
        // Twice the window, so a slot is reused only long after its packet.
        let len = (2 * limit as usize).next_power_of_two();
        Window {
            slots: vec![
                Slot {
                    seq: 0,
                    sent: now,
                    live: false,
                };
                len
            ],
            limit,
            outstanding: 0,
            next_seq: 0,
        }
    }

    fn slot(&mut self, seq: u32) -> &mut Slot {
        let i = seq as usize & (self.slots.len() - 1);
        &mut self.slots[i]
    }

    /// How many more packets may be sent now.
    pub fn room(&self) -> u32 {
        self.limit.saturating_sub(self.outstanding)
    }

    /// Packets sent and not yet answered.
    pub fn outstanding(&self) -> u32 {
        self.outstanding
    }

    /// Records a packet sent at `now` and returns its sequence number.
    /// Returns with it whether an older packet still waiting in the reused
    /// slot was given up (counted lost).
    pub fn send(&mut self, now: Instant) -> (u32, bool) {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1) & Self::SEQ_MASK;
        let slot = self.slot(seq);
        let lost = slot.live;
        *slot = Slot {
            seq,
            sent: now,
            live: true,
        };
        if !lost {
            self.outstanding += 1;
        }
        (seq, lost)
    }

    /// Sequence numbers stay below 2^31; the upper half is left for packets
    /// outside the window.
    pub const SEQ_MASK: u32 = (1 << 31) - 1;

    /// Matches an answer carrying `seq`, received at `now`.
    pub fn answer(&mut self, seq: u32, now: Instant) -> Answer {
        let slot = self.slot(seq);
        if !slot.live || slot.seq != seq {
            return Answer::Stale;
        }
        slot.live = false;
        let latency = now.saturating_duration_since(slot.sent);
        self.outstanding -= 1;
        Answer::First(latency)
    }

    /// Gives up packets outstanding longer than `timeout`; returns how many.
    pub fn expire(&mut self, now: Instant, timeout: Duration) -> u32 {
        let mut lost = 0;
        for slot in self.slots.iter_mut().filter(|s| s.live) {
            if now.saturating_duration_since(slot.sent) >= timeout {
                slot.live = false;
                lost += 1;
            }
        }
        self.outstanding -= lost;
        lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_counts_once_however_many_messages_carry_it() {
        let t0 = Instant::now();
        let mut w = Window::new(4, t0);
        let (seq, _) = w.send(t0);
        let t1 = t0 + Duration::from_micros(30);
        assert_eq!(w.answer(seq, t1), Answer::First(Duration::from_micros(30)));
        assert_eq!(w.answer(seq, t1), Answer::Stale);
        assert_eq!(w.outstanding(), 0);
    }

    #[test]
    fn the_window_limits_outstanding_packets() {
        let t0 = Instant::now();
        let mut w = Window::new(3, t0);
        for _ in 0..3 {
            w.send(t0);
        }
        assert_eq!(w.room(), 0);
        w.answer(1, t0);
        assert_eq!(w.room(), 1);
    }

    #[test]
    fn answers_to_packets_never_sent_in_the_window_are_stale() {
        let t0 = Instant::now();
        let mut w = Window::new(2, t0);
        let (seq, _) = w.send(t0);
        assert_eq!(w.answer(seq + 1, t0), Answer::Stale);
        assert_eq!(w.answer(1 << 31 | seq, t0), Answer::Stale);
        assert_eq!(w.outstanding(), 1);
    }

    #[test]
    fn a_slot_reused_while_its_packet_waits_counts_that_packet_lost() {
        let t0 = Instant::now();
        let mut w = Window::new(1, t0); // 2 slots
        let (first, _) = w.send(t0);
        let (second, _) = w.send(t0);
        w.answer(second, t0); // seq 1 answered; seq 0 still waits
        let (third, lost) = w.send(t0); // seq 2 reuses seq 0's slot
        assert!(lost);
        assert_eq!(w.outstanding(), 1);
        assert_eq!(w.answer(first, t0), Answer::Stale);
        assert!(matches!(w.answer(third, t0), Answer::First(_)));
    }

    #[test]
    fn expiry_frees_the_window_of_unanswered_packets() {
        let t0 = Instant::now();
        let mut w = Window::new(2, t0);
        w.send(t0);
        w.send(t0 + Duration::from_millis(900));
        assert_eq!(
            w.expire(t0 + Duration::from_secs(1), Duration::from_secs(1)),
            1
        );
        assert_eq!(w.outstanding(), 1);
        assert_eq!(w.room(), 1);
    }
}
