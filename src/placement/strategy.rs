//! Placement strategies: ECS's `binpack`, `spread`, `random`, and user-defined ones behind the
//! [`PlacementStrategy`] trait, selectable by name
//! (docs/model.md#placement-strategies-and-defaults).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::{ClusterView, PlacementRequest};
use crate::model::HostId;

/// The attribute ECS spreads services over by default.
pub const AZ_ATTRIBUTE: &str = "ecs.availability-zone";
/// At most five strategies per service or RunTask (docs/model.md#placement-strategies-and-defaults).
pub const MAX_STRATEGIES: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    Cpu,
    Memory,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpreadField {
    /// `instanceId` or its synonym `host`.
    InstanceId,
    /// `attribute:<name>`, e.g. `attribute:ecs.availability-zone`.
    Attribute(String),
}

/// One entry of a `placementStrategy` list.
#[derive(Clone)]
pub enum StrategySpec {
    Binpack(Resource),
    Spread(SpreadField),
    Random,
    /// A strategy registered under this name in a [`StrategyRegistry`].
    Custom(Arc<dyn PlacementStrategy>),
}

impl fmt::Debug for StrategySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl PartialEq for StrategySpec {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl fmt::Display for StrategySpec {
    /// The short form a scenario accepts, e.g. `spread(attribute:ecs.availability-zone)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StrategySpec::Binpack(Resource::Cpu) => write!(f, "binpack(cpu)"),
            StrategySpec::Binpack(Resource::Memory) => write!(f, "binpack(memory)"),
            StrategySpec::Spread(SpreadField::InstanceId) => write!(f, "spread(instanceId)"),
            StrategySpec::Spread(SpreadField::Attribute(a)) => write!(f, "spread(attribute:{a})"),
            StrategySpec::Random => write!(f, "random"),
            StrategySpec::Custom(s) => write!(f, "{}", s.name()),
        }
    }
}

impl StrategySpec {
    /// Parses the ECS `type` and `field` of a strategy; `field` is `None` where ECS takes none.
    pub fn from_type_and_field(kind: &str, field: Option<&str>, registry: &StrategyRegistry) -> Result<StrategySpec, String> {
        match (kind, field) {
            ("binpack", Some(f)) => match f {
                "cpu" => Ok(StrategySpec::Binpack(Resource::Cpu)),
                "memory" => Ok(StrategySpec::Binpack(Resource::Memory)),
                other => Err(format!("binpack field `{other}` is not valid; allowed: cpu, memory")),
            },
            ("spread", Some(f)) => match f {
                "instanceId" | "host" => Ok(StrategySpec::Spread(SpreadField::InstanceId)),
                f if f.starts_with("attribute:") && f.len() > "attribute:".len() => {
                    Ok(StrategySpec::Spread(SpreadField::Attribute(f["attribute:".len()..].to_string())))
                }
                other => Err(format!(
                    "spread field `{other}` is not valid; allowed: instanceId, host, or attribute:<name> (e.g. attribute:ecs.availability-zone)"
                )),
            },
            ("random", None) => Ok(StrategySpec::Random),
            ("random", Some(_)) => Err("random takes no field".into()),
            ("binpack" | "spread", None) => Err(format!(
                "{kind} needs a field, e.g. {kind}({})",
                if kind == "binpack" { "memory" } else { "attribute:ecs.availability-zone" }
            )),
            (name, None) => registry.get(name).map(StrategySpec::Custom).ok_or_else(|| unknown_strategy(name, registry)),
            (name, Some(_)) => Err(unknown_strategy(name, registry)),
        }
    }

    /// Parses the short form: `binpack(memory)`, `spread(instanceId)`, `random`, or a registered name.
    pub fn parse(text: &str, registry: &StrategyRegistry) -> Result<StrategySpec, String> {
        let t = text.trim();
        match t.split_once('(') {
            Some((kind, rest)) => {
                let field = rest.strip_suffix(')').ok_or_else(|| format!("`{t}`: missing closing parenthesis"))?;
                Self::from_type_and_field(kind.trim(), Some(field.trim()), registry)
            }
            None => Self::from_type_and_field(t, None, registry),
        }
    }
}

fn unknown_strategy(name: &str, registry: &StrategyRegistry) -> String {
    let mut allowed = vec!["binpack(cpu|memory)".to_string(), "spread(instanceId|host|attribute:<name>)".into(), "random".into()];
    allowed.extend(registry.names().map(str::to_string));
    format!("unknown placement strategy `{name}`; allowed: {}", allowed.join(", "))
}

/// A user-defined placement strategy.
///
/// It is a pure function of the request and a read-only view of the cluster: it ranks a host that
/// already passed the resource filter and the constraints; lower ranks win; hosts with equal
/// ranks go to the next strategy in the chain, and final ties are broken by the placement random
/// stream. It never mutates anything.
///
/// ```
/// use clustersim::placement::{ClusterView, PlacementRequest, PlacementStrategy};
/// use clustersim::model::HostId;
///
/// /// Worst fit: the host with the MOST free memory first (the opposite of binpack).
/// struct WorstFit;
/// impl PlacementStrategy for WorstFit {
///     fn name(&self) -> &str { "worst-fit" }
///     fn rank(&self, _req: &PlacementRequest<'_>, view: &ClusterView<'_>, host: HostId) -> i64 {
///         -i64::from(view.cluster.host(host).free().memory_mib)
///     }
/// }
/// ```
pub trait PlacementStrategy: Send + Sync {
    /// The name a scenario uses to select it (`strategy = ["worst-fit"]`).
    fn name(&self) -> &str;
    /// Lower is better.
    fn rank(&self, request: &PlacementRequest<'_>, view: &ClusterView<'_>, host: HostId) -> i64;
}

/// Name → user strategy. The built-in ECS strategies need no registration.
#[derive(Clone, Default)]
pub struct StrategyRegistry {
    strategies: BTreeMap<String, Arc<dyn PlacementStrategy>>,
}

impl StrategyRegistry {
    pub fn new() -> StrategyRegistry {
        StrategyRegistry::default()
    }

    /// Registers a strategy under its name. Built-in names cannot be taken.
    pub fn register(&mut self, strategy: Arc<dyn PlacementStrategy>) -> Result<(), String> {
        let name = strategy.name().to_string();
        if matches!(name.as_str(), "binpack" | "spread" | "random") || name.is_empty() || name.contains('(') {
            return Err(format!("`{name}` cannot name a custom strategy"));
        }
        self.strategies.insert(name, strategy);
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn PlacementStrategy>> {
        self.strategies.get(name).cloned()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.strategies.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms_parse_and_print_back() {
        let r = StrategyRegistry::new();
        for s in ["binpack(memory)", "binpack(cpu)", "spread(instanceId)", "spread(attribute:ecs.availability-zone)", "random"] {
            assert_eq!(StrategySpec::parse(s, &r).unwrap().to_string(), s);
        }
        assert_eq!(StrategySpec::parse("spread(host)", &r).unwrap().to_string(), "spread(instanceId)");
    }

    #[test]
    fn unknown_strategies_and_fields_list_what_is_allowed() {
        let r = StrategyRegistry::new();
        assert!(StrategySpec::parse("binpack(disk)", &r).unwrap_err().contains("allowed: cpu, memory"));
        assert!(StrategySpec::parse("firstfit", &r).unwrap_err().contains("allowed: binpack(cpu|memory)"));
        assert!(StrategySpec::parse("spread(az)", &r).unwrap_err().contains("attribute:<name>"));
        assert!(StrategySpec::parse("spread", &r).unwrap_err().contains("needs a field"));
    }
}
