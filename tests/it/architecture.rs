//! The layering, checked from the source: the two doors (`http`, `mcp`) do
//! not import each other; the store imports no domain module and no web
//! framework; the domain imports neither axum nor rmcp nor a door, except the
//! Terraform state backend, which is an HTTP listener by nature. A new
//! contributor who crosses a line finds out here.

use std::path::{Path, PathBuf};

/// Which layer a file under `src/` belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Http,
    Mcp,
    Store,
    Domain,
    /// Wiring and infrastructure (app, cli, server, loops, config, edge…).
    Other,
}

const DOMAIN: [&str; 10] = [
    "auth",
    "registry",
    "provisioning",
    "governance",
    "secrets",
    "catalog",
    "audit.rs",
    "seed.rs",
    "clock.rs",
    "error.rs",
];

/// Domain files allowed to use a web framework, and why.
const DOMAIN_EXCEPTIONS: [&str; 1] = [
    // Terraform talks to Asgard's state over HTTP: the backend is a loopback
    // listener that only the runs it serves can reach.
    "provisioning/backend.rs",
];

fn layer(rel: &str) -> Layer {
    let top = rel.split('/').next().unwrap_or("");
    match top {
        "http" => Layer::Http,
        "mcp" => Layer::Mcp,
        "store" => Layer::Store,
        t if DOMAIN.contains(&t) => Layer::Domain,
        _ => Layer::Other,
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without its comments (line comments only: the code
/// base uses no block comments).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The forbidden references a file of `layer` makes.
fn violations(rel: &str, layer: Layer, code: &str) -> Vec<String> {
    let mut banned: Vec<&str> = Vec::new();
    match layer {
        Layer::Http => banned.push("crate::mcp"),
        Layer::Mcp => banned.push("crate::http"),
        Layer::Store => {
            for m in [
                "auth",
                "registry",
                "provisioning",
                "governance",
                "secrets",
                "catalog",
                "audit",
                "seed",
                "http",
                "mcp",
                "edge",
                "app",
            ] {
                banned.push(Box::leak(format!("crate::{m}").into_boxed_str()));
            }
            banned.extend(["axum", "rmcp"]);
        }
        Layer::Domain if !DOMAIN_EXCEPTIONS.contains(&rel) => {
            banned.extend(["axum", "rmcp", "crate::http", "crate::mcp", "crate::edge"]);
        }
        _ => {}
    }
    banned
        .into_iter()
        .filter(|b| {
            code.match_indices(b).any(|(i, _)| {
                let before = code[..i].chars().next_back();
                let after = code[i + b.len()..].chars().next();
                !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
        })
        .map(|b| format!("src/{rel} ({layer:?}) uses {b}"))
        .collect()
}

#[test]
fn layers_hold() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(files.len() > 50, "found only {} files", files.len());
    let mut bad = Vec::new();
    let mut seen = [0usize; 5];
    for f in &files {
        let rel = f
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let l = layer(&rel);
        seen[l as usize] += 1;
        bad.extend(violations(
            &rel,
            l,
            &code(&std::fs::read_to_string(f).unwrap()),
        ));
    }
    // Every layer is represented, so a rename cannot make the check vacuous.
    assert!(seen.iter().all(|n| *n > 0), "layers seen: {seen:?}");
    assert!(bad.is_empty(), "layering broken:\n  {}", bad.join("\n  "));
}

/// The checker itself catches each kind of edge.
#[test]
fn the_checker_finds_forbidden_edges() {
    let cases = [
        ("mcp/x.rs", "use crate::http::AppState;", true),
        ("http/x.rs", "let r = crate::mcp::router(app);", true),
        ("store/x.rs", "use crate::auth::Identity;", true),
        ("store/x.rs", "use axum::body::Bytes;", true),
        ("registry/x.rs", "use axum::Json;", true),
        ("provisioning/x.rs", "use rmcp::model::Tool;", true),
        ("provisioning/backend.rs", "use axum::Router;", false),
        ("mcp/x.rs", "use crate::edge::AppState;", false),
        ("registry/x.rs", "let axum_free = 1;", false),
        ("store/x.rs", "use crate::clock::Clock;", false),
    ];
    for (rel, src, want) in cases {
        assert_eq!(
            !violations(rel, layer(rel), &code(src)).is_empty(),
            want,
            "{rel}: {src}"
        );
    }
    assert_eq!(code("use a; // crate::http"), "use a; ");
}
