//! Error hints must point at things that exist ("hint: what to do
//! next"). Every `docs/*.md` named in the source is a real file, and the
//! 404/405 hints of the API name no route that itself answers 404.

use std::path::{Path, PathBuf};

use crate::support::{Engine, Opts, TestApp};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `docs/NAME.md` references in `text`.
fn doc_refs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("docs/") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '.')))
            .unwrap_or(tail.len());
        let r = tail[..end].trim_end_matches('.');
        if r.ends_with(".md") {
            out.push(r.to_string());
        }
        rest = &tail[end.max(5)..];
    }
    out
}

#[test]
fn every_doc_named_in_the_source_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut missing = Vec::new();
    for f in files {
        // The agent seed names files of the repository being seeded, not ours.
        if f.ends_with("seed.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for r in doc_refs(&text) {
            if !root.join(&r).is_file() {
                missing.push(format!("{}: {r}", f.strip_prefix(root).unwrap().display()));
            }
        }
    }
    assert!(missing.is_empty(), "hints name missing docs: {missing:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_fallback_hints_name_real_routes() {
    let app = TestApp::spawn(Engine::Sqlite, Opts::new()).await;
    let tok = app.admin_token().await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for r in [
        app.get("/api/no-such-route", Some(&tok)).await,
        app.delete("/api/auth/me", Some(&tok)).await,
    ] {
        let body = r.json();
        let hint = body["error"]["hint"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(!hint.is_empty(), "no hint: {body}");
        for word in hint.split_whitespace() {
            let w = word.trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '/'));
            if w.starts_with("/api/") {
                let r = app.get(w, Some(&tok)).await;
                assert_ne!(r.status, 404, "the hint names {w}, which is a 404: {hint}");
            }
        }
        for d in doc_refs(&hint) {
            assert!(root.join(&d).is_file(), "the hint names {d}: {hint}");
        }
    }
}

/// docs/config.md names every variable and `asgard.yaml` key that
/// `src/config` reads, so the reference cannot silently fall behind.
#[test]
fn config_doc_lists_every_variable_and_key() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/config.md")).unwrap();
    let mut files = Vec::new();
    rust_files(&root.join("src/config"), &mut files);
    let mut missing = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        // Quoted variable names: "ASGARD_X" (the bare prefix is a filter).
        for part in text.split('"').skip(1).step_by(2) {
            let is_var = (part.starts_with("ASGARD_") && part.len() > 7) || part == "RUST_LOG";
            if is_var
                && part.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                && !doc.contains(&format!("`{part}`"))
            {
                missing.push(part.to_string());
            }
        }
        // YAML keys: the public fields of the file schema.
        if f.ends_with("file.rs") {
            for line in text.lines() {
                let Some(rest) = line.trim().strip_prefix("pub ") else {
                    continue;
                };
                let Some((name, _)) = rest.split_once(':') else {
                    continue;
                };
                if name.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !doc.contains(name) {
                    missing.push(name.to_string());
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/config.md does not mention {missing:?}"
    );
}
