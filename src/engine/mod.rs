//! The domain-free simulation core: integer time, the event queue and named random streams.
//!
//! Architecture invariant: nothing in `engine` knows about ECS, hosts, tasks or files. It is a
//! small, reusable kernel that `sim` drives; models depend on it, never the other way round.

mod prefetch;
mod queue;
mod rng;
mod time;

pub use prefetch::prefetch;
pub use queue::{EventId, EventQueue};
pub use rng::{RngStreams, derive_seed, stable_hash64};
pub use time::SimTime;
