//! The ECS cluster query language, used by `memberOf` placement constraints to
//! pick the container instances a task may be placed on.
//!
//! Source: docs/model.md#constraints-and-the-cluster-query-language and
//! <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-query-language.html>.
//!
//! An expression is `subject operator [argument]`, combined with `and`/`&&`,
//! `or`/`||`, `not`/`!` and parentheses (`not` binds tightest, then `and`, then
//! `or`). Keywords, subjects and operators are case-insensitive; attribute names
//! and values are not.
//!
//! Choices the AWS documentation leaves open, made here so scenarios behave
//! predictably:
//! - The simulator does not model agent state, so `agentConnected` is always
//!   `"true"`, `agentVersion` is [`AGENT_VERSION`] and `registeredAt` is `"0"`.
//! - `==`, `!=`, `<`, `<=`, `>`, `>=` compare numerically when both sides are plain
//!   decimal numbers (`-1`, `2.5`), otherwise as strings; `in` compares strings.
//! - A missing attribute equals nothing: `exists`, `==`, `in`, `=~` and the
//!   orderings are false, and `!exists`, `!=`, `!in`, `!~` are true.
//! - `task:group` is answered by asking the instance whether it runs a task of
//!   that group, so it supports only `==`, `!=`, `in` and `!in`.
//! - `=~` follows Java's `String.matches`: the pattern must match the whole value.
//!   Patterns are compiled by the `regex` crate, so Java-only features
//!   (backreferences, lookaround) are rejected at parse time with the crate's message.
//! - Bare arguments may contain balanced `(...)` and `[...]`, so regexes such as
//!   `(t2|m5).*` need no quotes. In quoted arguments `\\` and `\'` (or `\"`) are
//!   escapes; any other backslash is kept, so `'t2\.micro'` is the regex `t2\.micro`.
//! - Nesting of `(` and `not` is limited to 64 levels so that no input can
//!   exhaust the stack of the recursive parser.

use std::cmp::Ordering;
use std::fmt;

use regex::Regex;

/// What `agentVersion` reports for every instance (the simulator has no agents).
pub const AGENT_VERSION: &str = "1.90.0";
const MAX_CHARS: usize = 2000;
const MAX_DEPTH: usize = 64;
const SUBJECTS: &str = "attribute:<name>, ec2InstanceId, runningTasksCount, task:group, \
                        agentConnected, agentVersion, registeredAt";
const OPERATORS: &str = "==, !=, >, >=, <, <=, exists, !exists, in [..], !in [..], =~, !~ \
                         (or the words equals, not_equals, not_in, matches, not_matches)";

/// What an expression needs to know about one container instance. Implemented by the placement engine.
pub trait InstanceFacts {
    /// `name` is without the `attribute:` prefix, e.g. `ecs.availability-zone`.
    fn attribute(&self, name: &str) -> Option<&str>;
    fn ec2_instance_id(&self) -> &str;
    fn running_tasks_count(&self) -> u32;
    /// true if a task of this group runs on the instance (for `task:group == x`, true if any running task has group x; `!=` means none has)
    fn has_task_group(&self, group: &str) -> bool;
}

/// A parse error; `column` counts characters from 1 and `message` says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at column {column}: {message}")]
pub struct QueryError {
    pub column: usize,
    pub message: String,
}

/// A parsed `memberOf` expression, with its regexes compiled once.
#[derive(Debug, Clone)]
pub struct Expression {
    text: String,
    root: Node,
}

#[derive(Debug, Clone)]
enum Node {
    Or(Vec<Node>),
    And(Vec<Node>),
    Not(Box<Node>),
    Test(Test),
}

/// `!=`, `!exists`, `!in` and `!~` are stored as their positive operator with
/// `negated` set: because a missing attribute equals nothing, each is exactly
/// the negation of its positive form, also on instances without the attribute.
#[derive(Debug, Clone)]
struct Test {
    subject: Subject,
    op: Op,
    negated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Subject {
    Attribute(String),
    Ec2InstanceId,
    RunningTasksCount,
    TaskGroup,
    AgentConnected,
    AgentVersion,
    RegisteredAt,
}

const NAMED_SUBJECTS: [(&str, Subject); 6] = [
    ("ec2InstanceId", Subject::Ec2InstanceId),
    ("runningTasksCount", Subject::RunningTasksCount),
    ("task:group", Subject::TaskGroup),
    ("agentConnected", Subject::AgentConnected),
    ("agentVersion", Subject::AgentVersion),
    ("registeredAt", Subject::RegisteredAt),
];

#[derive(Debug, Clone)]
enum Op {
    Exists,
    /// The argument's number is parsed once here; only the instance's side is parsed per call.
    Compare(Kind, String, Option<f64>),
    In(Vec<String>),
    Matches(Regex),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
    Exists,
    In,
    Matches,
}

/// Every spelling of every operator and whether it is the negated form; the
/// canonical spelling of each (kind, negated) pair comes first.
const SPELLINGS: [(&str, Kind, bool); 17] = [
    ("==", Kind::Eq, false),
    ("equals", Kind::Eq, false),
    ("!=", Kind::Eq, true),
    ("not_equals", Kind::Eq, true),
    (">", Kind::Gt, false),
    (">=", Kind::Ge, false),
    ("<", Kind::Lt, false),
    ("<=", Kind::Le, false),
    ("exists", Kind::Exists, false),
    ("!exists", Kind::Exists, true),
    ("in", Kind::In, false),
    ("!in", Kind::In, true),
    ("not_in", Kind::In, true),
    ("=~", Kind::Matches, false),
    ("matches", Kind::Matches, false),
    ("!~", Kind::Matches, true),
    ("not_matches", Kind::Matches, true),
];

impl Expression {
    pub fn parse(text: &str) -> Result<Expression, QueryError> {
        let parser = &mut Parser { text, pos: 0, depth: 0 };
        let chars = text.chars().count();
        if chars > MAX_CHARS {
            let first_excess = text.char_indices().nth(MAX_CHARS).map_or(0, |(i, _)| i);
            let message = format!("expression is {chars} characters long; at most {MAX_CHARS} are allowed");
            return parser.fail(first_excess, message);
        }
        if text.trim().is_empty() {
            let example = "attribute:ecs.os-type == linux";
            return parser.fail(0, format!("empty expression; expected a condition such as `{example}`"));
        }
        let root = parser.parse_or()?;
        parser.skip_ws();
        if parser.rest().starts_with(')') {
            return parser.fail(parser.pos, "unmatched ')'; no '(' is open here");
        }
        if !parser.rest().is_empty() {
            let found = parser.found();
            let message = format!("expected 'and', 'or' or end of expression, found {found}");
            return parser.fail(parser.pos, message);
        }
        Ok(Expression { text: text.to_string(), root })
    }

