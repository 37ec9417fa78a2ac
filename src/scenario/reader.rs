//! A reader over a parsed TOML table that remembers where it is, so every error names the file,
//! the full key (`workload.web.arrival.rate_per_s`) and what is allowed — and that rejects keys it
//! does not know (a typo must not silently fall back to a default).

use std::collections::BTreeSet;

use toml::Value;
use toml::map::Map;

use super::ScenarioError;
use super::units;
use crate::engine::SimTime;

pub struct Table<'a> {
    file: &'a str,
    path: String,
    map: &'a Map<String, Value>,
    /// Every key asked for, present or not: the keys this table allows.
    asked: BTreeSet<String>,
}

impl<'a> Table<'a> {
    pub fn root(file: &'a str, map: &'a Map<String, Value>) -> Table<'a> {
        Table { file, path: String::new(), map, asked: BTreeSet::new() }
    }

    /// A table found at `path` by other means (e.g. an element of an array of tables).
    pub fn nested(file: &'a str, path: String, map: &'a Map<String, Value>) -> Table<'a> {
        Table { file, path, map, asked: BTreeSet::new() }
    }

    /// The file its errors name.
    pub fn file(&self) -> &'a str {
        self.file
    }

    /// This table's own key path (`failures.host_groups.main`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Full key path of a child key.
    pub fn key(&self, name: &str) -> String {
        if self.path.is_empty() { name.to_string() } else { format!("{}.{name}", self.path) }
    }

    /// An error at `key`. A "missing" key also names any key here that looks like a typo of it
    /// (`count_per_azz` for `count_per_az`): otherwise the user cannot see why the key they
    /// wrote is "missing".
    pub fn error(&self, key: &str, message: impl Into<String>) -> ScenarioError {
        let mut message = message.into();
        if message.starts_with("missing")
            && let Some(typo) = self.map.keys().find(|k| k.as_str() != key && near_miss(k, key))
        {
            message.push_str(&format!(" (found `{}`: a typo of `{key}`?)", self.key(typo)));
        }
        ScenarioError::new(self.file, self.key(key), message)
    }

    fn get(&mut self, name: &str) -> Option<&'a Value> {
        if !self.asked.contains(name) {
            self.asked.insert(name.to_string());
        }
        self.map.get(name)
    }

    pub fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    fn type_error(&self, name: &str, expected: &str, found: &Value) -> ScenarioError {
        self.error(name, format!("expected {expected}, found {} `{found}`", found.type_str()))
    }

    pub fn opt_str(&mut self, name: &str) -> Result<Option<&'a str>, ScenarioError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.type_error(name, "a string", v)),
        }
    }

    pub fn str(&mut self, name: &str) -> Result<&'a str, ScenarioError> {
        self.opt_str(name)?.ok_or_else(|| self.error(name, "missing (required)"))
    }

    pub fn opt_u64(&mut self, name: &str) -> Result<Option<u64>, ScenarioError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Integer(i)) if *i >= 0 => Ok(Some(*i as u64)),
            Some(v) => Err(self.type_error(name, "a whole number ≥ 0", v)),
        }
    }

    /// A whole number that must be at least `min`.
    pub fn opt_u32_min(&mut self, name: &str, min: u32) -> Result<Option<u32>, ScenarioError> {
        match self.opt_u64(name)? {
            None => Ok(None),
            Some(v) if v >= u64::from(min) && v <= u64::from(u32::MAX) => Ok(Some(v as u32)),
            Some(v) => Err(self.error(name, format!("{v} is out of range; allowed: {min} to {}", u32::MAX))),
        }
    }

    /// A whole number in `[min, max]`.
    pub fn opt_u32_range(&mut self, name: &str, min: u32, max: u32) -> Result<Option<u32>, ScenarioError> {
        match self.opt_u64(name)? {
            None => Ok(None),
            Some(v) if v >= u64::from(min) && v <= u64::from(max) => Ok(Some(v as u32)),
            Some(v) => Err(self.error(name, format!("{v} is out of range; allowed: {min} to {max}"))),
        }
    }

    pub fn opt_f64(&mut self, name: &str) -> Result<Option<f64>, ScenarioError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Integer(i)) => Ok(Some(*i as f64)),
            Some(Value::Float(f)) if f.is_finite() => Ok(Some(*f)),
            Some(v) => Err(self.type_error(name, "a number", v)),
        }
    }

    /// A number in `[min, max]`.
    pub fn opt_f64_in(&mut self, name: &str, min: f64, max: f64) -> Result<Option<f64>, ScenarioError> {
        match self.opt_f64(name)? {
            Some(v) if !(min..=max).contains(&v) => Err(self.error(name, format!("{v} is out of range; allowed: {min} to {max}"))),
            other => Ok(other),
        }
    }

    pub fn opt_bool(&mut self, name: &str) -> Result<Option<bool>, ScenarioError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(*b)),
            Some(v) => Err(self.type_error(name, "true or false", v)),
        }
    }

    pub fn opt_duration(&mut self, name: &str) -> Result<Option<SimTime>, ScenarioError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => units::parse_duration(s).map(Some).map_err(|m| self.error(name, m)),
            Some(Value::Integer(i)) if *i >= 0 => Ok(Some(SimTime::from_secs(*i as u64))),
            Some(Value::Float(f)) if *f >= 0.0 => Ok(Some(SimTime::from_secs_f64(*f))),
            Some(v) => Err(self.type_error(name, "a duration such as \"90s\", \"5m\" or \"2h\"", v)),
        }
    }

    pub fn duration(&mut self, name: &str) -> Result<SimTime, ScenarioError> {
        self.opt_duration(name)?.ok_or_else(|| self.error(name, "missing (required); e.g. \"2h\""))
    }

    /// A memory size in MiB (`"512MiB"`, `"2GiB"`, or a bare integer of MiB; see [`units`]).
    pub fn opt_mib(&mut self, name: &str) -> Result<Option<u32>, ScenarioError> {
        let mib = match self.get(name) {
            None => return Ok(None),
            Some(Value::String(s)) => units::parse_mib(s).map_err(|m| self.error(name, m))?,
            Some(Value::Integer(i)) if *i >= 0 && *i <= i64::from(u32::MAX) => *i as u32,
            Some(v) => {
                return Err(self.type_error(name, &format!("a size such as \"512MiB\" or \"2GiB\" ({})", units::SIZE_UNITS), v));
            }
        };
        Ok(Some(mib))
    }

    pub fn opt_table(&mut self, name: &str) -> Result<Option<Table<'a>>, ScenarioError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Table(t)) => Ok(Some(Table { file: self.file, path: self.key(name), map: t, asked: BTreeSet::new() })),
            Some(v) => Err(self.type_error(name, "a table", v)),
        }
    }

    pub fn table(&mut self, name: &str) -> Result<Table<'a>, ScenarioError> {
        self.opt_table(name)?.ok_or_else(|| self.error(name, "missing (required table)"))
    }

    pub fn opt_array(&mut self, name: &str) -> Result<Option<&'a [Value]>, ScenarioError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(v) => Err(self.type_error(name, "an array", v)),
        }
    }

    pub fn opt_value(&mut self, name: &str) -> Option<&'a Value> {
        self.get(name)
    }

    /// Array of strings.
    /// Item `i` of array `name` as a table (`example` shows one in the error otherwise).
    pub fn array_item(&self, name: &str, i: usize, v: &'a Value, example: &str) -> Result<Table<'a>, ScenarioError> {
        let key = self.key(&format!("{name}[{i}]"));
        let map = v.as_table().ok_or_else(|| ScenarioError::new(self.file, &key, format!("expected a table {example}")))?;
        Ok(Table::nested(self.file, key, map))
    }

    /// An array of tables each with an `at` before `horizon`, in increasing `at` order (such as
    /// `deployments`): each table (its `at` read) with its time. `example` shows one entry; `what`
    /// says what would never happen at or after the horizon.
    pub fn timed_tables(
        &mut self,
        name: &str,
        example: &str,
        horizon: SimTime,
        what: &str,
    ) -> Result<Vec<(SimTime, Table<'a>)>, ScenarioError> {
        let mut out: Vec<(SimTime, Table<'a>)> = Vec::new();
        for (i, v) in self.opt_array(name)?.unwrap_or(&[]).iter().enumerate() {
            let key = format!("{name}[{i}]");
            let Value::Table(t) = v else {
                return Err(self.error(&key, format!("expected a table such as {example}")));
            };
            let mut e = Table::nested(self.file, self.key(&key), t);
            let at = e.duration("at")?;
            if at >= horizon {
                return Err(e.error("at", format!("is at or after the horizon; {what}")));
            }
            if out.last().is_some_and(|&(p, _)| p >= at) {
                return Err(e.error("at", format!("{name} must be in increasing `at` order")));
            }
            out.push((at, e));
        }
        Ok(out)
    }

    pub fn opt_strings(&mut self, name: &str) -> Result<Option<Vec<&'a str>>, ScenarioError> {
        let Some(items) = self.opt_array(name)? else { return Ok(None) };
        items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().ok_or_else(|| self.error(&format!("{name}[{i}]"), format!("expected a string, found {}", v.type_str())))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// The sub-tables of a table of named tables (`[workload.web]`, `[workload.jobs]`…), in name order.
    pub fn named_tables(&mut self, name: &str) -> Result<Vec<(&'a str, Table<'a>)>, ScenarioError> {
        let Some(mut outer) = self.opt_table(name)? else { return Ok(Vec::new()) };
        let names: Vec<&'a str> = outer.map.keys().map(String::as_str).collect();
        let mut out = Vec::with_capacity(names.len());
        for n in names {
            out.push((n, outer.table(n)?));
        }
        Ok(out)
    }

    /// Iterates a plain table's entries (for free-form maps such as custom attributes).
    pub fn entries(&mut self) -> Vec<(&'a str, &'a Value)> {
        for k in self.map.keys() {
            self.asked.insert(k.clone());
        }
        self.map.iter().map(|(k, v)| (k.as_str(), v)).collect()
    }

    /// Fails on the first key that was never read: it is a typo or a key this version ignores.
    pub fn finish(self) -> Result<(), ScenarioError> {
        for key in self.map.keys() {
            if !self.asked.contains(key.as_str()) {
                let allowed: Vec<&str> = self.asked.iter().map(String::as_str).collect();
                let allowed = if allowed.is_empty() { "none".to_string() } else { allowed.join(", ") };
                return Err(self.error(key, format!("unknown key; allowed here: {allowed}")));
            }
        }
        Ok(())
    }
}

/// Whether `a` looks like a typo of `b`: equal ignoring case and punctuation, or at most two
/// edits apart (for names longer than four characters).
fn near_miss(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>();
    if norm(a) == norm(b) {
        return true;
    }
    if b.len() <= 4 {
        return false;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()] <= 2
}
