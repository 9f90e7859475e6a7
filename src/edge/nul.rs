//! The NUL screen both doors apply to what callers send: no text in Asgard
//! may carry a NUL character (Postgres refuses it in `text` columns), so it
//! is turned away as the caller's mistake, naming where it was.

/// The path (`a.b[2]`) of the first string or key holding a NUL character.
/// No text in Asgard may carry one: Postgres refuses it in `text` columns,
/// so it has to be turned away as the caller's mistake before it gets there.
/// Allocates nothing unless it finds one.
pub fn nul_path(v: &serde_json::Value) -> Option<String> {
    nul_at(v).map(render_path)
}

/// `nul_path` of an object's members (MCP tool arguments).
pub fn nul_path_in(o: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    nul_in_members(o).map(render_path)
}

/// Path segments to the NUL, innermost first (built on the way back out).
fn nul_at(v: &serde_json::Value) -> Option<Vec<String>> {
    match v {
        serde_json::Value::String(s) if s.contains('\0') => Some(Vec::new()),
        serde_json::Value::Array(a) => a.iter().enumerate().find_map(|(i, x)| {
            nul_at(x).map(|mut p| {
                p.push(format!("[{i}]"));
                p
            })
        }),
        serde_json::Value::Object(o) => nul_in_members(o),
        _ => None,
    }
}

fn nul_in_members(o: &serde_json::Map<String, serde_json::Value>) -> Option<Vec<String>> {
    o.iter().find_map(|(k, x)| {
        let mut p = if k.contains('\0') {
            Vec::new()
        } else {
            nul_at(x)?
        };
        p.push(k.clone());
        Some(p)
    })
}

fn render_path(innermost_first: Vec<String>) -> String {
    let mut out = String::new();
    for seg in innermost_first.into_iter().rev() {
        if !out.is_empty() && !seg.starts_with('[') {
            out.push('.');
        }
        out.push_str(&seg);
    }
    if out.is_empty() { "(body)".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_paths_name_the_field() {
        assert_eq!(
            nul_path(&json!({"a": {"b": ["x", "y\u{0}"]}})).as_deref(),
            Some("a.b[1]")
        );
        assert_eq!(
            nul_path(&json!({"ok": "x", "k\u{0}": 1})).as_deref(),
            Some("k\u{0}")
        );
        assert_eq!(nul_path(&json!("a\u{0}")).as_deref(), Some("(body)"));
        assert_eq!(nul_path(&json!([{"n": "\u{0}"}])).as_deref(), Some("[0].n"));
        assert_eq!(nul_path(&json!({"a": ["x", {"b": "y"}], "c": 1})), None);
        let args = json!({"project_id": "p\u{0}"});
        assert_eq!(
            nul_path_in(args.as_object().unwrap()).as_deref(),
            Some("project_id")
        );
    }
}