    pub fn matches(&self, instance: &dyn InstanceFacts) -> bool {
        self.root.eval(instance)
    }

    /// Attribute names referenced (without the prefix), sorted and deduplicated — lets the caller reject unknown attributes at validation time.
    pub fn attribute_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        self.root.visit(&mut |test| {
            if let Subject::Attribute(name) = &test.subject {
                names.push(name.clone());
            }
        });
        names.sort();
        names.dedup();
        names
    }

    /// Whether the expression refers to task groups or runningTasksCount (its value can change as tasks start/stop, so it cannot be cached per host).
    pub fn depends_on_tasks(&self) -> bool {
        let mut depends = false;
        self.root.visit(&mut |test| {
            let subject = &test.subject;
            depends |= matches!(subject, Subject::TaskGroup | Subject::RunningTasksCount);
        });
        depends
    }

    /// The expression exactly as written, for messages that quote the user's input.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

// ---------------------------------------------------------------- evaluation

impl Node {
    fn eval(&self, instance: &dyn InstanceFacts) -> bool {
        match self {
            Node::Or(items) => items.iter().any(|n| n.eval(instance)),
            Node::And(items) => items.iter().all(|n| n.eval(instance)),
            Node::Not(inner) => !inner.eval(instance),
            Node::Test(test) => test.eval(instance) != test.negated,
        }
    }

    fn visit(&self, visit: &mut dyn FnMut(&Test)) {
        match self {
            Node::Or(items) | Node::And(items) => items.iter().for_each(|n| n.visit(visit)),
            Node::Not(inner) => inner.visit(visit),
            Node::Test(test) => visit(test),
        }
    }
}

impl Test {
    /// The positive form; the caller applies `negated`.
    fn eval(&self, instance: &dyn InstanceFacts) -> bool {
        let mut digits = [0u8; 10];
        let actual = match &self.subject {
            Subject::Attribute(name) => instance.attribute(name),
            Subject::Ec2InstanceId => Some(instance.ec2_instance_id()),
            Subject::RunningTasksCount => Some(format_u32(instance.running_tasks_count(), &mut digits)),
            Subject::AgentConnected => Some("true"),
            Subject::AgentVersion => Some(AGENT_VERSION),
            Subject::RegisteredAt => Some("0"),
            Subject::TaskGroup => {
                return match &self.op {
                    Op::Compare(_, group, _) => instance.has_task_group(group),
                    Op::In(groups) => groups.iter().any(|g| instance.has_task_group(g)),
                    Op::Exists | Op::Matches(_) => false, // rejected by the parser
                };
            }
        };
        let Some(actual) = actual else { return false };
        match &self.op {
            Op::Exists => true,
            Op::In(values) => values.iter().any(|v| v == actual),
            Op::Matches(regex) => regex.is_match(actual),
            Op::Compare(kind, text, number) => {
                let ordering = match (parse_number(actual), number) {
                    (Some(a), Some(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
                    _ => actual.cmp(text),
                };
                match kind {
                    Kind::Eq => ordering.is_eq(),
                    Kind::Lt => ordering.is_lt(),
                    Kind::Le => ordering.is_le(),
                    Kind::Gt => ordering.is_gt(),
                    Kind::Ge => ordering.is_ge(),
                    Kind::Exists | Kind::In | Kind::Matches => false,
                }
            }
        }
    }
}

/// Only plain decimals count as numbers: `f64::from_str` would also accept
/// `inf`, `NaN` and `1e5`, which are more likely meant as strings here.
fn parse_number(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let plain = int.len() + frac.len() > 0 && digits(int) && digits(frac);
    plain.then(|| text.parse().ok()).flatten()
}

/// Renders into a stack buffer so that matching `runningTasksCount` against
/// strings and regexes does not allocate per instance.
fn format_u32(mut n: u32, buf: &mut [u8; 10]) -> &str {
    let mut start = buf.len();
    while start == buf.len() || n > 0 {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    std::str::from_utf8(&buf[start..]).unwrap_or_default()
}

/// Java's `String.matches` semantics. The pattern is compiled alone first so that
/// one such as `a)|(b` cannot escape the anchoring group, and so that errors
/// refer to what the user wrote.
fn compile_whole_match(pattern: &str) -> Result<Regex, String> {
    let anchored = Regex::new(pattern).and_then(|_| Regex::new(&format!("^(?:{pattern})$")));
    anchored.map_err(|e| {
        // Only the final "error: …" line; the caret diagram above it spans lines.
        let e = e.to_string();
        e.lines().last().unwrap_or_default().trim_start_matches("error: ").to_string()
    })
}

// ------------------------------------------------------------------- parsing

/// Characters that may appear in a subject, keyword or word operator; the
/// others end it, so `not(`, `a==b` and `in[` need no spaces.
fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !"()[],'\"=!<>~&|".contains(c)
}

struct Parser<'a> {
    text: &'a str,
    /// Byte offset, always on a char boundary.
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or_default()
    }

