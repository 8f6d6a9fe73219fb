//! One deadline per key (a connection, a switch), kept so that the earliest
//! is found without looking at the others: the controller's timers cost the
//! same with a thousand switches as with one.
//!
//! A min-heap holds the deadlines; moving a key's deadline later only notes
//! the new time (the heap entry is moved when it comes up), moving it
//! earlier adds an entry, and entries that no longer match their key's
//! deadline are dropped when they reach the top. The top always matches,
//! so [`Timers::next`] is exact.
//!
//! A [`Period`] is one repeating deadline: rounds at a fixed phase.

use ahash::AHashMap as HashMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Rounds every `interval` from the instant it was started: round k is due
/// at start + k x interval, however late the rounds before it were handled,
/// and rounds missed meanwhile are skipped, not made up. Two periods of one
/// interval started at the same instant stay due together.
#[derive(Debug)]
pub struct Period {
    interval: Duration,
    next: Option<Instant>,
}

impl Period {
    /// A period not started yet.
    pub fn new(interval: Duration) -> Period {
        Period {
            interval: interval.max(Duration::from_nanos(1)),
            next: None,
        }
    }

    /// Starts the rounds, the first one interval from `now`, unless they
    /// are running already.
    pub fn start(&mut self, now: Instant) {
        if self.next.is_none() {
            // An interval too long for the clock never comes due.
            self.next = now.checked_add(self.interval);
        }
    }

    /// When the next round is due.
    pub fn next(&self) -> Option<Instant> {
        self.next
    }

    /// How late the round due at `now` is, if one is; the next round is then
    /// the first one after `now`.
    pub fn due(&mut self, now: Instant) -> Option<Duration> {
        let at = self.next.filter(|&at| at <= now)?;
        let late = now - at;
        let (interval, late_ns) = (self.interval.as_nanos(), late.as_nanos());
        // The next round is at most one interval away, however late this one.
        let ahead = interval - late_ns % interval;
        let ahead = Duration::new(
            (ahead / 1_000_000_000) as u64,
            (ahead % 1_000_000_000) as u32,
        );
        self.next = now.checked_add(ahead);
        Some(late)
    }
}

/// Deadlines by key.
#[derive(Debug)]
pub struct Timers<K> {
    due: HashMap<K, Instant>,
    heap: BinaryHeap<Reverse<(Instant, K)>>,
}

impl<K> Default for Timers<K> {
    fn default() -> Timers<K> {
        Timers {
            due: HashMap::new(),
            heap: BinaryHeap::new(),
        }
    }
}

impl<K: Copy + Eq + Hash + Ord> Timers<K> {
    /// Sets `key`'s deadline, replacing any earlier or later one.
    pub fn set(&mut self, key: K, at: Instant) {
        match self.due.insert(key, at) {
            // The entry for the old time moves here when it comes up.
            Some(old) if old <= at => {}
            _ => self.heap.push(Reverse((at, key))),
        }
        self.tidy();
    }

    /// Removes `key`'s deadline.
    pub fn cancel(&mut self, key: K) {
        self.due.remove(&key);
        self.tidy();
    }

