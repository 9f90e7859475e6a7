//! Agent seed: the guidance files served to AI coding agents by the
//! MCP tools `seed_list`/`seed_plan`/`seed_get` and `GET /api/seed[/{id}]`.
//!
//! Owns the Markdown files under `seed/` (embedded at build time), their YAML
//! front matter and its validation, the operator override directory, and the
//! selection of files for a repository. It is pure: no database, network, auth
//! or audit, and it never writes into a target repository (agents do that with
//! the bodies it returns). A bad file is an error naming it, never skipped.

use std::path::{Component, Path};

use include_dir::{Dir, include_dir};
use serde::{Deserialize, Serialize};

static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/seed");

/// One guidance file: front matter plus Markdown body.
#[derive(Debug, Clone, Serialize)]
pub struct SeedFile {
    pub id: String,
    pub kind: SeedKind,
    pub title: String,
    pub summary: String,
    /// Where the agent writes the body, relative to the target repository root.
    pub path: String,
    #[serde(skip)]
    pub languages: Vec<String>,
    #[serde(skip)]
    pub keywords: Vec<String>,
    #[serde(skip)]
    pub tiers: Vec<Tier>,
    #[serde(skip)]
    pub body: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeedKind {
    Core,
    Language,
    Domain,
    Template,
}

/// How much process a repository wants; selects templates (and optionally core files).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Minimal,
    #[default]
    Standard,
    Strict,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("bad front matter in {file}: {reason}")]
    BadFrontMatter { file: String, reason: String },
    /// `(id, file, file that defined it first)`
    #[error("duplicate seed id '{0}' in {1} (already defined in {2})")]
    DuplicateId(String, String, String),
    #[error("cannot read seed files at {0}: {1}")]
    Io(String, #[source] std::io::Error),
}

/// The loaded, validated set of seed files, sorted by kind (core, language,
/// domain, template) and then by id.
#[derive(Debug, Clone)]
pub struct Seed {
    files: Vec<SeedFile>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeedPlan {
    pub tier: Tier,
    pub files: Vec<PlanEntry>,
    pub unmatched_languages: Vec<String>,
    pub next: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanEntry {
    pub id: String,
    pub path: String,
    pub kind: SeedKind,
    pub summary: String,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: String,
    kind: SeedKind,
    title: String,
    summary: String,
    path: String,
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    tiers: Vec<Tier>,
}

impl SeedFile {
    /// `{id, path, kind, title, summary, body}` — the `seed_get` answer.
    pub fn to_full_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "path": self.path,
            "kind": self.kind,
            "title": self.title,
            "summary": self.summary,
            "body": self.body,
        })
    }

    fn entry(&self, reason: String) -> PlanEntry {
        let (id, path, summary) = (self.id.clone(), self.path.clone(), self.summary.clone());
        PlanEntry {
            id,
            path,
            kind: self.kind,
            summary,
            reason,
        }
    }

    fn in_tier(&self, tier: Tier) -> bool {
        self.tiers.is_empty() || self.tiers.contains(&tier)
    }
}

impl Seed {
    /// The files compiled into the binary.
    pub fn embedded() -> Result<Seed, SeedError> {
        Ok(Seed::sorted(collect(embedded_sources()?)?))
    }

    /// The embedded files plus every `*.md` under `dir` (recursively): a file
    /// with an existing id replaces it, a new id is added. Any bad file, or two
    /// files in `dir` with the same id, is an error naming the file.
    pub fn with_overrides(dir: &Path) -> Result<Seed, SeedError> {
        let mut files = collect(embedded_sources()?)?;
        let mut sources = Vec::new();
        read_dir_sources(dir, &mut sources)?;
        for file in collect(sources)? {
            match files.iter_mut().find(|f| f.id == file.id) {
                Some(slot) => *slot = file,
                None => files.push(file),
            }
        }
        Ok(Seed::sorted(files))
    }

    pub fn list(&self) -> &[SeedFile] {
        &self.files
    }

    pub fn get(&self, id: &str) -> Option<&SeedFile> {
        self.files.iter().find(|f| f.id == id)
    }