    fn skip_ws(&mut self) {
        self.pos = self.text.len() - self.rest().trim_start().len();
    }

    fn eat(&mut self, token: &str) -> bool {
        let found = self.rest().starts_with(token);
        self.pos += if found { token.len() } else { 0 };
        found
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let (rest, len) = (self.rest(), keyword.len());
        let found = rest.get(..len).is_some_and(|w| w.eq_ignore_ascii_case(keyword)) && !rest[len..].starts_with(is_word_char);
        self.pos += if found { len } else { 0 };
        found
    }

    fn take_while(&mut self, accept: impl Fn(char) -> bool) -> &'a str {
        let rest = self.rest();
        let len = rest.find(|c| !accept(c)).unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    fn fail<T>(&self, pos: usize, message: impl Into<String>) -> Result<T, QueryError> {
        let column = self.text.get(..pos).unwrap_or(self.text).chars().count() + 1;
        Err(QueryError { column, message: message.into() })
    }

    /// Describes the token at the current position for "found …" messages.
    fn found(&self) -> String {
        let mut token = self.rest().split_whitespace().next().unwrap_or_default();
        if token.starts_with(['(', ')', '[', ']', ',']) {
            token = &token[..1];
        }
        match token {
            "" => "end of expression".into(),
            _ => format!("'{}'", token.chars().take(24).collect::<String>()),
        }
    }

    fn parse_or(&mut self) -> Result<Node, QueryError> {
        self.sequence(Self::parse_and, "||", "or", Node::Or)
    }

    fn parse_and(&mut self) -> Result<Node, QueryError> {
        self.sequence(Self::parse_unary, "&&", "and", Node::And)
    }

    /// Operands joined by one combinator, spelled `symbol` or `word`.
    fn sequence(
        &mut self,
        operand: fn(&mut Self) -> Result<Node, QueryError>,
        symbol: &str,
        word: &str,
        combine: fn(Vec<Node>) -> Node,
    ) -> Result<Node, QueryError> {
        let mut items = vec![operand(self)?];
        loop {
            self.skip_ws();
            if !self.eat(symbol) && !self.eat_keyword(word) {
                break;
            }
            items.push(operand(self)?);
        }
        Ok(if items.len() > 1 { combine(items) } else { items.swap_remove(0) })
    }

    fn parse_unary(&mut self) -> Result<Node, QueryError> {
        self.skip_ws();
        let start = self.pos;
        let is_group = self.eat("(");
        if !is_group && !self.eat("!") && !self.eat_keyword("not") {
            return self.parse_test().map(Node::Test);
        }
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail(start, format!("expression nests more than {MAX_DEPTH} levels of '(' and 'not'"));
        }
        let node = if is_group { self.parse_or()? } else { Node::Not(Box::new(self.parse_unary()?)) };
        self.depth -= 1;
        self.skip_ws();
        if !is_group || self.eat(")") {
            return Ok(node);
        }
        if self.rest().is_empty() {
            return self.fail(start, "unclosed '('; expected ')' before end of expression");
        }
        let open = self.text[..start].chars().count() + 1;
        let message = format!("expected 'and', 'or' or ')' to close the '(' at column {open}");
        self.fail(self.pos, format!("{message}, found {}", self.found()))
    }

    fn parse_test(&mut self) -> Result<Test, QueryError> {
        let start = self.pos;
        let word = self.take_while(is_word_char);
        if word.is_empty() || word.eq_ignore_ascii_case("and") || word.eq_ignore_ascii_case("or") {
            self.pos = start;
            let found = self.found();
            return self.fail(start, format!("expected a condition (a subject, '(' or 'not'), found {found}"));
        }
        let subject = self.subject(word, start)?;
        self.skip_ws();
        let op_start = self.pos;
        let (kind, negated) = self.operator(word)?;
        let op_text = &self.text[op_start..self.pos];
        if subject == Subject::TaskGroup && !matches!(kind, Kind::Eq | Kind::In) {
            let message = "task:group supports only ==, !=, in and !in (it is checked against \
                           the groups of the tasks running on the instance)";
            return self.fail(op_start, message);
        }
        self.skip_ws();
        let value_start = self.pos;
        let op = match kind {
            Kind::Exists => Op::Exists,
            Kind::In => Op::In(self.list(op_text)?),
            Kind::Matches => {
                let source = self.value(&format!("a regular expression after '{op_text}'"), false)?;
                let regex = compile_whole_match(&source);
                let message = |e| format!("invalid regular expression {source:?}: {e}");
                Op::Matches(regex.or_else(|e| self.fail(value_start, message(e)))?)
            }
            Kind::Eq | Kind::Lt | Kind::Le | Kind::Gt | Kind::Ge => {
                let text = self.value(&format!("a value after '{op_text}'"), false)?;
                let number = parse_number(&text);
                Op::Compare(kind, text, number)
            }
        };
        Ok(Test { subject, op, negated })
    }

