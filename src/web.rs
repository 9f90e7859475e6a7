//! The landing page served at `/`. The full dashboard is not built
//! yet; until it is, `/` tells a human where things are instead of pretending.

pub fn index_html(system_name: &str) -> String {
    let name = escape(system_name);
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{name}</title></head><body><main><h1>{name}</h1>\
<p>This is the {name} control plane. Agents connect to <code>/mcp</code> with a project key or personal access token.</p>\
<p>Operators: sign in with <code>POST /api/auth/login</code>; see <code>docs/api.md</code> for the API. \
The web dashboard is not part of this build yet.</p></main></body></html>"
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_the_name() {
        assert!(!super::index_html("<script>").contains("<script>"));
    }
}
