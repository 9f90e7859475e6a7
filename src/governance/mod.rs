//! Governance rules: classification tiers and evidence. Pure functions over
//! domain values; persistence and authority checks happen in the callers.

pub mod evidence;
#[cfg(test)]
mod evidence_tests;
mod health;
#[cfg(test)]
mod health_tests;
pub mod metrics;
#[cfg(test)]
mod metrics_tests;
pub mod portfolio;
pub mod promotion;
pub mod review;

pub use evidence::{EVIDENCE_FIELDS, Evidence, FieldKind, missing_for};

use serde::{Deserialize, Serialize};

/// Classification tiers, ordered from least to most governed.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Classification {
    #[default]
    Poc,
    LightOperational,
    WideOperational,
    CriticalPath,
}

impl Classification {
    pub const ALL: [Classification; 4] = [
        Classification::Poc,
        Classification::LightOperational,
        Classification::WideOperational,
        Classification::CriticalPath,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Poc => "poc",
            Classification::LightOperational => "light-operational",
            Classification::WideOperational => "wide-operational",
            Classification::CriticalPath => "critical-path",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn next(self) -> Option<Self> {
        match self {
            Classification::Poc => Some(Classification::LightOperational),
            Classification::LightOperational => Some(Classification::WideOperational),
            Classification::WideOperational => Some(Classification::CriticalPath),
            Classification::CriticalPath => None,
        }
    }
}

impl std::str::FromStr for Classification {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s).ok_or_else(|| {
            format!(
                "{s:?} is not one of: {}",
                Self::ALL.map(Classification::as_str).join(", ")
            )
        })
    }
}

crate::sql_text!(Classification);

/// How sensitive the project's data is.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum DataClass {
    Public,
    #[default]
    Internal,
    Confidential,
    Restricted,
}

impl DataClass {
    pub fn as_str(self) -> &'static str {
        match self {
            DataClass::Public => "public",
            DataClass::Internal => "internal",
            DataClass::Confidential => "confidential",
            DataClass::Restricted => "restricted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_order_and_parse() {
        assert!(Classification::Poc < Classification::CriticalPath);
        for c in Classification::ALL {
            assert_eq!(Classification::parse(c.as_str()), Some(c));
        }
        assert_eq!(Classification::parse("gold"), None);
        assert_eq!(
            Classification::WideOperational.next(),
            Some(Classification::CriticalPath)
        );
    }
}
