//! The future-event list: a monotone priority queue on `(time, sequence)` with cancellation and
//! rescheduling.
//!
//! Measured on this project's machine (`benches/engine.rs`, figures in `results/bench/README.md`):
//! a radix heap is about 1.8× faster than `std::collections::BinaryHeap` at 100k pending events
//! and 5× at 1M, with the same pop order (it is slower only near 1k pending events). A radix heap
//! is valid here because a discrete-event simulation never schedules into the past: every key
//! pushed is ≥ the last key popped. So events live in a radix heap keyed by the 128-bit
//! `time << 64 | sequence`; cancelling marks the sequence number dead and `pop` skips it (lazy
//! deletion); rescheduling is cancel + schedule.

use std::num::NonZeroU64;

use rustc_hash::FxHashSet;

use super::SimTime;

/// Handle of a scheduled event, valid until the event is popped or cancelled. Holds the event's
/// sequence number plus one, so that `Option<EventId>` (kept in every task record) is 8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(NonZeroU64);

impl EventId {
    fn of(seq: u64) -> EventId {
        EventId(NonZeroU64::new(seq + 1).expect("sequence numbers stay below u64::MAX"))
    }

    fn seq(self) -> u64 {
        self.0.get() - 1
    }
}

fn key(time: SimTime, seq: u64) -> u128 {
    (u128::from(time.0) << 64) | u128::from(seq)
}

/// Radix heap over 128-bit keys: bucket `b` holds keys whose highest bit differing from `last`
/// (the last key popped) is bit `b − 1`; bucket 0 holds keys equal to `last`. Popping refills
/// bucket 0 from the lowest non-empty bucket, moving each key at most 128 times in its life.
struct RadixHeap<E> {
    last: u128,
    buckets: Vec<Vec<(u128, E)>>,
    /// Bit `b` set ⇔ bucket `b` non-empty.
    occupied: [u64; 3],
    len: usize,
}

impl<E> RadixHeap<E> {
    fn new() -> Self {
        RadixHeap { last: 0, buckets: (0..129).map(|_| Vec::new()).collect(), occupied: [0; 3], len: 0 }
    }

    fn bucket_of(&self, k: u128) -> usize {
        128 - (k ^ self.last).leading_zeros() as usize
    }

    fn put(&mut self, k: u128, e: E) {
        let b = self.bucket_of(k);
        self.buckets[b].push((k, e));
        self.occupied[b >> 6] |= 1 << (b & 63);
    }

    fn push(&mut self, k: u128, e: E) {
        debug_assert!(k >= self.last, "radix heap key below the last popped key");
        self.put(k, e);
        self.len += 1;
    }

    fn lowest_occupied(&self) -> Option<usize> {
        self.occupied.iter().enumerate().find(|(_, w)| **w != 0).map(|(i, w)| i * 64 + w.trailing_zeros() as usize)
    }

    /// Ensures bucket 0 holds the minimum key(s); returns false if empty.
    fn settle(&mut self) -> bool {
        if self.len == 0 {
            return false;
        }
        if self.buckets[0].is_empty() {
            let b = self.lowest_occupied().expect("non-empty heap has an occupied bucket");
            let mut moving = std::mem::take(&mut self.buckets[b]);
            self.occupied[b >> 6] &= !(1 << (b & 63));
            self.last = moving.iter().map(|(k, _)| *k).min().expect("occupied bucket is non-empty");
            for (k, e) in moving.drain(..) {
                self.put(k, e);
            }
            // Keep the emptied vector's capacity for the next time this bucket fills.
            self.buckets[b] = moving;
        }
        true
    }

    fn pop(&mut self) -> Option<(u128, E)> {
        if !self.settle() {
            return None;
        }
        let item = self.buckets[0].pop().expect("settled bucket 0 is non-empty");
        if self.buckets[0].is_empty() {
            self.occupied[0] &= !1;
        }
        self.len -= 1;
        Some(item)
    }

