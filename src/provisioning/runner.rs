//! The one choke point for running Terraform. A run gets a
//! fresh work dir named by the resource uuid (never by user strings), a fresh
//! copy of the module, `terraform.tfvars.json`, and Asgard's http backend.
//! The child gets an explicit environment (never Asgard's own secrets), a
//! deadline, and is killed if the run is cancelled (lease lost) or dropped.
//! The work dir is removed afterwards, whatever happened.
//!
//! There is no `terraform output` step: it costs a whole process that loads
//! every provider's schema (~0.8 s for aws). The worker reads the outputs, with
//! their `sensitive` flags, from the final state Terraform wrote to Asgard's
//! http backend (`backend::Backend::outputs`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Apply,
    Destroy,
}

pub struct RunSpec<'a> {
    pub bin: &'a Path,
    pub module_dir: PathBuf,
    pub work_dir: PathBuf,
    pub vars: Value,
    pub env: Vec<(String, String)>,
    pub state_url: String,
    pub lock_url: String,
    pub backend_password: String,
    pub timeout: Duration,
}

#[derive(Debug, Default)]
pub struct RunOutcome {
    pub ok: bool,
    /// A readable summary of what failed (no secret values).
    pub reason: Option<String>,
    pub log: String,
    pub duration_ms: u64,
}

