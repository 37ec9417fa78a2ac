//! Image caches on EC2 hosts and the ECS agent's pull behaviour; Fargate never caches.
//!
//! `ECS_IMAGE_PULL_BEHAVIOR` (https://github.com/aws/amazon-ecs-agent/blob/master/README.md,
//! https://docs.aws.amazon.com/AmazonECS/latest/bestpracticesguide/pull-behavior.html):
//! - `default`: pull from the registry; if the pull fails, use the cached image if there is one.
//!   Docker downloads only layers it lacks, so with a cached, unchanged image the pull is a
//!   registry round trip with no layer bytes — but it still needs a route, and without one the
//!   task starts from the cache only after the pull times out.
//! - `always`: pull from the registry; if the pull fails the task fails. Modelled as a full
//!   download (an image pulled "always" is one whose tag moves, e.g. `latest`).
//! - `once`: pull only if this host never pulled the image; otherwise use the cache.
//! - `prefer-cached`: pull only if no cached copy exists. (It also exempts the image from the
//!   agent's clean-up, which the simulator does not model: cached images are never removed.)
//!
//! Fargate has no image cache: every task downloads its whole image
//! (https://docs.aws.amazon.com/AmazonECS/latest/bestpracticesguide/task.html).

/// `ECS_IMAGE_PULL_BEHAVIOR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PullBehavior {
    #[default]
    Default,
    Always,
    Once,
    PreferCached,
}

impl PullBehavior {
    pub const NAMES: [&'static str; 4] = ["default", "always", "once", "prefer-cached"];

    pub fn parse(name: &str) -> Option<PullBehavior> {
        match name {
            "default" => Some(PullBehavior::Default),
            "always" => Some(PullBehavior::Always),
            "once" => Some(PullBehavior::Once),
            "prefer-cached" => Some(PullBehavior::PreferCached),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PullBehavior::Default => "default",
            PullBehavior::Always => "always",
            PullBehavior::Once => "once",
            PullBehavior::PreferCached => "prefer-cached",
        }
    }
}

/// What a container's start needs from the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullPlan {
    /// Download the whole image; without a route the task fails after the pull timeout.
    Full,
    /// Ask the registry, download nothing; without a route start from the cache after the pull
    /// timeout (`default` with a cached image).
    CheckRegistry,
    /// Start from the cache at once; no registry contact.
    FromCache,
}

impl PullBehavior {
    /// Whether `plan_pull` ever looks at a host's cache: under `always` every pull downloads, so
    /// the caches need neither be kept nor read.
    pub fn reads_cache(self) -> bool {
        self != PullBehavior::Always
    }
}

/// The plan for one image: `host_cache` is `None` on Fargate (no cache), else whether the host
/// has the image.
pub fn plan_pull(behavior: PullBehavior, host_cache: Option<bool>) -> PullPlan {
    match (host_cache, behavior) {
        (None | Some(false), _) | (Some(true), PullBehavior::Always) => PullPlan::Full,
        (Some(true), PullBehavior::Default) => PullPlan::CheckRegistry,
        (Some(true), PullBehavior::Once | PullBehavior::PreferCached) => PullPlan::FromCache,
    }
}

/// Index of an image (by name) in the run's image table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageId(pub u32);

/// The images each EC2 host holds. A host gets an image when a pull of it completes.
#[derive(Debug, Clone, Default)]
pub struct ImageCache {
    /// Per host, the ids of cached images, sorted.
    hosts: Vec<Vec<ImageId>>,
}

impl ImageCache {
    pub fn new(host_count: usize) -> ImageCache {
        ImageCache { hosts: vec![Vec::new(); host_count] }
    }

    /// Starts loading the host's entry (the list's header, not its images) into the cache (see
    /// [`crate::engine::prefetch`]).
    pub fn prefetch(&self, host: u32) {
        if let Some(list) = self.hosts.get(host as usize) {
            crate::engine::prefetch(list);
        }
    }

    pub fn has(&self, host: u32, image: ImageId) -> bool {
        self.hosts[host as usize].binary_search(&image).is_ok()
    }

    pub fn insert(&mut self, host: u32, image: ImageId) {
        let images = &mut self.hosts[host as usize];
        if let Err(at) = images.binary_search(&image) {
            images.insert(at, image);
        }
    }

    /// A replacement instance starts with no image.
    pub fn forget_host(&mut self, host: u32) {
        self.hosts[host as usize].clear();
    }

    /// Images cached on a host.
    pub fn count(&self, host: u32) -> usize {
        self.hosts[host as usize].len()
    }
}

/// SOCI lazy loading (https://aws.amazon.com/blogs/aws/aws-fargate-enables-faster-container-startup-using-seekable-oci/):
/// a Fargate task whose every container image has a SOCI index starts once the part of the image
/// needed to start has arrived; the rest keeps streaming. Returns the bytes still to come when
/// the container may start (the flow's milestone): `size × (1 − start_fraction)`.
pub fn lazy_loading_milestone_bytes(size_bytes: u64, start_fraction: f64) -> u64 {
    let needed = (size_bytes as f64 * start_fraction.clamp(0.0, 1.0)).ceil() as u64;
    size_bytes - needed.min(size_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_task_on_the_same_ec2_host_needs_no_download() {
        let mut cache = ImageCache::new(2);
        let img = ImageId(7);
        assert_eq!(plan_pull(PullBehavior::Once, Some(cache.has(0, img))), PullPlan::Full, "first task pulls");
        cache.insert(0, img);
        assert_eq!(plan_pull(PullBehavior::Once, Some(cache.has(0, img))), PullPlan::FromCache);
        assert_eq!(plan_pull(PullBehavior::PreferCached, Some(cache.has(0, img))), PullPlan::FromCache);
        assert_eq!(plan_pull(PullBehavior::Default, Some(cache.has(0, img))), PullPlan::CheckRegistry, "default asks the registry");
        assert_eq!(plan_pull(PullBehavior::Once, Some(cache.has(1, img))), PullPlan::Full, "another host has no copy");
    }

    #[test]
    fn always_pulls_again_on_ec2_and_fargate_pulls_every_time() {
        assert_eq!(plan_pull(PullBehavior::Always, Some(true)), PullPlan::Full);
        for b in [PullBehavior::Default, PullBehavior::Always, PullBehavior::Once, PullBehavior::PreferCached] {
            assert_eq!(plan_pull(b, None), PullPlan::Full, "Fargate has no cache ({})", b.as_str());
        }
    }

    #[test]
    fn behaviour_names_round_trip() {
        for n in PullBehavior::NAMES {
            assert_eq!(PullBehavior::parse(n).unwrap().as_str(), n);
        }
        assert_eq!(PullBehavior::parse("prefer_cached"), None);
    }

    #[test]
    fn lazy_loading_starts_after_the_needed_fraction() {
        // 500 MB at 6.4 %: 32 MB needed, 468 MB stream in after start.
        assert_eq!(lazy_loading_milestone_bytes(500_000_000, 0.064), 468_000_000);
        assert_eq!(lazy_loading_milestone_bytes(100, 1.0), 0);
        assert_eq!(lazy_loading_milestone_bytes(100, 0.0), 100);
    }
}