    /// The item with the smallest key, without moving anything: a scan of the lowest non-empty
    /// bucket, which the next `pop` scans anyway (usually a few items).
    fn peek(&self) -> Option<&E> {
        let b = self.lowest_occupied()?;
        self.buckets[b].iter().min_by_key(|(k, _)| *k).map(|(_, e)| e)
    }

    fn peek_key(&mut self) -> Option<u128> {
        if self.settle() { self.buckets[0].last().map(|(k, _)| *k) } else { None }
    }
}

/// Events of type `E`, popped in `(time, sequence)` order; simultaneous events pop in the order
/// they were scheduled.
pub struct EventQueue<E> {
    heap: RadixHeap<E>,
    cancelled: FxHashSet<u64>,
    next_seq: u64,
    now: SimTime,
    popped: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> EventQueue<E> {
        EventQueue { heap: RadixHeap::new(), cancelled: FxHashSet::default(), next_seq: 0, now: SimTime::ZERO, popped: 0 }
    }

    /// Time of the last popped event.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Number of events popped so far (cancelled ones excluded).
    pub fn events_processed(&self) -> u64 {
        self.popped
    }

    /// Live events still pending.
    pub fn len(&self) -> usize {
        self.heap.len - self.cancelled.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Schedules `event` at `time`, which must not be in the past: a simulation never goes back.
    pub fn schedule(&mut self, time: SimTime, event: E) -> EventId {
        assert!(time >= self.now, "event scheduled in the past: {time} < {}", self.now);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(key(time, seq), event);
        EventId::of(seq)
    }

    /// Cancels a pending event. Returns false if it was already cancelled or never issued.
    /// (Cancelling an event that already ran is a caller bug; the caller owns that knowledge.)
    pub fn cancel(&mut self, id: EventId) -> bool {
        let seq = id.seq();
        seq < self.next_seq && self.cancelled.insert(seq)
    }

    /// Moves a pending event to `time` (earlier or later). Returns the new handle.
    pub fn reschedule(&mut self, id: EventId, time: SimTime, event: E) -> EventId {
        let was_pending = self.cancel(id);
        debug_assert!(was_pending, "rescheduled an event that is not pending");
        self.schedule(time, event)
    }

    /// The next live event, advancing `now` to its time.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        while let Some((k, event)) = self.heap.pop() {
            let seq = k as u64;
            if !self.cancelled.is_empty() && self.cancelled.remove(&seq) {
                continue;
            }
            let time = SimTime((k >> 64) as u64);
            debug_assert!(time >= self.now);
            self.now = time;
            self.popped += 1;
            return Some((time, event));
        }
        None
    }

    /// The event that will probably pop next (a cancelled one, or one scheduled before it in
    /// the meantime, may come first), for the caller to prefetch what it will read. Moves
    /// nothing.
    pub fn peek_next(&self) -> Option<&E> {
        self.heap.peek()
    }

    /// Time of the next live event without popping it.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        while let Some(k) = self.heap.peek_key() {
            if self.cancelled.remove(&(k as u64)) {
                self.heap.pop();
                continue;
            }
            return Some(SimTime((k >> 64) as u64));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_optional_event_handle_costs_no_more_than_the_handle() {
        assert_eq!(std::mem::size_of::<Option<EventId>>(), 8);
    }

    #[test]
    fn the_first_event_can_be_cancelled() {
        let mut q = EventQueue::default();
        let first = q.schedule(SimTime(1), 'a');
        q.schedule(SimTime(2), 'b');
        assert!(q.cancel(first));
        assert!(!q.cancel(first), "a second cancel of the same event is refused");
        assert_eq!(q.pop(), Some((SimTime(2), 'b')));
    }

    #[test]
    fn simultaneous_events_pop_in_the_order_scheduled() {
        let mut q = EventQueue::default();
        q.schedule(SimTime(5), 'b');
        q.schedule(SimTime(1), 'a');
        q.schedule(SimTime(5), 'c');
        q.schedule(SimTime(5), 'd');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['a', 'b', 'c', 'd']);
    }

    #[test]
    fn cancelled_events_never_pop_and_do_not_count() {
        let mut q = EventQueue::default();
        let a = q.schedule(SimTime(1), 1);
        q.schedule(SimTime(2), 2);
        assert!(q.cancel(a));
        assert!(!q.cancel(a), "double cancel is reported");
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop(), Some((SimTime(2), 2)));
        assert_eq!(q.pop(), None);
        assert_eq!(q.events_processed(), 1);
    }

    #[test]
    fn reschedule_moves_an_event_earlier_or_later() {
        let mut q = EventQueue::default();
        let a = q.schedule(SimTime(10), 'a');
        let b = q.schedule(SimTime(20), 'b');
        q.reschedule(a, SimTime(30), 'a');
        q.reschedule(b, SimTime(5), 'b');
        assert_eq!(q.peek_time(), Some(SimTime(5)));
        assert_eq!(q.pop(), Some((SimTime(5), 'b')));
        assert_eq!(q.pop(), Some((SimTime(30), 'a')));
        assert!(q.is_empty());
    }

    #[test]
    fn scheduling_in_the_past_is_refused() {
        let mut q = EventQueue::default();
        q.schedule(SimTime(10), ());
        q.pop();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            q.schedule(SimTime(9), ());
        }));
        assert!(result.is_err());
    }

    proptest! {
        /// Without cancellations, the event `peek_next` names is the one `pop` returns next,
        /// also while events are scheduled between pops.
        #[test]
        fn peek_next_names_the_event_that_pops_next(
            times in prop::collection::vec(0u64..1_000_000, 1..300),
            later in prop::collection::vec(0u64..1_000, 0..300),
        ) {
            let mut q = EventQueue::default();
            for (i, &t) in times.iter().enumerate() {
                q.schedule(SimTime(t), i);
            }
            let mut extra = later.iter().enumerate();
            while let Some(&peeked) = q.peek_next() {
                let (_, popped) = q.pop().expect("peeked, so not empty");
                prop_assert_eq!(peeked, popped);
                if let Some((j, &dt)) = extra.next() {
                    q.schedule(q.now() + SimTime(dt), times.len() + j);
                }
            }
            prop_assert!(q.pop().is_none());
        }

        /// Pop order equals sorting the surviving events by (time, schedule order).
        #[test]
        fn pop_order_is_sorted_time_then_sequence(
            times in prop::collection::vec(0u64..50, 1..200),
            cancels in prop::collection::vec(any::<prop::sample::Index>(), 0..50),
            moves in prop::collection::vec((any::<prop::sample::Index>(), 0u64..50), 0..50),
        ) {
            let mut q = EventQueue::default();
            // (time, seq-order key, label)
            let mut expected: Vec<Option<(u64, u64, usize)>> = Vec::new();
            let mut ids = Vec::new();
            let mut order = 0u64;
            for (i, &t) in times.iter().enumerate() {
                ids.push(q.schedule(SimTime(t), i));
                expected.push(Some((t, order, i)));
                order += 1;
            }
            for c in &cancels {
                let i = c.index(times.len());
                if expected[i].is_some() {
                    prop_assert!(q.cancel(ids[i]));
                    expected[i] = None;
                }
            }
            for (m, t) in &moves {
                let i = m.index(times.len());
                if expected[i].is_some() {
                    ids[i] = q.reschedule(ids[i], SimTime(*t), i);
                    expected[i] = Some((*t, order, i));
                    order += 1;
                }
            }
            let mut want: Vec<(u64, u64, usize)> = expected.into_iter().flatten().collect();
            want.sort();
            let got: Vec<(u64, usize)> = std::iter::from_fn(|| q.pop().map(|(t, e)| (t.0, e))).collect();
            let want: Vec<(u64, usize)> = want.into_iter().map(|(t, _, i)| (t, i)).collect();
            prop_assert_eq!(got, want);
        }
    }
}
