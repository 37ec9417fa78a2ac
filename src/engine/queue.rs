//! The future-event list: a monotone priority queue on `(time, sequence)` with cancellation and
//! rescheduling.
//!
//! Measured on this project's machine (`benches/engine.rs`, figures in `results/bench/README.md`):
//! a radix heap is about 1.8× faster than `std::collections::BinaryHeap` at 100k pending events
//! and 5× at 1M, with the same pop order (it is slower only near 1k pending events). A radix heap
//! is valid here because a discrete-event simulation never schedules into the past: every key
//! pushed is ≥ the last key popped. So events live in a radix heap keyed by their 64-bit time,
//! whose lowest bucket (the events at the current minimum time) is a queue in sequence order;
//! cancelling marks the sequence number dead and `pop` skips it (lazy deletion); rescheduling is
//! cancel + schedule. (Keying by time alone, rather than by `time << 64 | sequence`, moves an
//! event only across the bits of its time, and compares 64-bit words.)

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

/// Radix heap over 64-bit times: bucket `b ≥ 1` holds events whose time's highest bit differing
/// from `last` (the time of the last settled minimum) is bit `b − 1`; bucket 0 holds the events at
/// `last` itself, in sequence order (a queue: an event scheduled at `last` has a higher sequence
/// number than every event already there). Popping refills bucket 0 from the lowest non-empty
/// bucket, moving each event at most 64 times in its life.
struct RadixHeap<E> {
    last: u64,
    /// At time `last`, by sequence number.
    now: std::collections::VecDeque<(u64, E)>,
    /// Buckets 1 to 64 (index `b − 1`): (time, sequence, event).
    buckets: Vec<Vec<(u64, u64, E)>>,
    /// Bit `b − 1` set ⇔ bucket `b` non-empty.
    occupied: u64,
    len: usize,
}

impl<E> RadixHeap<E> {
    fn new() -> Self {
        RadixHeap { last: 0, now: std::collections::VecDeque::new(), buckets: (0..64).map(|_| Vec::new()).collect(), occupied: 0, len: 0 }
    }

    /// Files an event by its time's highest bit differing from `last`.
    fn put(&mut self, time: u64, seq: u64, e: E) {
        let diff = time ^ self.last;
        if diff == 0 {
            self.now.push_back((seq, e));
        } else {
            let b = 63 - diff.leading_zeros() as usize;
            self.buckets[b].push((time, seq, e));
            self.occupied |= 1 << b;
        }
    }

    fn push(&mut self, time: u64, seq: u64, e: E) {
        debug_assert!(time >= self.last, "radix heap key below the last popped key");
        self.put(time, seq, e);
        self.len += 1;
    }

    /// Ensures bucket 0 holds the minimum; returns false if empty.
    fn settle(&mut self) -> bool {
        if self.len == 0 {
            return false;
        }
        if self.now.is_empty() {
            let b = self.occupied.trailing_zeros() as usize;
            let mut moving = std::mem::take(&mut self.buckets[b]);
            self.occupied &= !(1 << b);
            self.last = moving.iter().map(|(t, _, _)| *t).min().expect("occupied bucket is non-empty");
            for (t, seq, e) in moving.drain(..) {
                self.put(t, seq, e);
            }
            // Keep the emptied vector's capacity for the next time this bucket fills.
            self.buckets[b] = moving;
            if self.now.len() > 1 {
                self.now.make_contiguous().sort_unstable_by_key(|(seq, _)| *seq);
            }
        }
        true
    }

    fn pop(&mut self) -> Option<(u64, u64, E)> {
        if !self.settle() {
            return None;
        }
        let (seq, e) = self.now.pop_front().expect("settled bucket 0 is non-empty");
        self.len -= 1;
        Some((self.last, seq, e))
    }

    /// The event with the smallest key, without moving anything: the head of bucket 0, or a scan
    /// of the lowest non-empty bucket, which the next `pop` scans anyway (usually a few events).
    fn peek(&self) -> Option<&E> {
        if let Some((_, e)) = self.now.front() {
            return Some(e);
        }
        if self.occupied == 0 {
            return None;
        }
        let b = self.occupied.trailing_zeros() as usize;
        self.buckets[b].iter().min_by_key(|(t, seq, _)| (*t, *seq)).map(|(_, _, e)| e)
    }

    /// The (time, sequence) of the minimum.
    fn peek_key(&mut self) -> Option<(u64, u64)> {
        if self.settle() { self.now.front().map(|(seq, _)| (self.last, *seq)) } else { None }
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
        self.heap.push(time.0, seq, event);
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
        while let Some((t, seq, event)) = self.heap.pop() {
            if !self.cancelled.is_empty() && self.cancelled.remove(&seq) {
                continue;
            }
            let time = SimTime(t);
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
        while let Some((t, seq)) = self.heap.peek_key() {
            if self.cancelled.remove(&seq) {
                self.heap.pop();
                continue;
            }
            return Some(SimTime(t));
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
    fn events_scheduled_at_the_current_time_pop_after_those_already_due_then() {
        let mut q = EventQueue::default();
        q.schedule(SimTime(5), 'a');
        q.schedule(SimTime(10), 'b');
        q.schedule(SimTime(10), 'c');
        assert_eq!(q.pop(), Some((SimTime(5), 'a')));
        q.schedule(SimTime(10), 'd');
        assert_eq!(q.pop(), Some((SimTime(10), 'b')));
        // Now at 10, with c and d still due at 10: a new event at 10 comes after both.
        q.schedule(SimTime(10), 'e');
        q.schedule(SimTime(11), 'g');
        q.schedule(SimTime(10), 'f');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['c', 'd', 'e', 'f', 'g']);
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
