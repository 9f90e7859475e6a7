//! Who the identity provider says the person is: `sub`, email (and whether
//! the provider verified it), name, preferred username and groups, from the
//! ID token, filled in from userinfo where the token is silent. Pure.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    pub sub: String,
    /// Lower-cased, and only when the provider marks it verified: an
    /// unverified address is never stored or used (it would grant the
    /// projects owned by that address).
    pub email: Option<String>,
    /// An address was present but not verified (for messages and logs).
    pub unverified_email: bool,
    pub name: Option<String>,
    pub preferred_username: Option<String>,
    /// `None` when the provider sent no groups claim at all.
    pub groups: Option<Vec<String>>,
}

/// A claim by exact name, else by dotted path (`realm_access.roles`).
fn claim<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    if let Some(x) = v.get(name).filter(|x| !x.is_null()) {
        return Some(x);
    }
    if !name.contains('.') || name.contains("://") {
        return None;
    }
    name.split('.')
        .try_fold(v, |cur, part| cur.get(part))
        .filter(|x| !x.is_null())
}

fn text(v: &Value, name: &str, max: usize) -> Option<String> {
    let s: String = v
        .get(name)?
        .as_str()?
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let s = s.trim();
    (!s.is_empty()).then(|| s.chars().take(max).collect())
}

fn truthy(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        // Some providers (e.g. AWS Cognito) send the string "true".
        Value::String(s) => Some(s.eq_ignore_ascii_case("true")),
        _ => None,
    }
}

/// `email_verified`; when a provider does not send it, Microsoft Entra ID's
/// optional `xms_edov` ("email domain owner verified") counts.
fn verified(v: &Value) -> bool {
    truthy(v.get("email_verified"))
        .or_else(|| truthy(v.get("xms_edov")))
        .unwrap_or(false)
}

fn groups(v: &Value, name: &str) -> Option<Vec<String>> {
    match claim(v, name)? {
        Value::Array(a) => Some(
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
        ),
        Value::String(s) => Some(vec![s.clone()]),
        _ => Some(Vec::new()),
    }
}

/// Whether userinfo is worth a call: the ID token lacks the email, or the
/// groups when group → role mapping is configured.
pub fn needs_userinfo(id: &Value, want_groups: bool, groups_claim: &str) -> bool {
    id.get("email").is_none_or(Value::is_null) || (want_groups && claim(id, groups_claim).is_none())
}

/// Merge the ID token (authoritative) with userinfo. `sub` is the ID
/// token's; the caller has checked userinfo's `sub` matches.
pub fn build(sub: &str, id: &Value, userinfo: Option<&Value>, groups_claim: &str) -> Profile {
    let empty = Value::Null;
    let ui = userinfo.unwrap_or(&empty);
    // The email and its verification come from the same source.
    let src = if id.get("email").is_some_and(Value::is_string) {
        id
    } else {
        ui
    };
    let raw_email = text(src, "email", 254);
    let email = raw_email
        .as_deref()
        .filter(|_| verified(src))
        .and_then(|e| crate::registry::validate::email("email", e).ok());
    Profile {
        sub: sub.to_string(),
        unverified_email: raw_email.is_some() && !verified(src),
        email,
        name: text(id, "name", 120).or_else(|| text(ui, "name", 120)),
        preferred_username: text(id, "preferred_username", 254)
            .or_else(|| text(ui, "preferred_username", 254)),
        groups: groups(id, groups_claim).or_else(|| groups(ui, groups_claim)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn id_token_first_then_userinfo() {
        let id = json!({"sub": "s", "name": "Alice A."});
        let ui = json!({"sub": "s", "email": "Alice@Corp.Example", "email_verified": true, "name": "ignored", "groups": ["g1", 7]});
        let p = build("s", &id, Some(&ui), "groups");
        assert_eq!(p.email.as_deref(), Some("alice@corp.example"));
        assert_eq!(p.name.as_deref(), Some("Alice A."));
        assert_eq!(p.groups, Some(vec!["g1".to_string()]));
        assert!(!p.unverified_email);
    }

    #[test]
    fn unverified_or_invalid_email_is_dropped() {
        let p = build(
            "s",
            &json!({"email": "a@b.example", "email_verified": false}),
            None,
            "groups",
        );
        assert_eq!(p.email, None);
        assert!(p.unverified_email);
        let p = build("s", &json!({"email": "a@b.example"}), None, "groups");
        assert_eq!(p.email, None);
        let p = build(
            "s",
            &json!({"email": "a@b.example", "email_verified": "true"}),
            None,
            "groups",
        );
        assert_eq!(p.email.as_deref(), Some("a@b.example"));
        let p = build(
            "s",
            &json!({"email": "not an email", "email_verified": true}),
            None,
            "groups",
        );
        assert_eq!(p.email, None);
        // the verification flag of one source never vouches for the other's address
        let p = build(
            "s",
            &json!({"email": "x@b.example"}),
            Some(&json!({"email": "y@b.example", "email_verified": true})),
            "groups",
        );
        assert_eq!(p.email, None);
    }

    #[test]
    fn groups_claim_shapes() {
        let by = |v: Value, name: &str| build("s", &v, None, name).groups;
        assert_eq!(by(json!({}), "groups"), None);
        assert_eq!(
            by(json!({"groups": "admins"}), "groups"),
            Some(vec!["admins".into()])
        );
        assert_eq!(
            by(
                json!({"https://asgard.example/groups": ["a"]}),
                "https://asgard.example/groups"
            ),
            Some(vec!["a".into()])
        );
        assert_eq!(
            by(
                json!({"realm_access": {"roles": ["r"]}}),
                "realm_access.roles"
            ),
            Some(vec!["r".into()])
        );
    }

    #[test]
    fn when_userinfo_is_needed() {
        assert!(needs_userinfo(&json!({"sub": "s"}), false, "groups"));
        assert!(!needs_userinfo(&json!({"email": "a@b.c"}), false, "groups"));
        assert!(needs_userinfo(&json!({"email": "a@b.c"}), true, "groups"));
        assert!(!needs_userinfo(
            &json!({"email": "a@b.c", "groups": []}),
            true,
            "groups"
        ));
    }
}
