//! Boot step 2: replace `*_SECRET_ARN` settings by the values they point at.

use super::{BootSecret, Env, read_boot_secret};
use crate::config::{Config, Secret};
use anyhow::anyhow;

/// Reads the database URL and the master key from Secrets Manager where the configuration
/// names an ARN instead of a value. A directly given value always wins (the config loader
/// only keeps an ARN when its value variable is unset). Errors name the variable and the
/// cause, never the value.
pub async fn resolve_boot_secrets(config: &mut Config) -> anyhow::Result<()> {
    if config.database_url_secret_arn.is_none() && config.secret_key_secret_arn.is_none() {
        return Ok(());
    }
    let env = Env::from_process();
    if let Some(arn) = config.database_url_secret_arn.clone() {
        let var = "ASGARD_DATABASE_URL_SECRET_ARN";
        let url = read_boot_secret(&env, &arn, BootSecret::DatabaseUrl)
            .await
            .map_err(|e| anyhow!("{var}: {e}"))?;
        if !["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|s| url.starts_with(s))
        {
            return Err(anyhow!(
                "{var}: the secret does not hold a database URL (expected postgres://… or sqlite://…, as a plain string or a JSON `url` field)"
            ));
        }
        config.database_url = Secret::new(url.as_str());
        tracing::info!(arn = %arn, "read the database URL from Secrets Manager");
    }
    if config.secret_key.is_none()
        && let Some(arn) = config.secret_key_secret_arn.clone()
    {
        let var = "ASGARD_SECRET_KEY_SECRET_ARN";
        let key = read_boot_secret(&env, &arn, BootSecret::MasterKey)
            .await
            .map_err(|e| anyhow!("{var}: {e}"))?;
        crate::secrets::MasterKey::from_hex(&key)
            .map_err(|m| anyhow!("{var}: the secret is not a valid master key: {m}"))?;
        config.secret_key = Some(Secret::new(key.as_str()));
        tracing::info!(arn = %arn, "read the master key from Secrets Manager");
    }
    Ok(())
}