    fn subject(&self, word: &str, start: usize) -> Result<Subject, QueryError> {
        const PREFIX: &str = "attribute:";
        let is_attribute = word.get(..PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(PREFIX));
        if !is_attribute {
            let known = NAMED_SUBJECTS.into_iter().find(|(name, _)| name.eq_ignore_ascii_case(word));
            return match known {
                Some((_, subject)) => Ok(subject),
                None => self.fail(start, format!("unknown subject '{word}'; expected one of {SUBJECTS}")),
            };
        }
        let (name, name_start) = (&word[PREFIX.len()..], start + PREFIX.len());
        let valid = |c: char| c.is_ascii_alphanumeric() || "-_/\\.".contains(c);
        if let Some((offset, c)) = name.char_indices().find(|&(_, c)| !valid(c)) {
            let expected = "expected letters, digits, '-', '_', '/', '\\' or '.'";
            return self.fail(name_start + offset, format!("unexpected {c:?} in attribute name; {expected}"));
        }
        match name.len() {
            0 => self.fail(name_start, "expected an attribute name after 'attribute:'"),
            129.. => self.fail(name_start, "attribute names are at most 128 characters"),
            _ => Ok(Subject::Attribute(name.to_string())),
        }
    }

    fn operator(&mut self, subject: &str) -> Result<(Kind, bool), QueryError> {
        let (start, rest) = (self.pos, self.rest());
        let alphabetic = |s: &str| s.starts_with(|c: char| c.is_ascii_alphabetic());
        let token = if alphabetic(rest.strip_prefix('!').unwrap_or(rest)) {
            let bang = usize::from(self.eat("!"));
            &rest[..bang + self.take_while(is_word_char).len()]
        } else {
            // The longest symbol wins, so that `>=` is not read as `>` and the value `=…`.
            let symbols = SPELLINGS.iter().map(|s| s.0).filter(|s| !alphabetic(&s[s.len() - 1..]));
            let symbol = symbols.filter(|s| rest.starts_with(s)).max_by_key(|s| s.len());
            self.pos += symbol.map_or(0, str::len);
            symbol.unwrap_or_else(|| self.take_while(|c| "=!<>~".contains(c)))
        };
        if token.is_empty() {
            let found = self.found();
            return self.fail(start, format!("expected an operator after '{subject}' ({OPERATORS}), found {found}"));
        }
        match SPELLINGS.iter().find(|s| s.0.eq_ignore_ascii_case(token)) {
            Some(&(_, kind, negated)) => Ok((kind, negated)),
            None => self.fail(start, format!("unknown operator '{token}'; expected one of {OPERATORS}")),
        }
    }

    fn list(&mut self, op_text: &str) -> Result<Vec<String>, QueryError> {
        let open = self.pos;
        if !self.eat("[") {
            let found = self.found();
            return self.fail(open, format!("expected '[' to start the list after '{op_text}', found {found}"));
        }
        let mut values = Vec::new();
        loop {
            self.skip_ws();
            if !self.rest().is_empty() {
                values.push(self.value("a value in the list", true)?);
                self.skip_ws();
            }
            if self.eat("]") {
                return Ok(values);
            }
            if self.rest().is_empty() {
                return self.fail(open, "unclosed '['; expected ']' to end the list");
            }
            if !self.eat(",") {
                return self.fail(self.pos, format!("expected ',' or ']' in the list, found {}", self.found()));
            }
        }
    }

    /// A quoted string or a bare word; `what` names the expected value in errors.
    fn value(&mut self, what: &str, in_list: bool) -> Result<String, QueryError> {
        let start = self.pos;
        let Some(quote) = self.rest().chars().next().filter(|c| matches!(c, '\'' | '"')) else {
            let word = self.bare_word(in_list);
            if word.is_empty() {
                return self.fail(start, format!("expected {what}, found {}", self.found()));
            }
            return Ok(word.to_string());
        };
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.rest().chars().peekable();
        while let Some(c) = chars.next() {
            self.pos += c.len_utf8();
            if c == quote {
                return Ok(out);
            }
            let escaped = if c == '\\' { chars.next_if(|&n| n == quote || n == '\\') } else { None };
            self.pos += escaped.map_or(0, char::len_utf8);
            out.push(escaped.unwrap_or(c));
        }
        self.fail(start, format!("unclosed quote; expected a closing {quote}"))
    }

