//! Deletes expired sessions.

use crate::app::App;
use crate::error::Result;

pub async fn tick(app: &App) -> Result<()> {
    let n = crate::auth::sessions::sweep(&app.store).await?;
    if n > 0 {
        tracing::info!(swept = n, "expired sessions removed");
    }
    Ok(())
}
