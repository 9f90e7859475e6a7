//! Reading boot secrets from AWS Secrets Manager (`ASGARD_DATABASE_URL_SECRET_ARN`,
//! `ASGARD_SECRET_KEY_SECRET_ARN`), so an Asgard on ECS needs nothing but its task
//! role: the runbook's self-deploy appendix passes exactly these two variables.

mod boot;
mod credentials;
mod secrets_manager;
pub mod sigv4;

pub use boot::resolve_boot_secrets;
pub use secrets_manager::{BootSecret, read_boot_secret};

use std::collections::HashMap;

/// A snapshot of the environment, so tests can pass their own.
#[derive(Clone, Default)]
pub struct Env(HashMap<String, String>);

impl Env {
    pub fn from_process() -> Self {
        Env(std::env::vars().collect())
    }

    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Env(pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    /// A set, non-empty variable.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).filter(|v| !v.trim().is_empty()).cloned()
    }
}

/// Why a boot secret could not be read. Messages name the ARN and the cause, never a value.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error(
        "not a Secrets Manager secret ARN (expected arn:<partition>:secretsmanager:<region>:<account>:secret:<name>): {0}"
    )]
    BadArn(String),
    #[error(
        "no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a shared credentials profile, or run with an ECS task role or EC2 instance role"
    )]
    NoCredentials,
    #[error("AWS credentials: {0}")]
    Credentials(String),
    #[error("Secrets Manager could not be reached at {endpoint}: {cause}")]
    Unreachable { endpoint: String, cause: String },
    #[error("Secrets Manager refused GetSecretValue ({status}): {kind}: {message}")]
    Refused {
        status: u16,
        kind: String,
        message: String,
    },
    #[error("{0}")]
    BadValue(String),
}
