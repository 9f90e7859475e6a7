//! The edge of the server under attack: the login throttle under parallel
//! guesses, slowloris (idle, trickling and slow-body sockets, with
//! `/healthz` answering throughout), logout with any spelling of `Bearer`,
//! private SQLite files, escaped failed-login names, and the `/mcp` Host
//! guard against authorities that only look like localhost.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{Engine, Opts, TestApp, db};

/// The throttle's budget per (client IP, username).
const MAX_FAILURES: usize = 5;

async fn throttle_race(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new()).await;
    let guesses = (0..100).map(|i| {
        let app = &app;
        async move {
            app.post(
                "/api/auth/login",
                None,
                json!({"username": "admin", "password": format!("wrong-guess-{i:04}")}),
            )
            .await
        }
    });
    let answers = futures_join_all(guesses).await;
    let evaluated = answers.iter().filter(|r| r.status == 401).count();
    let mut refused = 0;
    for r in &answers {
        match r.status {
            401 => {
                r.expect_error(401, "invalid_credentials");
            }
            429 => {
                r.expect_error(429, "too_many_attempts");
                let wait: u64 = r
                    .header("retry-after")
                    .expect("retry-after on 429")
                    .parse()
                    .expect("retry-after in seconds");
                assert!((1..=300).contains(&wait), "retry-after {wait}");
                refused += 1;
            }
            s => panic!("a guess answered {s}: {}", r.text),
        }
    }
    assert!(
        (1..=MAX_FAILURES).contains(&evaluated),
        "{evaluated} guesses were evaluated (at most {MAX_FAILURES} may be)"
    );
    assert_eq!(evaluated + refused, 100);
    // The pair is locked now, even for the right password.
    app.post(
        "/api/auth/login",
        None,
        json!({"username": "admin", "password": app.admin_password}),
    )
    .await
    .expect_error(429, "too_many_attempts");
}

/// `join_all` without a futures dependency: spawn each on the runtime.
async fn futures_join_all<F, T>(futs: impl Iterator<Item = F>) -> Vec<T>
where
    F: Future<Output = T>,
{
    // The futures borrow the app, so they are polled together in place.
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futs.map(Box::pin).collect();
    let mut out: Vec<Option<T>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|v| v.unwrap()).collect()
}

async fn logout_any_bearer_spelling(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new()).await;
    for form in ["BEARER {}", "Bearer  {}", "bearer \t {}", "  Bearer {}  "] {
        let tok = app.admin_token().await;
        let header = form.replace("{}", &tok);
        app.send(
            Method::POST,
            "/api/auth/logout",
            None,
            &[("authorization", &header)],
            None,
        )
        .await
        .expect(204);
        app.get("/api/auth/me", Some(&tok))
            .await
            .expect_error(401, "authentication_required");
    }
}

async fn failed_login_names_are_escaped(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new().process()).await;
    let typed = "evil\nuser\u{7}";
    app.post(
        "/api/auth/login",
        None,
        json!({"username": typed, "password": "wrong-password-x"}),
    )
    .await
    .expect_error(401, "invalid_credentials");
    let tables = db::dump_tables(&app.sandbox).await;
    let rows: Vec<&String> = tables["audit_events"]
        .iter()
        .filter(|r| r.contains("auth.login_failed"))
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    // The SQLite dump separates columns with tabs; nothing else may be a
    // control character.
    assert!(
        !rows[0].chars().any(|c| c.is_control() && c != '\t'),
        "raw control character in the audit row: {:?}",
        rows[0]
    );
    // (Postgres' row text doubles backslashes.)
    let row = rows[0].replace(r"\\", r"\");
    assert!(row.contains(r"evil\u{a}user\u{7}"), "{row:?}");
    // The API shows the same escaped text.
    let admin = app.admin_token().await;
    let r = app
        .get("/api/audit?action=auth.login_failed", Some(&admin))
        .await;
    r.expect(200);
    assert_eq!(r.json()["events"][0]["target"], r"evil\u{a}user\u{7}");
    let log = app.log();
    assert!(
        !log.contains('\u{7}') && !log.contains("evil\nuser"),
        "raw control characters in the server log"
    );
}

crate::both_engines!(
    throttle_race => throttle_race,
    logout_bearer_spelling => logout_any_bearer_spelling,
    failed_login_escaped => failed_login_names_are_escaped,
);

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn(Engine::Sqlite, Opts::new()).await;
    // A write, so the WAL certainly exists.
    app.admin_token().await;
    let db = app.sandbox.sqlite_file().unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let p = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        let mode = std::fs::metadata(&p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{} has mode {mode:o}", p.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_host_guard_parses_the_authority() {
    let app = TestApp::spawn(Engine::Sqlite, Opts::new()).await;
    let init = br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"it","version":"0"}}}"#;
    for host in [
        "localhost:1@evil.com",
        "localhost.evil.com",
        "[::1]x",
        "127.0.0.1:80@evil.com",
    ] {
        app.send(
            Method::POST,
            "/mcp",
            None,
            &[
                ("host", host),
                ("accept", "application/json, text/event-stream"),
            ],
            Some(init.to_vec()),
        )
        .await
        .expect_error(403, "host_not_allowed");
    }
    // A real loopback authority passes the guard (and then needs a credential).
    app.send(
        Method::POST,
        "/mcp",
        None,
        &[
            ("host", "localhost:8080"),
            ("accept", "application/json, text/event-stream"),
        ],
        Some(init.to_vec()),
    )
    .await
    .expect_error(401, "authentication_required");
}