    /// Ends at whitespace, at an unbalanced `)` or `]`, at `&&`/`||`, and in a
    /// list at `,`; brackets may nest so that regexes read naturally.
    fn bare_word(&mut self, in_list: bool) -> &'a str {
        let (mut parens, mut brackets) = (0usize, 0usize);
        let mut chars = self.rest().char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let top = parens + brackets == 0;
            let doubled = chars.peek().is_some_and(|&(_, next)| next == c);
            match c {
                '\\' => _ = chars.next(),
                '(' => parens += 1,
                '[' => brackets += 1,
                ')' if parens > 0 => parens -= 1,
                ']' if brackets > 0 => brackets -= 1,
                ')' | ']' if top => return self.take_bytes(i),
                ',' if in_list && top => return self.take_bytes(i),
                '&' | '|' if doubled && top => return self.take_bytes(i),
                _ if c.is_whitespace() => return self.take_bytes(i),
                _ => {}
            }
        }
        self.take_bytes(self.rest().len())
    }

    fn take_bytes(&mut self, len: usize) -> &'a str {
        let taken = &self.rest()[..len];
        self.pos += len;
        taken
    }
}

// ------------------------------------------------------------- canonical form
// Composite operands are always parenthesised and values quoted when needed, so
// the property tests can check that the parser reads back the tree it printed.

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let grouped = |node: &Node| match node {
            Node::Or(_) | Node::And(_) => format!("({node})"),
            _ => node.to_string(),
        };
        let (items, separator) = match self {
            Node::Test(test) => return write!(f, "{test}"),
            Node::Not(inner) => return write!(f, "not {}", grouped(inner)),
            Node::Or(items) => (items, " or "),
            Node::And(items) => (items, " and "),
        };
        f.write_str(&items.iter().map(grouped).collect::<Vec<_>>().join(separator))
    }
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let named = NAMED_SUBJECTS.iter().find(|(_, s)| *s == self.subject);
        match (&self.subject, named) {
            (Subject::Attribute(name), _) => write!(f, "attribute:{name}")?,
            (_, named) => f.write_str(named.map_or("?", |(name, _)| name))?,
        }
        let kind = match &self.op {
            Op::Exists => Kind::Exists,
            Op::Compare(kind, ..) => *kind,
            Op::In(_) => Kind::In,
            Op::Matches(_) => Kind::Matches,
        };
        let spelling = SPELLINGS.iter().find(|s| s.1 == kind && s.2 == self.negated);
        write!(f, " {}", spelling.map_or("?", |s| s.0))?;
        match &self.op {
            Op::Exists => Ok(()),
            Op::Compare(_, value, _) => write!(f, " {}", Quoted(value)),
            Op::Matches(regex) => {
                let source = regex.as_str(); // as compiled: `^(?:` pattern `)$`
                write!(f, " {}", Quoted(&source[4..source.len() - 2]))
            }
            Op::In(values) => {
                let values: Vec<_> = values.iter().map(|v| Quoted(v).to_string()).collect();
                write!(f, " [{}]", values.join(", "))
            }
        }
    }
}

