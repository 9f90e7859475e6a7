//! Background work driven by direct ticks on a fake clock (the in-process
//! app), not by waiting for a loop's period: an idle session ends after 12 h
//! and the sweep removes its row; a session in use stays.

use std::time::Duration;

use crate::support::{Engine, Opts, TestApp};

async fn session_count(app: &TestApp) -> i64 {
    let store = &app.app().store;
    asgard::on_pool!(store.read(), |p| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM sessions"
    )
    .fetch_one(p)
    .await)
    .unwrap()
}

async fn sweep(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new().fake_clock(chrono::Utc::now())).await;
    let idle = app.admin_token().await;
    let busy = app.admin_token().await;
    assert_eq!(session_count(&app).await, 2);
    // A tick before anything expired removes nothing.
    app.tick_sweep_sessions().await;
    assert_eq!(session_count(&app).await, 2);
    // Eleven hours on, `busy` is used (its idle expiry slides), `idle` not.
    app.clock().advance(Duration::from_secs(11 * 3600));
    app.get("/api/auth/me", Some(&busy)).await.expect(200);
    app.clock().advance(Duration::from_secs(2 * 3600));
    app.get("/api/auth/me", Some(&idle))
        .await
        .expect_error(401, "authentication_required");
    app.tick_sweep_sessions().await;
    assert_eq!(session_count(&app).await, 1, "the idle session is swept");
    app.get("/api/auth/me", Some(&busy)).await.expect(200);
}

crate::both_engines!(idle_sessions_are_swept_by_a_tick => sweep);
