//! Marks projects whose review date has passed `overdue` (and clears the
//! mark when the date has moved ahead), audited once per transition.

use crate::app::App;
use crate::error::Result;

pub async fn tick(app: &App) -> Result<()> {
    let n = crate::registry::governance::sweep(&app.store).await?;
    if n > 0 {
        tracing::info!(changed = n, "review states updated");
    }
    Ok(())
}