    /// The minimal set of files for a repository: core files for the tier, one
    /// add-on per recognised language, domain overlays whose keywords the task
    /// mentions as whole words, and the tier's templates.
    pub fn plan(&self, languages: &[String], task: &str, tier: Tier) -> SeedPlan {
        let mut files: Vec<PlanEntry> = Vec::new();
        let mut add = |f: &SeedFile, reason: String| {
            if f.in_tier(tier) && !files.iter().any(|e| e.id == f.id) {
                files.push(f.entry(reason));
            }
        };
        for f in self.of_kind(SeedKind::Core) {
            add(f, "core: applies to every repository".to_string());
        }
        let (mut unmatched, mut seen) = (Vec::new(), Vec::new());
        for requested in languages.iter().map(|l| l.trim()) {
            let wanted = requested.to_lowercase();
            if wanted.is_empty() || seen.contains(&wanted) {
                continue;
            }
            let mut language_files = self.of_kind(SeedKind::Language);
            match language_files.find(|f| f.languages.contains(&wanted)) {
                Some(f) => add(f, format!("language: {requested}")),
                None => unmatched.push(requested.to_string()),
            }
            seen.push(wanted);
        }
        let task = normalize(task);
        for f in self.of_kind(SeedKind::Domain) {
            if let Some(kw) = f.keywords.iter().find(|k| mentions(&task, k)) {
                add(f, format!("task mentions '{kw}'"));
            }
        }
        let tier_name = format!("{tier:?}").to_lowercase();
        for f in self.of_kind(SeedKind::Template) {
            add(f, format!("template for tier {tier_name}"));
        }
        let ids: Vec<&str> = files.iter().map(|e| e.id.as_str()).collect();
        let mut next = format!(
            "Call seed_get for each id in order ({}) and write its body verbatim to its path from \
             the repository root (merge into a file that already exists there instead of \
             overwriting it). Fill in the project block in AGENTS.md, commit all files together, \
             then follow AGENTS.md.",
            ids.join(", ")
        );
        if !unmatched.is_empty() {
            let missing = unmatched.join(", ");
            next += &format!(" No add-on exists for {missing}: use its usual fmt/lint/test tools.");
        }
        let unmatched_languages = unmatched;
        SeedPlan {
            tier,
            files,
            unmatched_languages,
            next,
        }
    }

    fn of_kind(&self, kind: SeedKind) -> impl Iterator<Item = &SeedFile> {
        self.files.iter().filter(move |f| f.kind == kind)
    }

    fn sorted(mut files: Vec<SeedFile>) -> Seed {
        // SeedKind's declaration order is the listing order.
        files.sort_by(|a, b| (a.kind as u8, &a.id).cmp(&(b.kind as u8, &b.id)));
        Seed { files }
    }
}

fn bad(file: &str, reason: impl Into<String>) -> SeedError {
    let (file, reason) = (file.to_string(), reason.into());
    SeedError::BadFrontMatter { file, reason }
}

/// `*.md` except `README.md`; hidden entries (such as the `..data` links of a
/// Kubernetes ConfigMap mount) are never read.
fn is_seed_file(path: &Path) -> bool {
    let name = file_name(path);
    name.ends_with(".md") && !name.starts_with('.') && !name.eq_ignore_ascii_case("README.md")
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or(".")
}

/// `(origin, text)` for every embedded seed file, in a stable order.
fn embedded_sources() -> Result<Vec<(String, String)>, SeedError> {
    let (mut stack, mut out) = (vec![&EMBEDDED], Vec::new());
    while let Some(dir) = stack.pop() {
        stack.extend(dir.dirs());
        for file in dir.files().filter(|f| is_seed_file(f.path())) {
            let origin = format!("seed/{}", file.path().display());
            let text = file
                .contents_utf8()
                .ok_or_else(|| bad(&origin, "not UTF-8"))?;
            out.push((origin, text.to_string()));
        }
    }
    out.sort();
    Ok(out)
}

fn read_dir_sources(dir: &Path, out: &mut Vec<(String, String)>) -> Result<(), SeedError> {
    let io = |p: &Path| {
        let path = p.display().to_string();
        move |source| SeedError::Io(path, source)
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        paths.push(entry.map_err(io(dir))?.path());
    }
    paths.sort();
    for path in paths.into_iter().filter(|p| !file_name(p).starts_with('.')) {
        if path.symlink_metadata().map_err(io(&path))?.is_dir() {
            read_dir_sources(&path, out)?;
        } else if is_seed_file(&path) {
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            out.push((path.display().to_string(), text));
        }
    }
    Ok(())
}

