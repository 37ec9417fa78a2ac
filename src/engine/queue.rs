//! The future-event list: a min-heap on `(time, sequence)` with cancellation and rescheduling.
//!
//! Measured on this project's machine (CRATES.md §6), `std::collections::BinaryHeap` with lazy
//! cancellation is about 3× faster than `priority_queue::PriorityQueue` at 1k–100k pending events
//! and cheaper than its `change_priority` even with 20 % of events rescheduled. So every event goes
//! through this heap; cancelling marks the event's sequence number dead, and `pop` skips it.
//! Rescheduling is cancel + schedule. (Keyed re-prioritisation of many flows sharing a link is a
//! different shape of problem; it belongs to the network model, not here.)

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rustc_hash::FxHashSet;

use super::SimTime;

/// Handle of a scheduled event, valid until the event is popped or cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(u64);

struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest `(time, seq)` first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// Events of type `E`, popped in `(time, sequence)` order; simultaneous events pop in the order
/// they were scheduled.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    cancelled: FxHashSet<u64>,
    next_seq: u64,
    now: SimTime,
    popped: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl<E> EventQueue<E> {
    pub fn with_capacity(capacity: usize) -> EventQueue<E> {
        EventQueue {
            heap: BinaryHeap::with_capacity(capacity),
            cancelled: FxHashSet::default(),
            next_seq: 0,
            now: SimTime::ZERO,
            popped: 0,
        }
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
        self.heap.len() - self.cancelled.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Schedules `event` at `time`, which must not be in the past: a simulation never goes back.
    pub fn schedule(&mut self, time: SimTime, event: E) -> EventId {
        assert!(time >= self.now, "event scheduled in the past: {time} < {}", self.now);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { time, seq, event });
        EventId(seq)
    }

    /// Cancels a pending event. Returns false if it already ran or was cancelled.
    pub fn cancel(&mut self, id: EventId) -> bool {
        // An id at or beyond `next_seq` was never issued; one below it is pending only if still
        // in the heap, which we cannot see cheaply — the caller owns that knowledge, and a double
        // cancel is detected by the set.
        id.0 < self.next_seq && self.cancelled.insert(id.0)
    }

    /// Moves a pending event to `time` (earlier or later). Returns the new handle.
    pub fn reschedule(&mut self, id: EventId, time: SimTime, event: E) -> EventId {
        let was_pending = self.cancel(id);
        debug_assert!(was_pending, "rescheduled an event that is not pending");
        self.schedule(time, event)
    }

    /// The next live event, advancing `now` to its time.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        while let Some(entry) = self.heap.pop() {
            if !self.cancelled.is_empty() && self.cancelled.remove(&entry.seq) {
                continue;
            }
            debug_assert!(entry.time >= self.now);
            self.now = entry.time;
            self.popped += 1;
            return Some((entry.time, entry.event));
        }
        None
    }

    /// Time of the next live event without popping it.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        while let Some(entry) = self.heap.peek() {
            if self.cancelled.remove(&entry.seq) {
                self.heap.pop();
                continue;
            }
            return Some(entry.time);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