    /// `key`'s deadline.
    pub fn deadline(&self, key: K) -> Option<Instant> {
        self.due.get(&key).copied()
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// A key whose deadline is at or before `now`, with that deadline,
    /// removed from the set; None when no deadline is due.
    pub fn pop_due(&mut self, now: Instant) -> Option<(K, Instant)> {
        let &Reverse((at, key)) = self.heap.peek().filter(|Reverse((at, _))| *at <= now)?;
        self.heap.pop();
        self.due.remove(&key);
        self.tidy();
        Some((key, at))
    }

    /// Drops or moves the entries on top that no longer match their key.
    fn tidy(&mut self) {
        while let Some(&Reverse((at, key))) = self.heap.peek() {
            match self.due.get(&key) {
                Some(&d) if d == at => return,
                // Moved later since this entry was made: follow it.
                Some(&d) if d > at => {
                    self.heap.pop();
                    self.heap.push(Reverse((d, key)));
                }
                // Cancelled, or moved earlier (that entry is in the heap too).
                _ => {
                    self.heap.pop();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn due_at(t: &mut Timers<u32>, now: Instant) -> Vec<u32> {
        std::iter::from_fn(|| t.pop_due(now).map(|(k, _)| k)).collect()
    }

    #[test]
    fn a_period_keeps_its_phase_and_skips_missed_rounds() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut p = Period::new(ms(1000));
        assert_eq!(p.due(t0 + ms(5000)), None, "not started");
        p.start(t0);
        p.start(t0 + ms(300)); // running already: no new phase
        assert_eq!(p.next(), Some(t0 + ms(1000)));
        assert_eq!(p.due(t0 + ms(999)), None);
        assert_eq!(p.due(t0 + ms(1040)), Some(ms(40)));
        // Handled late: the next round keeps the phase.
        assert_eq!(p.next(), Some(t0 + ms(2000)));
        assert_eq!(p.due(t0 + ms(1999)), None);
        // Three rounds missed: one is due, then the phase goes on.
        assert_eq!(p.due(t0 + ms(5500)), Some(ms(3500)));
        assert_eq!(p.next(), Some(t0 + ms(6000)));
        assert_eq!(p.due(t0 + ms(6000)), Some(ms(0)));
        assert_eq!(p.next(), Some(t0 + ms(7000)));
        // Later than any count of rounds fits in 32 bits: the phase still
        // holds, and the next round is ahead (no spinning).
        let ns = Duration::from_nanos;
        let mut p = Period::new(ns(1));
        p.start(t0);
        assert_eq!(p.due(t0 + ms(5000)), Some(ms(5000) - ns(1)));
        assert_eq!(p.next(), Some(t0 + ms(5000) + ns(1)));
        // An interval beyond the clock's range never comes due.
        let mut p = Period::new(Duration::MAX);
        p.start(t0);
        assert_eq!(p.next(), None);
        assert_eq!(p.due(t0 + ms(5000)), None);
    }

    #[test]
    fn keys_come_due_in_deadline_order_once() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut t = Timers::default();
        t.set(1, t0 + s(3));
        t.set(2, t0 + s(1));
        t.set(3, t0 + s(2));
        assert_eq!(t.next(), Some(t0 + s(1)));
        assert_eq!(due_at(&mut t, t0), Vec::<u32>::new());
        assert_eq!(due_at(&mut t, t0 + s(2)), vec![2, 3]);
        assert_eq!(due_at(&mut t, t0 + s(10)), vec![1]);
        assert!(t.due.is_empty());
        assert_eq!(t.next(), None);
    }

    #[test]
    fn moved_and_cancelled_deadlines() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut t = Timers::default();
        t.set(1, t0 + s(1));
        t.set(1, t0 + s(5)); // later: not due at 1 s
        t.set(2, t0 + s(4));
        t.set(2, t0 + s(2)); // earlier: due at 2 s, once
        t.set(3, t0 + s(1));
        t.cancel(3);
        assert_eq!(t.due.len(), 2);
        assert_eq!(t.next(), Some(t0 + s(2)));
        assert_eq!(due_at(&mut t, t0 + s(1)), Vec::<u32>::new());
        assert_eq!(due_at(&mut t, t0 + s(2)), vec![2]);
        assert_eq!(t.next(), Some(t0 + s(5)));
        assert_eq!(due_at(&mut t, t0 + s(4)), Vec::<u32>::new());
        assert_eq!(due_at(&mut t, t0 + s(5)), vec![1]);
        assert!(t.due.is_empty());
    }

    #[test]
    fn many_moves_keep_one_live_deadline_per_key() {
        let t0 = Instant::now();
        let mut t = Timers::default();
        for round in 0..100u64 {
            for key in 0..50u32 {
                // Alternate later and earlier moves.
                let off = if round % 2 == 0 {
                    1000 + round
                } else {
                    500 + round
                };
                t.set(key, t0 + Duration::from_millis(off + u64::from(key)));
            }
        }
        assert_eq!(t.due.len(), 50);
        // The last round set key k to 599 + k ms: each comes once, in order.
        assert_eq!(
            due_at(&mut t, t0 + Duration::from_millis(598)),
            Vec::<u32>::new()
        );
        let due = due_at(&mut t, t0 + Duration::from_secs(10));
        assert_eq!(due, (0..50).collect::<Vec<_>>());
        assert!(t.heap.is_empty());
    }
}
