//! `TestApp`: the real `asgard` binary (`serve --bind 127.0.0.1:0`) running
//! in a sandbox, with its stderr/stdout captured to a log file. The HTTP
//! helpers are in `http.rs`.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Opts, Sandbox, strip_ansi};

const BOOT_TIMEOUT: Duration = Duration::from_secs(60);

pub struct TestApp {
    pub sandbox: Arc<Sandbox>,
    pub addr: SocketAddr,
    /// The bootstrap admin's password (generated or configured).
    pub admin_password: String,
    /// Whether the password came from the one-time `password:` boot line.
    pub admin_password_generated: bool,
    pub log_path: PathBuf,
    child: Option<Child>,
    pub(super) client: reqwest::Client,
    secrets: Mutex<Vec<String>>,
}

/// A boot that did not reach `listening on`.
#[derive(Debug)]
pub struct BootFailure {
    pub status: Option<ExitStatus>,
    pub output: String,
}

enum Line {
    Text(String),
    Eof,
}

fn pump<R: std::io::Read + Send + 'static>(
    r: R,
    log: Arc<Mutex<std::fs::File>>,
    tx: Option<tokio::sync::mpsc::UnboundedSender<Line>>,
) {
    std::thread::spawn(move || {
        let mut r = BufReader::new(r);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if let Ok(mut f) = log.lock() {
                        let _ = f.write_all(&buf);
                    }
                    if let Some(tx) = &tx {
                        let _ = tx.send(Line::Text(String::from_utf8_lossy(&buf).into_owned()));
                    }
                }
            }
        }
        if let Some(tx) = &tx {
            let _ = tx.send(Line::Eof);
        }
    });
}

impl TestApp {
    /// A fresh sandbox on `engine`, booted with `opts`; panics if the boot fails.
    pub async fn spawn(engine: super::Engine, opts: Opts) -> TestApp {
        let sb = Sandbox::new(engine).await;
        Self::spawn_in(&sb, opts).await
    }

    /// Boot in an existing sandbox (restarts, replicas); panics on failure.
    pub async fn spawn_in(sb: &Arc<Sandbox>, opts: Opts) -> TestApp {
        match Self::try_spawn_in(sb, opts).await {
            Ok(app) => app,
            Err(f) => panic!(
                "asgard did not boot (exit {:?}); output:\n{}",
                f.status, f.output
            ),
        }
    }

    /// Boot and wait for `listening on ADDR`, or for the process to exit.
    pub async fn try_spawn_in(sb: &Arc<Sandbox>, opts: Opts) -> Result<TestApp, BootFailure> {
        let n = sb.next_boot();
        let cfg = sb.path(&format!("asgard-{n}.yaml"));
        std::fs::write(&cfg, &opts.yaml).expect("writing asgard.yaml");
        let cfg = opts.config_file.clone().unwrap_or(cfg);
        let log_path = sb.path(&format!("asgard-{n}.log"));
        let log = Arc::new(Mutex::new(
            std::fs::File::create(&log_path).expect("creating the log file"),
        ));

        let mut env: Vec<(String, String)> = vec![
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
            ("HOME".into(), sb.dir.display().to_string()),
            ("NO_COLOR".into(), "1".into()),
            ("RUST_BACKTRACE".into(), "1".into()),
            ("ASGARD_DATABASE_URL".into(), sb.db_url.clone()),
        ];
        if let Some(k) = &sb.secret_key {
            env.push(("ASGARD_SECRET_KEY".into(), k.clone()));
        }
        for (k, v) in &opts.env {
            env.retain(|(e, _)| e != k);
            env.push((k.clone(), v.clone()));
        }
        env.retain(|(k, _)| !opts.unset.contains(k));
        let configured_pw = env
            .iter()
            .find(|(k, _)| k == "ASGARD_ADMIN_PASSWORD")
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty());