/// Parses every source, refusing duplicate ids among them.
fn collect(sources: Vec<(String, String)>) -> Result<Vec<SeedFile>, SeedError> {
    let mut files: Vec<(String, SeedFile)> = Vec::new();
    for (file, text) in sources {
        let parsed = parse(&file, &text)?;
        if let Some((other, _)) = files.iter().find(|(_, f)| f.id == parsed.id) {
            return Err(SeedError::DuplicateId(parsed.id, file, other.clone()));
        }
        files.push((file, parsed));
    }
    Ok(files.into_iter().map(|(_, f)| f).collect())
}

fn parse(origin: &str, text: &str) -> Result<SeedFile, SeedError> {
    let text = text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    let rest = text.strip_prefix("---\n");
    let rest = rest.ok_or_else(|| bad(origin, "the file must start with a '---' line"))?;
    let (yaml, body) = rest
        .split_once("\n---\n")
        .or_else(|| rest.strip_suffix("\n---").map(|yaml| (yaml, "")))
        .ok_or_else(|| bad(origin, "no closing '---' line after the front matter"))?;
    let fm: FrontMatter = serde_yaml::from_str(yaml).map_err(|e| bad(origin, e.to_string()))?;
    let body = body.trim_start_matches('\n').to_string();
    let lower = |l: &String| l.trim().to_lowercase();
    let languages: Vec<String> = fm.languages.iter().map(lower).collect();
    let keywords: Vec<String> = fm.keywords.iter().map(|k| normalize(k)).collect();
    let id_char = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-';
    let id_ok = !fm.id.is_empty() && fm.id.bytes().all(id_char);
    let texts_ok = !fm.title.trim().is_empty() && !fm.summary.trim().is_empty();
    let normal = |c: Component| matches!(c, Component::Normal(_));
    let relative = Path::new(&fm.path).components().all(normal);
    let path_ok = !fm.path.is_empty() && !fm.path.contains('\\') && relative;
    let (is_lang, is_domain) = (fm.kind == SeedKind::Language, fm.kind == SeedKind::Domain);
    let lang_ok = is_lang != languages.is_empty() && languages.iter().all(|l| !l.is_empty());
    let kw_ok = is_domain != keywords.is_empty() && keywords.iter().all(|k| !k.is_empty());
    let checks = [
        (id_ok, "id must be non-empty a-z, 0-9 and '-'"),
        (texts_ok, "title and summary must not be empty"),
        (path_ok, "path must be relative, with no '.' or '..' parts"),
        (lang_ok, "languages: required by kind language, else unset"),
        (kw_ok, "keywords: required by kind domain, else unset"),
        (!body.trim().is_empty(), "the body is empty"),
    ];
    if let Some((_, reason)) = checks.iter().find(|(ok, _)| !ok) {
        return Err(bad(origin, *reason));
    }
    let (title, summary) = (fm.title.trim().to_string(), fm.summary.trim().to_string());
    let (id, kind, path, tiers) = (fm.id, fm.kind, fm.path, fm.tiers);
    Ok(SeedFile {
        id,
        kind,
        title,
        summary,
        path,
        languages,
        keywords,
        tiers,
        body,
    })
}

