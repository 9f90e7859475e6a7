//! `TestApp`: Asgard serving in a sandbox, talked to over HTTP on a port-0
//! listener. By default it runs in this test process (`inproc.rs`): the same
//! library boot as `asgard serve`, minus the process, so a boot costs no
//! exec and the background ticks can be called directly. `Opts::process()`
//! (and `try_spawn_in`/`expect_refused`, which are about boot failures and
//! exit codes) run the real binary (`serve --bind 127.0.0.1:0`) instead, with
//! its stderr/stdout captured to a log file: tests that read log lines, send
//! signals or check exit codes need it. The HTTP helpers are in `http.rs`.

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
    pub(super) runner: Runner,
    pub(super) client: reqwest::Client,
    secrets: Mutex<Vec<String>>,
}

/// A boot that did not reach `listening on`.
#[derive(Debug)]
pub struct BootFailure {
    pub status: Option<ExitStatus>,
    pub output: String,
}

/// What serves the sandbox: the binary, or the library in this process.
pub(super) enum Runner {
    Process(Option<Child>),
    InProcess(super::inproc::InProcess),
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
    /// In this process unless `opts` asks for the binary.
    pub async fn spawn_in(sb: &Arc<Sandbox>, opts: Opts) -> TestApp {
        // ASGARD_IT_PROCESS=1 runs every test on the binary (to compare
        // timings, or to rule the in-process boot out when chasing a bug),
        // except those on a fake clock, which only exists in this process.
        let forced = std::env::var_os("ASGARD_IT_PROCESS").is_some() && opts.fake_clock.is_none();
        if !opts.process && !forced {
            return super::inproc::boot(sb, opts).await;
        }
        match Self::try_spawn_in(sb, opts).await {
            Ok(app) => app,
            Err(f) => panic!(
                "asgard did not boot (exit {:?}); output:\n{}",
                f.status, f.output
            ),
        }
    }

    /// Boot the binary and wait for `listening on ADDR`, or for the process
    /// to exit (always the binary: a refused boot is about its exit and output).
    pub async fn try_spawn_in(sb: &Arc<Sandbox>, opts: Opts) -> Result<TestApp, BootFailure> {
        let (n, cfg) = write_config(sb, &opts);
        let log_path = sb.path(&format!("asgard-{n}.log"));
        let log = Arc::new(Mutex::new(
            std::fs::File::create(&log_path).expect("creating the log file"),
        ));
        let env = boot_env(sb, &opts);
        let configured_pw = configured_password(&env);

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
        Ok(Self::assemble(
            sb,
            addr,
            (admin_password, generated),
            log_path,
            Runner::Process(Some(child)),
        ))
    }

    /// The handle both boots return.
    pub(super) fn assemble(
        sb: &Arc<Sandbox>,
        addr: SocketAddr,
        (admin_password, generated): (String, bool),
        log_path: PathBuf,
        runner: Runner,
    ) -> TestApp {
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
            runner,
            client,
            secrets: Mutex::new(Vec::new()),
        };
        if !admin_password.is_empty() {
            app.remember(&admin_password);
        }
        app
    }

    /// The child process; panics for an in-process app, so a test that
    /// needs the process cannot pass without one.
    fn child_mut(&mut self) -> &mut Option<Child> {
        match &mut self.runner {
            Runner::Process(c) => c,
            Runner::InProcess(_) => panic!("{NEEDS_PROCESS}"),
        }
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
        match &self.runner {
            Runner::Process(c) => c.as_ref().map(|c| c.id()).unwrap_or(0),
            Runner::InProcess(_) => panic!("{NEEDS_PROCESS}"),
        }
    }

    /// Send SIGTERM and wait up to `within` for the exit.
    pub async fn terminate(&mut self, within: Duration) -> Option<ExitStatus> {
        let mut child = self.child_mut().take()?;
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

    /// Stop gracefully (SIGTERM, or the in-process shutdown), asserting a
    /// clean exit; the sandbox is free for the next boot afterwards.
    pub async fn stop(&mut self) {
        if let Runner::InProcess(p) = &mut self.runner {
            return p.stop().await;
        }
        let st = self.terminate(Duration::from_secs(15)).await;
        assert!(
            st.is_some_and(|s| s.success()),
            "asgard did not exit cleanly on SIGTERM: {st:?}\n{}",
            self.log()
        );
    }

    /// Panics unless this is the real binary (see `Opts::process`).
    pub fn assert_process(&self) {
        if let Runner::InProcess(_) = self.runner {
            panic!("{NEEDS_PROCESS}");
        }
    }

    /// Everything the process wrote to stderr and stdout so far.
    pub fn log(&self) -> String {
        self.assert_process();
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

/// Write this boot's `asgard.yaml`; returns the boot number and the path
/// `--config` gets.
pub(super) fn write_config(sb: &Sandbox, opts: &Opts) -> (usize, PathBuf) {
    let n = sb.next_boot();
    let cfg = sb.path(&format!("asgard-{n}.yaml"));
    std::fs::write(&cfg, &opts.yaml).expect("writing asgard.yaml");
    (n, opts.config_file.clone().unwrap_or(cfg))
}

/// The whole environment a boot sees: nothing inherited but `PATH`, the
/// sandbox's database and key, then the test's own variables.
pub(super) fn boot_env(sb: &Sandbox, opts: &Opts) -> Vec<(String, String)> {
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
    env
}

pub(super) fn configured_password(env: &[(String, String)]) -> Option<String> {
    env.iter()
        .find(|(k, _)| k == "ASGARD_ADMIN_PASSWORD")
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_empty())
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

/// Why a process-only call failed on an in-process app.
const NEEDS_PROCESS: &str =
    "this test reads the process (its log, pid, signals or exit): boot it with `Opts::process()`";

impl Drop for TestApp {
    fn drop(&mut self) {
        let Runner::Process(child) = &mut self.runner else {
            return;
        };
        if let Some(mut c) = child.take() {
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