/// Writes a value bare when that is unambiguous, otherwise single-quoted.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bare = |c: char| c.is_ascii_alphanumeric() || ".-_:/*@+".contains(c);
        if !self.0.is_empty() && self.0.chars().all(bare) {
            return f.write_str(self.0);
        }
        let mut chars = self.0.chars().peekable();
        f.write_str("'")?;
        while let Some(c) = chars.next() {
            let escape = c == '\'' || (c == '\\' && matches!(chars.peek(), None | Some('\\' | '\'')));
            write!(f, "{}{c}", if escape { "\\" } else { "" })?;
        }
        f.write_str("'")
    }
}
#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    #[derive(Default)]
    struct Fake {
        attributes: BTreeMap<String, String>,
        id: String,
        tasks: u32,
        groups: Vec<String>,
    }

    impl InstanceFacts for Fake {
        fn attribute(&self, name: &str) -> Option<&str> {
            self.attributes.get(name).map(String::as_str)
        }
        fn ec2_instance_id(&self) -> &str {
            &self.id
        }
        fn running_tasks_count(&self) -> u32 {
            self.tasks
        }
        fn has_task_group(&self, group: &str) -> bool {
            self.groups.iter().any(|g| g == group)
        }
    }

    fn fake(attributes: &[(&str, &str)]) -> Fake {
        let mut f = Fake::default();
        for (name, value) in attributes {
            f.attributes.insert(name.to_string(), value.to_string());
        }
        f
    }

    fn t2_small() -> Fake {
        let mut f = fake(&[
            ("ecs.instance-type", "t2.small"),
            ("ecs.availability-zone", "us-east-1a"),
            ("ecs.os-type", "linux"),
            ("stack", "prod"),
        ]);
        f.id = "i-abcd1234".into();
        f.groups.push("service:production".into());
        f
    }

    fn g2_large() -> Fake {
        let mut f = fake(&[("ecs.instance-type", "g2.2xlarge"), ("ecs.availability-zone", "us-east-1c")]);
        (f.id, f.tasks) = ("i-0000ffff".into(), 3);
        f
    }

    fn eval(text: &str, instance: &Fake) -> bool {
        let expression = Expression::parse(text);
        expression.unwrap_or_else(|e| panic!("{text:?}: {e}")).matches(instance)
    }

    fn assert_error(text: &str, column: usize, expected: &str) {
        let error = Expression::parse(text).expect_err(text);
        assert_eq!(error.column, column, "{text:?}: {error}");
        assert!(error.message.contains(expected), "{text:?}: {error}");
    }

    #[test]
    fn aws_documentation_examples_parse_and_evaluate() {
        let zones = "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]";
        let t2_in_zones = format!("attribute:ecs.instance-type =~ t2.* and {zones}");
        let cases = [
            ("attribute:ecs.instance-type == t2.small", true, false),
            (zones, true, false),
            ("attribute:ecs.instance-type =~ g2.*", false, true),
            (&t2_in_zones, true, false),
            ("not(attribute:ecs.instance-type =~ t2.*)", false, true),
            ("attribute:ecs.os-type == linux", true, false),
            ("task:group == service:production", true, false),
            ("runningTasksCount == 0", true, false),
            ("attribute:stack exists", true, false),
            ("ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", true, false),
            ("agentConnected == true", true, true),
        ];
        for (text, on_t2, on_g2) in cases {
            assert_eq!(eval(text, &t2_small()), on_t2, "{text} on t2.small");
            assert_eq!(eval(text, &g2_large()), on_g2, "{text} on g2.2xlarge");
        }
    }

    /// Checks `text`, where `$a`, `$b`, `$c` stand for `attribute:<x> exists`,
    /// on all eight instances with and without those attributes.
    fn truth_table(text: &str, expected: impl Fn(bool, bool, bool) -> bool) {
        let text = text.replace('$', "attribute:").replace(":a", ":a exists");
        let text = text.replace(":b", ":b exists").replace(":c", ":c exists");
        for bits in 0..8 {
            let (a, b, c) = (bits & 4 != 0, bits & 2 != 0, bits & 1 != 0);
            let present = [("a", a), ("b", b), ("c", c)].map(|(n, on)| (if on { n } else { "-" }, ""));
            let actual = eval(&text, &fake(&present));
            assert_eq!(actual, expected(a, b, c), "{text} with a={a} b={b} c={c}");
        }
    }

    #[test]
    fn and_binds_tighter_than_or() {
        truth_table("$a or $b and $c", |a, b, c| a || (b && c));
        truth_table("$a and $b or $c", |a, b, c| (a && b) || c);
        truth_table("$a || $b && $c", |a, b, c| a || (b && c));
    }

    #[test]
    fn not_binds_tighter_than_and_and_or() {
        truth_table("not $a and $b", |a, b, _| !a && b);
        truth_table("! $a or $b and $c", |a, b, c| !a || (b && c));
        truth_table("not not $a", |a, _, _| a);
    }

    #[test]
    fn parentheses_override_precedence() {
        truth_table("($a or $b) and $c", |a, b, c| (a || b) && c);
        truth_table("not ($a or $b) or $c", |a, b, c| !(a || b) || c);
        truth_table("$a and ($b or not $c)", |a, b, c| a && (b || !c));
    }

    #[test]
    fn keywords_and_operators_are_case_insensitive() {
        truth_table("NOT $a AND $b Or $c", |a, b, c| (!a && b) || c);
        let text = "ATTRIBUTE:stack EXISTS and RunningTasksCount EQUALS 0";
        assert!(eval(text, &t2_small()));
        let text = "attribute:ecs.os-type IN [linux] && ec2instanceid NOT_IN [x]";
        assert!(eval(text, &t2_small()));
    }

    #[test]
    fn instance_type_wildcard_matches_whole_value_only() {
        let matches = |op: &str, instance_type| {
            let instance = fake(&[("ecs.instance-type", instance_type)]);
            eval(&format!("attribute:ecs.instance-type {op}"), &instance)
        };
        assert!(matches("=~ t2.*", "t2.micro"));
        assert!(!matches("=~ t2.*", "xt2.micro"));
        assert!(!matches("=~ micro", "t2.micro"));
        assert!(matches("!~ micro", "t2.micro"));
        assert!(matches("matches '.*micro'", "t2.micro"));
        assert!(matches("=~ t2|m5.large", "t2"), "| spans the whole pattern");
    }

    #[test]
    fn bare_regex_may_contain_balanced_parentheses_and_brackets() {
        let m5 = fake(&[("ecs.instance-type", "m5.large")]);
        assert!(eval("attribute:ecs.instance-type =~ (t2|m5).*", &m5));
        assert!(!eval("not(attribute:ecs.instance-type =~ (t2|m5).*)", &m5));
        assert!(eval(r"attribute:ecs.instance-type =~ [mt][0-9]\..*", &m5));
        assert!(eval(r"attribute:ecs.instance-type =~ 'm5\.large'", &m5));
    }

    #[test]
    fn running_tasks_count_compares_numerically() {
        let instance = Fake { tasks: 10, ..Fake::default() };
        assert!(eval("runningTasksCount > 9", &instance), "as strings 10 < 9");
        assert!(eval("runningTasksCount >= 10 and runningTasksCount <= 10.0", &instance));
        assert!(!eval("runningTasksCount < 2", &instance));
        assert!(eval("runningTasksCount != 0", &instance));
        assert!(eval("runningTasksCount in [1, 10]", &instance));
        assert!(eval("runningTasksCount =~ 1[0-9]", &instance));
    }

    #[test]
    fn non_numeric_values_compare_as_strings() {
        let instance = fake(&[("tier", "beta")]);
        assert!(eval("attribute:tier > alpha and attribute:tier < gamma", &instance));
        assert!(eval("attribute:tier > 5", &instance), "'b' sorts after '5'");
    }

    #[test]
    fn missing_attribute_equals_nothing() {
        for op in ["== x", "in [x]", "=~ .*", "> 0", "<= 0", "exists"] {
            assert!(!eval(&format!("attribute:team {op}"), &fake(&[])), "{op}");
        }
        for op in ["!= x", "!in [x]", "not_in [x]", "!~ .*", "!exists"] {
            assert!(eval(&format!("attribute:team {op}"), &fake(&[])), "{op}");
        }
    }

    #[test]
    fn task_group_asks_the_instance_about_running_groups() {
        let instance = t2_small();
        assert!(eval("task:group in [service:web, service:production]", &instance));
        assert!(!eval("task:group != service:production", &instance));
        assert!(eval("task:group !in [service:web]", &instance));
    }

    #[test]
    fn unmodelled_agent_subjects_have_fixed_values() {
        let version = format!("agentVersion == {AGENT_VERSION}");
        let text = format!("agentConnected == true and registeredAt == 0 and {version}");
        assert!(eval(&text, &fake(&[])));
    }

    #[test]
    fn quoted_values_may_hold_spaces_and_escaped_quotes() {
        let instance = fake(&[("note", r#"it's a "test""#)]);
        assert!(eval(r#"attribute:note == 'it\'s a "test"'"#, &instance));
        assert!(eval(r#"attribute:note == "it's a \"test\"""#, &instance));
    }

    #[test]
    fn attribute_names_are_sorted_and_deduplicated() {
        let names = |text| Expression::parse(text).unwrap().attribute_names();
        let text = "attribute:b exists or (attribute:a == 1 and not attribute:b == 2)";
        assert_eq!(names(text), ["a", "b"]);
        assert!(names("ec2InstanceId == x").is_empty());
    }

    #[test]
    fn depends_on_tasks_only_for_task_group_and_running_tasks_count() {
        let depends = |text| Expression::parse(text).unwrap().depends_on_tasks();
        assert!(depends("attribute:a exists or not runningTasksCount > 0"));
        assert!(depends("task:group == service:web"));
        assert!(!depends("attribute:a exists and ec2InstanceId == x and agentConnected == true"));
    }

    #[test]
    fn text_and_display_return_the_input_unchanged() {
        let text = "  not(attribute:ecs.instance-type =~ t2.*) ";
        let expression = Expression::parse(text).unwrap();
        assert_eq!(expression.text(), text);
        assert_eq!(expression.to_string(), text);
    }

    #[test]
    fn unknown_subject_lists_the_valid_subjects() {
        let text = "attribute:a exists and instanceType == t2.micro";
        assert_error(text, 24, "unknown subject 'instanceType'; expected one of");
        assert_error(text, 24, "attribute:<name>, ec2InstanceId, runningTasksCount");
    }

    #[test]
    fn invalid_attribute_name_points_at_the_bad_character() {
        assert_error("attribute:café == x", 14, "unexpected 'é' in attribute");
        assert_error("attribute: == x", 11, "expected an attribute name");
    }

    #[test]
    fn unknown_operator_lists_the_valid_operators() {
        assert_error("attribute:a => 5", 13, "unknown operator '=>'");
        assert_error("attribute:a => 5", 13, "expected one of ==, !=, >, >=");
        assert_error("attribute:a contains 5", 13, "operator 'contains'");
    }

    #[test]
    fn missing_operator_is_reported_after_the_subject() {
        assert_error("attribute:a", 12, "expected an operator after 'attribute:a'");
        assert_error("(ec2InstanceId)", 15, "found ')'");
    }

    #[test]
    fn missing_argument_names_the_operator() {
        let text = "attribute:a ==";
        assert_error(text, 15, "expected a value after '==', found end of expression");
        let text = "(attribute:a =~ )";
        assert_error(text, 17, "expected a regular expression after '=~', found ')'");
    }

    #[test]
    fn list_errors_point_at_the_bracket_or_the_bad_token() {
        assert_error("attribute:a in [x, y", 16, "unclosed '['; expected ']'");
        assert_error("attribute:a in x", 16, "expected '[' to start the list");
        assert_error("attribute:a in [x,]", 19, "expected a value in the list");
        assert_error("attribute:a in [x y]", 19, "expected ',' or ']' in the list");
    }

    #[test]
    fn unclosed_parenthesis_points_at_the_opening_one() {
        let text = "attribute:a exists and (attribute:b exists or attribute:c exists";
        assert_error(text, 24, "unclosed '('; expected ')'");
        let text = "(attribute:a exists x)";
        assert_error(text, 21, "expected 'and', 'or' or ')' to close the '(' at column 1");
    }

    #[test]
    fn unclosed_quote_points_at_the_opening_quote() {
        assert_error("attribute:a == 'abc", 16, "unclosed quote; expected a closing '");
    }

    #[test]
    fn invalid_regex_includes_the_regex_message() {
        let message = "invalid regular expression \"t2[\": unclosed character class";
        assert_error("attribute:a =~ t2[", 16, message);
        assert_error("attribute:a =~ 'a)|(b'", 16, "unopened group");
    }

    #[test]
    fn trailing_garbage_and_stray_parenthesis_are_rejected() {
        let text = "attribute:a exists foo";
        assert_error(text, 20, "expected 'and', 'or' or end of expression, found 'foo'");
        assert_error("attribute:a exists)", 19, "unmatched ')'");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_error("attribute:a == 'ééé' x", 22, "found 'x'");
    }

    #[test]
    fn dangling_combinator_expects_a_condition() {
        assert_error("attribute:a exists and", 23, "expected a condition");
        assert_error("or attribute:a exists", 1, "expected a condition");
    }

    #[test]
    fn empty_expression_is_rejected() {
        assert_error("", 1, "empty expression");
        assert_error("  \t", 1, "empty expression");
    }

    #[test]
    fn expressions_over_2000_characters_are_rejected() {
        let value = "x".repeat(2000 - "attribute:a == ".len());
        assert!(Expression::parse(&format!("attribute:a == {value}")).is_ok());
        assert_error(&format!("attribute:a == {value}y"), 2001, "at most 2000");
    }

    #[test]
    fn task_group_rejects_operators_it_cannot_answer() {
        let text = "task:group =~ service:.*";
        assert_error(text, 12, "task:group supports only ==, !=, in and !in");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let text = format!("{}attribute:a exists", "(".repeat(1000));
        assert_error(&text, 65, "nests more than 64");
        assert!(Expression::parse(&format!("{}attribute:a exists", "!".repeat(1999))).is_err());
        let deepest = format!("{}attribute:a exists{}", "(".repeat(64), ")".repeat(64));
        assert!(Expression::parse(&deepest).is_ok());
    }

    // ------------------------------------------------------------- properties

    const TOKENS: &[&str] = &[
        "attribute:ecs.instance-type",
        "attribute:",
        "task:group",
        "runningTasksCount",
        "==",
        "!=",
        ">=",
        "<",
        "exists",
        "!exists",
        "in",
        "!in",
        "not_in",
        "=~",
        "!~",
        "matches",
        "and",
        "or",
        "not",
        "&&",
        "||",
        "!",
        "(",
        ")",
        "[",
        "]",
        ",",
        "'",
        "\"",
        "\\",
        "t2.*",
        "(a|b)",
        "[0-9]",
        "5",
        "-1.5",
        "é",
        " ",
        " ",
        " ",
    ];

    fn leaf() -> impl Strategy<Value = Node> {
        let value = prop_oneof!["[a-z0-9.*:-]{1,6}", "\\PC{0,5}"];
        let subject = prop_oneof![
            "[a-zA-Z0-9._/-]{1,8}".prop_map(Subject::Attribute),
            Just(Subject::Ec2InstanceId),
            Just(Subject::RunningTasksCount),
            Just(Subject::AgentVersion),
        ];
        let patterns = vec!["t2.*", "(a|b).*", "[a-z]+", r"x\.y", r".*'\\.*", ""];
        let regex = prop::sample::select(patterns).prop_map(compile_whole_match);
        let kinds = vec![Kind::Eq, Kind::Lt, Kind::Le, Kind::Gt, Kind::Ge];
        let compare = (prop::sample::select(kinds), value.clone());
        let op = prop_oneof![
            Just(Op::Exists),
            compare.prop_map(|(kind, v)| Op::Compare(kind, v.clone(), parse_number(&v))),
            prop::collection::vec(value, 1..4).prop_map(Op::In),
            regex.prop_map(|regex| Op::Matches(regex.unwrap())),
        ];
        let group = prop_oneof![
            "[a-z:]{1,6}".prop_map(|group| Op::Compare(Kind::Eq, group, None)),
            prop::collection::vec("[a-z:]{1,6}", 1..3).prop_map(Op::In),
        ];
        let test = prop_oneof![4 => (subject, op), 1 => (Just(Subject::TaskGroup), group)];
        (test, any::<bool>()).prop_map(|((subject, op), negated)| {
            // Orderings have no negated spelling.
            let negated = negated && !matches!(op, Op::Compare(kind, ..) if kind != Kind::Eq);
            Node::Test(Test { subject, op, negated })
        })
    }

    fn tree() -> impl Strategy<Value = Node> {
        leaf().prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                inner.clone().prop_map(|n| Node::Not(Box::new(n))),
                prop::collection::vec(inner.clone(), 2..4).prop_map(Node::And),
                prop::collection::vec(inner, 2..4).prop_map(Node::Or),
            ]
        })
    }

    fn instances() -> [Fake; 4] {
        let busy = Fake { tasks: 12, ..Fake::default() };
        let odd = fake(&[("a", "5"), ("b", "x.y"), ("c", "")]);
        [t2_small(), g2_large(), busy, odd]
    }

    proptest! {
        #[test]
        fn parse_never_panics_on_arbitrary_text(text in "\\PC{0,200}|.{0,50}") {
            let _ = Expression::parse(&text);
        }

        #[test]
        fn parse_and_match_never_panic_on_token_soup(
            tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..30),
            glue in prop::sample::select(&["", " "][..]),
        ) {
            if let Ok(expression) = Expression::parse(&tokens.join(glue)) {
                for instance in instances() {
                    let _ = expression.matches(&instance);
                }
            }
        }

        #[test]
        fn canonical_text_of_any_tree_parses_back_to_the_same_tree(root in tree()) {
            let text = root.to_string();
            let parsed = Expression::parse(&text);
            let parsed = parsed.map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
            prop_assert_eq!(parsed.root.to_string(), text.clone());
            let original = Expression { text, root };
            for instance in instances() {
                prop_assert_eq!(parsed.matches(&instance), original.matches(&instance));
            }
        }
    }
}