        let mut child = Command::new(env!("CARGO_BIN_EXE_asgard"))
            .args(["serve", "--bind", &opts.bind, "--config"])
            .arg(&cfg)
            .current_dir(&sb.dir)
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning the asgard binary");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        pump(child.stderr.take().unwrap(), log.clone(), Some(tx));
        pump(child.stdout.take().unwrap(), log.clone(), None);

        let deadline = Instant::now() + BOOT_TIMEOUT;
        let mut generated_pw = None;
        let mut seen = String::new();
        let addr = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, rx.recv()).await {
                Ok(Some(Line::Text(l))) => {
                    let l = strip_ansi(&l);
                    seen.push_str(&l);
                    if let Some(i) = l.find("password: ") {
                        generated_pw = l[i + "password: ".len()..]
                            .split_whitespace()
                            .next()
                            .map(str::to_string);
                    }
                    if let Some(i) = l.find("listening on ") {
                        let word = l[i + "listening on ".len()..]
                            .split_whitespace()
                            .next()
                            .unwrap_or("");
                        if let Ok(mut a) = word.parse::<SocketAddr>() {
                            if a.ip().is_unspecified() {
                                a.set_ip([127, 0, 0, 1].into());
                            }
                            break a;
                        }
                    }
                }
                Ok(Some(Line::Eof)) | Ok(None) => {
                    let status = wait_exit(&mut child, Duration::from_secs(10)).await;
                    return Err(BootFailure {
                        status,
                        output: seen,
                    });
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(BootFailure {
                        status: None,
                        output: format!("(timed out waiting for `listening on`)\n{seen}"),
                    });
                }
            }
        };
        // Keep draining stderr into the log (the pump thread does it); the
        // channel is simply dropped.
        drop(rx);

        let (admin_password, generated) = match (configured_pw, generated_pw) {
            (Some(p), _) => (p, false),
            (None, Some(p)) => (p, true),
            // An existing database: the caller knows the password.
            (None, None) => (String::new(), false),
        };
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let app = TestApp {
            sandbox: sb.clone(),
            addr,
            admin_password: admin_password.clone(),
            admin_password_generated: generated,
            log_path,
            child: Some(child),
            client,
            secrets: Mutex::new(Vec::new()),
        };
        if !admin_password.is_empty() {
            app.remember(&admin_password);
        }
        Ok(app)
    }

    /// Boot in `sb` expecting a refusal; returns the exit status and output.
    pub async fn expect_refused(sb: &Arc<Sandbox>, opts: Opts) -> (ExitStatus, String) {
        match Self::try_spawn_in(sb, opts).await {
            Ok(app) => panic!("asgard booted on {} but should have refused", app.addr),
            Err(BootFailure {
                status: Some(s),
                output,
            }) => (s, output),
            Err(f) => panic!("asgard neither booted nor exited: {}", f.output),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Send SIGTERM and wait up to `within` for the exit.
    pub async fn terminate(&mut self, within: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let ok = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "could not send SIGTERM");
        let st = wait_exit(&mut child, within).await;
        if st.is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        st
    }

    /// Stop gracefully (SIGTERM), asserting a clean exit.
    pub async fn stop(&mut self) {
        let st = self.terminate(Duration::from_secs(15)).await;
        assert!(
            st.is_some_and(|s| s.success()),
            "asgard did not exit cleanly on SIGTERM: {st:?}\n{}",
            self.log()
        );
    }

    /// Everything the process wrote to stderr and stdout so far.
    pub fn log(&self) -> String {
        strip_ansi(&super::read_lossy(&self.log_path))
    }

    // ----- credentials seen by the test (for the leak scan) -----

    pub fn remember(&self, secret: &str) {
        assert!(
            secret.len() >= 12,
            "a secret to scan for is too short: {secret:?}"
        );
        self.secrets.lock().unwrap().push(secret.to_string());
    }

    pub fn secrets(&self) -> Vec<String> {
        self.secrets.lock().unwrap().clone()
    }
}

async fn wait_exit(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + within;
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Some(s),
            Ok(None) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            _ => return None,
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "----- asgard log ({}) -----\n{}",
                self.log_path.display(),
                self.log()
            );
        }
    }
}
