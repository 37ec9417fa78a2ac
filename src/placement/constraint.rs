//! Placement constraints: `distinctInstance` and `memberOf(<cluster query>)`
//! (docs/model.md#constraints-and-the-cluster-query-language).
//! Unlike strategies, constraints are binding: a host that fails one is never chosen.

use std::fmt;

use super::query::Expression;

/// At most ten constraints per task (docs/model.md#constraints-and-the-cluster-query-language).
pub const MAX_CONSTRAINTS: usize = 10;

#[derive(Debug, Clone)]
pub enum Constraint {
    /// Each task of the group on a different container instance.
    DistinctInstance,
    MemberOf(Expression),
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Constraint::DistinctInstance => write!(f, "distinctInstance"),
            Constraint::MemberOf(e) => write!(f, "memberOf({})", e.text()),
        }
    }
}

impl Constraint {
    /// From ECS's `type` and optional `expression`.
    pub fn from_type_and_expression(kind: &str, expression: Option<&str>) -> Result<Constraint, String> {
        match (kind, expression) {
            ("distinctInstance", None) => Ok(Constraint::DistinctInstance),
            ("distinctInstance", Some(_)) => Err("distinctInstance takes no expression".into()),
            ("memberOf", Some(e)) => {
                Expression::parse(e).map(Constraint::MemberOf).map_err(|err| format!("memberOf expression `{e}`: {err}"))
            }
            ("memberOf", None) => Err("memberOf needs an expression, e.g. memberOf(attribute:ecs.instance-type =~ m5.*)".into()),
            (other, _) => Err(format!("unknown placement constraint `{other}`; allowed: distinctInstance, memberOf")),
        }
    }

    /// Short form: `distinctInstance` or `memberOf(<expression>)`.
    pub fn parse(text: &str) -> Result<Constraint, String> {
        let t = text.trim();
        match t.split_once('(') {
            Some((kind, rest)) => {
                let expr = rest.strip_suffix(')').ok_or_else(|| format!("`{t}`: missing closing parenthesis"))?;
                Self::from_type_and_expression(kind.trim(), Some(expr))
            }
            None => Self::from_type_and_expression(t, None),
        }
    }
}