/// Lower-case with runs of whitespace collapsed to one space.
fn normalize(text: &str) -> String {
    text.to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether normalized `text` contains `keyword` as a whole word or phrase
/// (a plural `s` right after it is tolerated): "ui" matches "the ui" and
/// "uis" but not "build".
fn mentions(text: &str, keyword: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(keyword).any(|(i, m)| {
        let after = &text[i + m.len()..];
        let after = after.strip_prefix('s').unwrap_or(after);
        let starts = text[..i].chars().next_back().is_none_or(|c| !is_word(c));
        starts && after.chars().next().is_none_or(|c| !is_word(c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(plan: &SeedPlan) -> String {
        let ids: Vec<&str> = plan.files.iter().map(|e| e.id.as_str()).collect();
        ids.join(" ")
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("asgard-seed-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("..data")).unwrap();
        dir
    }

    #[test]
    fn embedded_loads_with_unique_ids_in_order() {
        let seed = Seed::embedded().unwrap();
        let ids: Vec<&str> = seed.list().iter().map(|f| f.id.as_str()).collect();
        let unique: std::collections::HashSet<&&str> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        assert!(
            seed.list()
                .windows(2)
                .all(|w| w[0].kind as u8 <= w[1].kind as u8)
        );
        assert_eq!(
            seed.get("core-operating-agreement").unwrap().path,
            "AGENTS.md"
        );
        let json = seed.get("domain-ai-ml").unwrap().to_full_json();
        assert!(json["body"].as_str().unwrap().starts_with("# "));
        assert_eq!(json["kind"], "domain");
    }

    #[test]
    fn plan_selects_by_language_task_and_tier() {
        let seed = Seed::embedded().unwrap();
        let plan = seed.plan(&["rust".into()], "Build a React dashboard", Tier::Standard);
        assert_eq!(
            ids(&plan),
            "core-definition-of-done core-operating-agreement core-secrets-and-resources \
             language-rust domain-frontend template-change-summary template-exec-plan"
        );
        assert_eq!(plan.files[4].reason, "task mentions 'react'");
        assert!(plan.next.contains("seed_get") && plan.next.contains("commit"));
        assert!(ids(&seed.plan(&[], "", Tier::Strict)).contains("template-threat-model"));
        let minimal = ids(&seed.plan(&[], "", Tier::Minimal));
        assert!(!minimal.contains("exec-plan") && minimal.contains("template-change-summary"));
    }

    #[test]
    fn keywords_match_whole_words_only() {
        assert!(!mentions("build the project", "ui") && mentions("fix the ui, then", "ui"));
        assert!(mentions("add two apis", "api") && !mentions("rapid prototyping", "api"));
        assert!(mentions(
            &normalize("fix the   Web\nPage header"),
            "web page"
        ));
        let seed = Seed::embedded().unwrap();
        let got = ids(&seed.plan(&[], "build the cli", Tier::Minimal));
        assert!(!got.contains("domain-"), "{got}");
    }

    #[test]
    fn unknown_languages_are_reported_and_aliases_dedup() {
        let langs = ["COBOL", " Rust ", "ts", "javascript", "rust"].map(String::from);
        let plan = Seed::embedded().unwrap().plan(&langs, "", Tier::Minimal);
        assert_eq!(plan.unmatched_languages, ["COBOL"]);
        assert_eq!(ids(&plan).matches("language-").count(), 2);
        assert!(ids(&plan).contains("language-typescript") && plan.next.contains("COBOL"));
    }

    #[test]
    fn override_dir_replaces_adds_and_names_bad_files() {
        let (dir, bad_dir) = (scratch("ok"), scratch("bad"));
        let ours = "---\nid: core-operating-agreement\nkind: core\ntitle: Ours\n\
                    summary: Ours.\npath: AGENTS.md\n---\n# Ours\n";
        let zig = "---\nid: language-zig\nkind: language\ntitle: Zig\nsummary: Zig.\n\
                   path: docs/zig.md\nlanguages: [Zig]\n---\nUse zig fmt.\n";
        // README.md and hidden ConfigMap-style entries are not seed files.
        for (name, text) in [("a.md", ours), ("..data/a.md", ours), ("README.md", "hi")] {
            std::fs::write(dir.join(name), text).unwrap();
        }
        std::fs::create_dir_all(dir.join("more")).unwrap();
        std::fs::write(dir.join("more/zig.md"), zig).unwrap();
        let seed = Seed::with_overrides(&dir).unwrap();
        let embedded = Seed::embedded().unwrap();
        assert_eq!(seed.list().len(), embedded.list().len() + 1);
        assert_eq!(
            seed.get("core-operating-agreement").unwrap().body,
            "# Ours\n"
        );
        let plan = seed.plan(&["zig".into()], "", Tier::Minimal);
        assert!(plan.unmatched_languages.is_empty());

        for text in ["no front matter\n", &ours.replace("core\n", "nope\n")] {
            std::fs::write(bad_dir.join("broken.md"), text).unwrap();
            let err = Seed::with_overrides(&bad_dir).unwrap_err().to_string();
            assert!(
                err.contains("bad front matter in") && err.contains("broken.md"),
                "{err}"
            );
        }
        std::fs::write(bad_dir.join("broken.md"), zig).unwrap();
        std::fs::write(bad_dir.join("again.md"), zig).unwrap();
        let err = Seed::with_overrides(&bad_dir).unwrap_err();
        assert!(matches!(err, SeedError::DuplicateId(..)), "{err}");
        let missing = Seed::with_overrides(&dir.join("missing")).unwrap_err();
        assert!(matches!(missing, SeedError::Io(..)));
        let _ = (
            std::fs::remove_dir_all(dir),
            std::fs::remove_dir_all(bad_dir),
        );
    }
}