/// Copy a module tree, skipping Terraform's own cache and any `backend.tf`
/// (Asgard writes its own backend block).
fn copy_module(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let n = name.to_string_lossy();
        if n == ".terraform" || n == "backend.tf" || n.starts_with("terraform.tfstate") {
            continue;
        }
        let ty = entry.file_type()?;
        if ty.is_dir() {
            copy_module(&entry.path(), &to.join(&name))?;
        } else if ty.is_file() {
            std::fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}

async fn prepare(spec: &RunSpec<'_>) -> std::io::Result<()> {
    let (from, to) = (spec.module_dir.clone(), spec.work_dir.clone());
    let vars = serde_json::to_vec_pretty(&spec.vars).map_err(std::io::Error::other)?;
    tokio::task::spawn_blocking(move || {
        if to.exists() {
            std::fs::remove_dir_all(&to)?;
        }
        copy_module(&from, &to)?;
        std::fs::write(
            to.join("backend.tf"),
            "terraform {\n  backend \"http\" {}\n}\n",
        )?;
        std::fs::write(to.join("terraform.tfvars.json"), vars)
    })
    .await
    .map_err(std::io::Error::other)?
}

struct Cmd {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// `nice`, when the system has one. Terraform runs at a lower CPU priority so
/// that applies (which can saturate the cores: provider plugins, schema
/// loading) do not slow down Asgard's own API. `nice` execs Terraform, so the
/// child's pid is Terraform's and killing it stops the run.
fn nice_bin() -> Option<&'static Path> {
    static NICE: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    NICE.get_or_init(|| {
        ["/usr/bin/nice", "/bin/nice"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
    })
    .as_deref()
}

/// Niceness of the Terraform children (see `nice_bin`).
const CHILD_NICENESS: &str = "10";

async fn exec(
    spec: &RunSpec<'_>,
    args: &[String],
    deadline: Instant,
    cancel: &mut watch::Receiver<bool>,
) -> Result<Cmd, String> {
    let mut cmd = match nice_bin() {
        Some(nice) => {
            let mut c = tokio::process::Command::new(nice);
            c.arg("-n").arg(CHILD_NICENESS).arg(spec.bin);
            c
        }
        None => tokio::process::Command::new(spec.bin),
    };
    cmd.args(args)
        .current_dir(&spec.work_dir)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_HTTP_USERNAME", "asgard")
        .env("TF_HTTP_PASSWORD", &spec.backend_password)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .map_err(|e| format!("could not start terraform ({}): {e}", spec.bin.display()))?;
    let remaining = deadline.saturating_duration_since(Instant::now());
    tokio::select! {
        out = child.wait_with_output() => {
            let out = out.map_err(|e| format!("terraform did not finish: {e}"))?;
            Ok(Cmd { ok: out.status.success(), stdout: String::from_utf8_lossy(&out.stdout).into_owned(), stderr: String::from_utf8_lossy(&out.stderr).into_owned() })
        }
        _ = tokio::time::sleep(remaining) => Err("timed out: the run took longer than the service's timeout and was stopped".into()),
        _ = cancel.wait_for(|c| *c) => Err("cancelled: this replica lost the resource's lock, so the run was stopped".into()),
    }
}

/// Error diagnostics from `-json` output, else the tail of stderr.
fn failure_summary(c: &Cmd) -> String {
    let mut errs = Vec::new();
    for line in c.stdout.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if v.get("type").and_then(Value::as_str) == Some("diagnostic")
            && let Some(d) = v.get("diagnostic")
            && d.get("severity").and_then(Value::as_str) == Some("error")
        {
            let summary = d.get("summary").and_then(Value::as_str).unwrap_or("");
            let detail = d.get("detail").and_then(Value::as_str).unwrap_or("");
            errs.push(if detail.is_empty() {
                summary.to_string()
            } else {
                format!("{summary}: {detail}")
            });
        }
    }
    let text = if errs.is_empty() {
        let tail: Vec<&str> = c
            .stderr
            .lines()
            .chain(c.stdout.lines())
            .filter(|l| !l.trim().is_empty())
            .collect();
        tail.iter()
            .rev()
            .take(6)
            .rev()
            .cloned()
            .collect::<Vec<_>>()
            .join(" | ")
    } else {
        errs.join("; ")
    };
    text.chars().take(1500).collect()
}

/// A readable log: the `@message` of each JSON line, or the raw text.
fn readable(out: &str) -> String {
    out.lines()
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .ok()
                .and_then(|v| {
                    v.get("@message")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .unwrap_or_else(|| l.to_string())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub async fn run(
    spec: RunSpec<'_>,
    action: Action,
    mut cancel: watch::Receiver<bool>,
) -> RunOutcome {
    let started = Instant::now();
    let deadline = started + spec.timeout;
    let mut out = RunOutcome::default();
    if let Err(e) = prepare(&spec).await {
        out.reason = Some(format!("could not prepare the work dir: {e}"));
        return out;
    }
    let init = vec![
        "init".into(),
        "-input=false".into(),
        "-no-color".into(),
        format!("-backend-config=address={}", spec.state_url),
        format!("-backend-config=lock_address={}", spec.lock_url),
        format!("-backend-config=unlock_address={}", spec.lock_url),
        "-backend-config=lock_method=POST".into(),
        "-backend-config=unlock_method=DELETE".into(),
    ];
    let mut apply: Vec<String> = vec![
        "apply".into(),
        "-auto-approve".into(),
        "-input=false".into(),
        "-no-color".into(),
        "-json".into(),
    ];
    if action == Action::Destroy {
        apply.insert(1, "-destroy".into());
    }
    let steps: Vec<(&str, Vec<String>)> = vec![
        ("init", init),
        (
            if action == Action::Destroy {
                "destroy"
            } else {
                "apply"
            },
            apply,
        ),
    ];
    out.ok = true;
    for (step, args) in steps {
        match exec(&spec, &args, deadline, &mut cancel).await {
            Ok(c) => {
                out.log.push_str(&format!(
                    "== terraform {step} ==\n{}\n{}\n",
                    readable(&c.stdout),
                    c.stderr
                ));
                if !c.ok {
                    out.ok = false;
                    out.reason = Some(format!("terraform {step} failed: {}", failure_summary(&c)));
                    break;
                }
            }
            Err(reason) => {
                out.ok = false;
                out.log
                    .push_str(&format!("== terraform {step} ==\n{reason}\n"));
                out.reason = Some(format!("terraform {step}: {reason}"));
                break;
            }
        }
    }
    let dir = spec.work_dir.clone();
    let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(dir)).await;
    out.duration_ms = started.elapsed().as_millis() as u64;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarises_json_diagnostics() {
        let c = Cmd {
            ok: false,
            stdout: r#"{"@message":"x","type":"diagnostic","diagnostic":{"severity":"error","summary":"Invalid value","detail":"bad name"}}"#.into(),
            stderr: String::new(),
        };
        assert_eq!(failure_summary(&c), "Invalid value: bad name");
        let c = Cmd {
            ok: false,
            stdout: String::new(),
            stderr: "Error: boom\n\nmore".into(),
        };
        assert_eq!(failure_summary(&c), "Error: boom | more");
    }
}