// ----- slowloris -----

/// Read until the server closes the connection (EOF or reset); the bytes
/// read, or `None` if it is still open at `deadline`.
async fn read_until_closed(s: &mut TcpStream, deadline: Instant) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(out),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// GET /healthz on a fresh connection; the status line's code.
async fn probe_health(addr: SocketAddr, within: Duration) -> Result<u16, String> {
    let deadline = Instant::now() + within;
    let mut s = tokio::time::timeout(within, TcpStream::connect(addr))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| format!("connect: {e}"))?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .map_err(|e| format!("write: {e}"))?;
    let got = read_until_closed(&mut s, deadline)
        .await
        .ok_or_else(|| format!("no answer within {within:?}"))?;
    let text = String::from_utf8_lossy(&got);
    text.strip_prefix("HTTP/1.1 ")
        .and_then(|t| t.get(..3))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {text:?}"))
}

/// An attacking socket: `trickle` sends one header byte every 300 ms,
/// otherwise nothing is sent. Resolves to how long the server took to close
/// it, or `None` if it stayed open past `deadline`.
async fn attacker(addr: SocketAddr, trickle: bool, deadline: Instant) -> Option<Duration> {
    let start = Instant::now();
    let s = TcpStream::connect(addr).await.expect("connect");
    let (mut rd, mut wr) = s.into_split();
    let writer = tokio::spawn(async move {
        if !trickle {
            return std::future::pending::<()>().await;
        }
        for b in b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
            .iter()
            .cycle()
        {
            if wr.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    let mut buf = [0u8; 1024];
    let closed = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rd.read(&mut buf)).await {
            Err(_) => break None,
            Ok(Ok(0)) | Ok(Err(_)) => break Some(start.elapsed()),
            // A 408 or similar before the close is fine; keep reading.
            Ok(Ok(_)) => continue,
        }
    };
    writer.abort();
    closed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_sockets_are_closed_and_health_stays_up() {
    const SOCKETS: usize = 300;
    const CAP: usize = 64;
    let app = TestApp::spawn(
        Engine::Sqlite,
        Opts::new()
            .process()
            .env("ASGARD_HTTP_HEADER_TIMEOUT_SECS", "1")
            .env("ASGARD_HTTP_MAX_CONNECTIONS", &CAP.to_string()),
    )
    .await;
    let addr = app.addr;
    // Each connection waits at most for the ones queued before it
    // (SOCKETS / CAP rounds of the 1 s header timeout): about 5 s. The
    // margin is for a loaded test machine.
    let deadline = Instant::now() + Duration::from_secs(30);
    let attackers: Vec<_> = (0..SOCKETS)
        .map(|i| tokio::spawn(attacker(addr, i % 2 == 1, deadline)))
        .collect();

    // Health answers while the sockets are open and queued.
    let mut probes = 0;
    while attackers.iter().any(|a| !a.is_finished()) && Instant::now() < deadline {
        let code = probe_health(addr, Duration::from_secs(10))
            .await
            .unwrap_or_else(|e| panic!("/healthz during the flood: {e}\n{}", app.log()));
        assert_eq!(code, 200);
        probes += 1;
    }
    let mut slowest = Duration::ZERO;
    for (i, a) in attackers.into_iter().enumerate() {
        let took = a
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("socket {i} was still open after 30 s"));
        slowest = slowest.max(took);
    }
    assert!(probes >= 1, "no probe ran while the sockets were open");
    eprintln!("slowest socket closed after {slowest:?}; {probes} health probes");
    assert_eq!(probe_health(addr, Duration::from_secs(5)).await, Ok(200));
    assert!(
        app.log().contains("connection cap reached"),
        "no warning when the cap was hit:\n{}",
        app.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_body_gets_408() {
    let app = TestApp::spawn(
        Engine::Sqlite,
        Opts::new().env("ASGARD_HTTP_BODY_TIMEOUT_SECS", "1"),
    )
    .await;
    let start = Instant::now();
    let s = TcpStream::connect(app.addr).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    wr.write_all(
        b"POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{",
    )
    .await
    .unwrap();
    // One byte every 300 ms: never a long gap, but never done either.
    let writer = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if wr.write_all(b" ").await.is_err() {
                return;
            }
        }
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = start + Duration::from_secs(15);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rd.read(&mut buf)).await {
            Err(_) => panic!(
                "no answer to a trickled body within 15 s; got {:?}",
                String::from_utf8_lossy(&got)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
    writer.abort();
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    let v: serde_json::Value = serde_json::from_str(body).expect("a JSON error body");
    assert_eq!(v["error"]["code"], "request_timeout", "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_closed_after_the_idle_timeout() {
    // The header timeout is long here, so only the idle timeout can act.
    let app = TestApp::spawn(
        Engine::Sqlite,
        Opts::new()
            .env("ASGARD_HTTP_HEADER_TIMEOUT_SECS", "60")
            .env("ASGARD_HTTP_IDLE_TIMEOUT_SECS", "2"),
    )
    .await;
    let start = Instant::now();
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    let closed = read_until_closed(&mut s, start + Duration::from_secs(20)).await;
    let took = start.elapsed();
    assert!(closed.is_some(), "still open after 20 s");
    assert!(
        took >= Duration::from_millis(1500),
        "closed too early: {took:?}"
    );
}
