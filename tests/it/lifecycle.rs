//! Process lifecycle: SIGTERM stops the server and the process
//! exits 0 within 10 s; data survives a restart; a restart prints no second
//! `password:` line.

use std::time::{Duration, Instant};

use crate::support::{Engine, Opts, TestApp};

async fn sigterm(engine: Engine) {
    let mut app = TestApp::spawn(engine, Opts::new().process()).await;
    let tok = app.admin_token().await;
    let pid = app.register_named(&tok, "Durable").await;
    let addr = app.addr;
    let pw = app.admin_password.clone();

    let t0 = Instant::now();
    let st = app.terminate(Duration::from_secs(10)).await;
    let took = t0.elapsed();
    let st = st.unwrap_or_else(|| panic!("no exit within 10 s of SIGTERM\n{}", app.log()));
    assert!(
        st.success(),
        "exit status {st:?} after SIGTERM\n{}",
        app.log()
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(!app.log().contains("panicked"), "{}", app.log());
    assert!(
        std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err(),
        "still listening after exit"
    );

    // A restart on the same database keeps the data and prints no password.
    let sb = app.sandbox.clone();
    drop(app);
    let mut again = TestApp::spawn_in(&sb, Opts::new().process()).await;
    assert!(
        !again.admin_password_generated,
        "a second `password:` line on restart"
    );
    assert!(!again.log().contains("password: "), "{}", again.log());
    again.admin_password = pw;
    // The old session survives (sessions are in the database), and so does the password.
    again
        .get(&format!("/api/projects/{pid}"), Some(&tok))
        .await
        .expect(200);
    again.admin_token().await;
    again.stop().await;
}

/// A SIGTERM right after the `listening` line (a supervisor stopping a
/// replica it just started) drains and exits 0; it once killed the process
/// with the default action because the handler was installed late.
async fn sigterm_at_once(engine: Engine) {
    let sb = crate::support::Sandbox::new(engine).await;
    for _ in 0..5 {
        let mut app = TestApp::spawn_in(&sb, Opts::new().process()).await;
        let st = app.terminate(Duration::from_secs(10)).await;
        assert!(
            st.is_some_and(|s| s.success()),
            "exit {st:?} on a SIGTERM right after boot\n{}",
            app.log()
        );
    }
}

crate::both_engines!(
    sigterm_exits_zero_within_10s => sigterm,
    sigterm_right_after_boot_drains => sigterm_at_once,
);
