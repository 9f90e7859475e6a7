//! Input checks shared by the registry, users and evidence: trimmed text with
//! length limits, email syntax, placeholders. Each error names its field.

use serde::{Deserialize, Deserializer};

use crate::error::{Error, Result};

/// For a field where `null` differs from absent (clear vs keep):
/// absent → `None`, `null` → `Some(None)`. Use with `#[serde(default)]`.
pub fn nullable<'de, D, T>(d: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Trimmed, non-empty, at most `max` characters, no control characters.
pub fn text(field: &str, v: &str, max: usize) -> Result<String> {
    let t = v.trim();
    if t.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if t.chars().count() > max {
        return Err(Error::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if t.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(t.to_string())
}

pub fn opt_text(field: &str, v: Option<&str>, max: usize) -> Result<Option<String>> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => text(field, s, max).map(Some),
        None => Ok(None),
    }
}

/// Trimmed, lower-cased, syntax-checked email (one `@`, a dotted domain, no spaces).
pub fn email(field: &str, v: &str) -> Result<String> {
    let e = v.trim().to_lowercase();
    let bad = || {
        Error::invalid_hint(
            field,
            format!("`{}` is not a valid email address", truncate(v, 80)),
            "use an address like name@example.com",
        )
    };
    if e.len() > 254 || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let Some((local, domain)) = e.split_once('@') else {
        return Err(bad());
    };
    if local.is_empty()
        || local.len() > 64
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
        || !domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
    {
        return Err(bad());
    }
    Ok(e)
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

const PLACEHOLDERS: &[&str] = &[
    "todo",
    "tbd",
    "tba",
    "change_me",
    "changeme",
    "change-me",
    "change me",
    "placeholder",
    "xxx",
    "n/a",
    "na",
    "none",
    "null",
    "test",
    "foo",
    "bar",
    "example",
    "fixme",
    "untitled",
    "name",
    "project",
];

pub fn project_name(v: &str) -> Result<String> {
    let t = text("name", v, 120)?;
    if PLACEHOLDERS.contains(&t.to_lowercase().as_str()) {
        return Err(Error::invalid_hint(
            "name",
            format!("`{t}` looks like a placeholder"),
            "give the project its real name",
        ));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            email("e", "  Owner@Corp.Example ").unwrap(),
            "owner@corp.example"
        );
        for bad in [
            "", "a", "a@b", "a@@b.c", "a b@c.d", "@c.d", "a@.c", "a@c.", "a@c..d", "a@c_d.e",
        ] {
            assert!(email("e", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names() {
        assert!(project_name("Pilot").is_ok());
        assert!(project_name("TODO").is_err());
        assert!(project_name(" change_me ").is_err());
        assert!(project_name(&"x".repeat(121)).is_err());
        assert!(project_name("a\u{0}b").is_err());
    }
}
