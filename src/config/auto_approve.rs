//! `provisioning.auto_approve`: per tier, the ceilings under which a
//! request of an auto-approvable service runs with no person.
//!
//! ```yaml
//! auto_approve:
//!   poc: { max_resource_monthly_usd: 50, max_project_monthly_usd: 500 }
//!   critical-path: { max_resource_monthly_usd: 0 }   # 0: every request needs a person
//! ```
//!
//! A tier left out, or a key left out of a tier, keeps its default. The
//! older flat form (`{classifications: [poc], max_resource_monthly_usd,
//! max_project_monthly_usd}`) is still read: the tiers it lists get its
//! ceilings and every other tier gets none (0), which is what it meant.
//! Mixing the two forms is refused, as is any unknown key or tier.

use serde::{Deserialize, Serialize};

use crate::governance::Classification;

/// One tier's ceilings, in USD per month.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Ceilings {
    /// One resource's monthly estimate may be at most this.
    pub max_resource_monthly_usd: f64,
    /// The project's committed total, this request included, may be at
    /// most this.
    pub max_project_monthly_usd: f64,
}

impl Ceilings {
    const fn new(resource: f64, project: f64) -> Self {
        Self {
            max_resource_monthly_usd: resource,
            max_project_monthly_usd: project,
        }
    }

    /// A ceiling of 0 switches auto-approval off for the tier: every
    /// request needs a person, even one estimated at nothing.
    pub fn off(&self) -> bool {
        self.max_resource_monthly_usd == 0.0 || self.max_project_monthly_usd == 0.0
    }
}

/// The defaults, and why: a `poc` and a `light-operational` project should
/// be able to get the cheap building blocks (a registry, a secret, a bucket)
/// without waiting for a person; the higher tiers carry more blast radius,
/// so only small additions flow and anything bigger gets a second pair of
/// eyes. Services that are not `auto_approvable` always need a person.
pub const DEFAULTS: [(Classification, Ceilings); 4] = [
    (Classification::Poc, Ceilings::new(50.0, 500.0)),
    (
        Classification::LightOperational,
        Ceilings::new(100.0, 1000.0),
    ),
    (Classification::WideOperational, Ceilings::new(25.0, 1000.0)),
    (Classification::CriticalPath, Ceilings::new(10.0, 1000.0)),
];

fn default_of(tier: Classification) -> Ceilings {
    DEFAULTS
        .iter()
        .find(|(t, _)| *t == tier)
        .map(|(_, c)| *c)
        .expect("every tier has a default")
}

/// The policy, resolved for every tier.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "Raw")]
pub struct AutoApprove {
    tiers: [Ceilings; 4],
    /// Read from the older flat form (for the error paths of `validate`).
    pub flat: bool,
}

impl Default for AutoApprove {
    fn default() -> Self {
        Self {
            tiers: Classification::ALL.map(default_of),
            flat: false,
        }
    }
}

fn index(tier: Classification) -> usize {
    Classification::ALL
        .iter()
        .position(|t| *t == tier)
        .expect("ALL lists every tier")
}

impl AutoApprove {
    pub fn ceilings(&self, tier: Classification) -> Ceilings {
        self.tiers[index(tier)]
    }

    /// The same policy with one tier's ceilings replaced.
    pub fn with(mut self, tier: Classification, c: Ceilings) -> Self {
        self.tiers[index(tier)] = c;
        self
    }

    /// The first value that is negative or not a number, as
    /// (YAML path under `provisioning.auto_approve`, value).
    pub fn problem(&self) -> Option<String> {
        for tier in Classification::ALL {
            let c = self.ceilings(tier);
            for (key, v) in [
                ("max_resource_monthly_usd", c.max_resource_monthly_usd),
                ("max_project_monthly_usd", c.max_project_monthly_usd),
            ] {
                if v < 0.0 || !v.is_finite() {
                    return Some(if self.flat {
                        key.to_string()
                    } else {
                        format!("{}.{key}", tier.as_str())
                    });
                }
            }
        }
        None
    }
}

/// What the YAML may hold: either form's keys, checked by `try_from`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    classifications: Option<Vec<Classification>>,
    max_resource_monthly_usd: Option<f64>,
    max_project_monthly_usd: Option<f64>,
    poc: Option<Tier>,
    #[serde(rename = "light-operational")]
    light_operational: Option<Tier>,
    #[serde(rename = "wide-operational")]
    wide_operational: Option<Tier>,
    #[serde(rename = "critical-path")]
    critical_path: Option<Tier>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct Tier {
    max_resource_monthly_usd: Option<f64>,
    max_project_monthly_usd: Option<f64>,
}

impl TryFrom<Raw> for AutoApprove {
    type Error = String;

    fn try_from(r: Raw) -> Result<Self, String> {
        let tiers = [
            r.poc,
            r.light_operational,
            r.wide_operational,
            r.critical_path,
        ];
        let flat = r.classifications.is_some()
            || r.max_resource_monthly_usd.is_some()
            || r.max_project_monthly_usd.is_some();
        if flat && tiers.iter().any(Option::is_some) {
            return Err("mixes the older flat form (classifications, max_resource_monthly_usd, max_project_monthly_usd) with per-tier entries; write one ceiling pair per tier instead".into());
        }
        if flat {
            let listed = r
                .classifications
                .unwrap_or_else(|| vec![Classification::Poc]);
            let c = Ceilings::new(
                r.max_resource_monthly_usd.unwrap_or(50.0),
                r.max_project_monthly_usd.unwrap_or(500.0),
            );
            return Ok(Self {
                tiers: Classification::ALL.map(|t| {
                    if listed.contains(&t) {
                        c
                    } else {
                        Ceilings::new(0.0, 0.0)
                    }
                }),
                flat: true,
            });
        }
        let mut out = Self::default();
        for (tier, given) in Classification::ALL.into_iter().zip(tiers) {
            if let Some(g) = given {
                let d = default_of(tier);
                out.tiers[index(tier)] = Ceilings::new(
                    g.max_resource_monthly_usd
                        .unwrap_or(d.max_resource_monthly_usd),
                    g.max_project_monthly_usd
                        .unwrap_or(d.max_project_monthly_usd),
                );
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Classification as C;

    fn parse(yaml: &str) -> Result<AutoApprove, String> {
        serde_yaml::from_str(yaml).map_err(|e| e.to_string())
    }

    fn pair(a: &AutoApprove, t: C) -> (f64, f64) {
        let c = a.ceilings(t);
        (c.max_resource_monthly_usd, c.max_project_monthly_usd)
    }

    #[test]
    fn the_forms() {
        // (what, yaml, expected per tier: poc, light, wide, critical)
        type Row = (&'static str, &'static str, [(f64, f64); 4]);
        let defaults = [(50., 500.), (100., 1000.), (25., 1000.), (10., 1000.)];
        let rows: Vec<Row> = vec![
            ("empty: the defaults", "{}", defaults),
            (
                "the spec's example",
                "{ poc: { max_resource_monthly_usd: 50, max_project_monthly_usd: 500 }, light-operational: { max_resource_monthly_usd: 100, max_project_monthly_usd: 1000 }, wide-operational: { max_resource_monthly_usd: 25, max_project_monthly_usd: 5000 }, critical-path: { max_resource_monthly_usd: 0 } }",
                [(50., 500.), (100., 1000.), (25., 5000.), (0., 1000.)],
            ),
            (
                "a key left out keeps the tier's default",
                "{ wide-operational: { max_project_monthly_usd: 10 } }",
                [(50., 500.), (100., 1000.), (25., 10.), (10., 1000.)],
            ),
            (
                "flat: the listed tiers share it, the others get none",
                "{ classifications: [poc, light-operational], max_resource_monthly_usd: 5, max_project_monthly_usd: 20 }",
                [(5., 20.), (5., 20.), (0., 0.), (0., 0.)],
            ),
            (
                "flat with no tier listed: every request needs a person",
                "{ classifications: [] }",
                [(0., 0.); 4],
            ),
            (
                "flat with only a ceiling: poc, as before",
                "{ max_resource_monthly_usd: 7 }",
                [(7., 500.), (0., 0.), (0., 0.), (0., 0.)],
            ),
        ];
        for (what, yaml, want) in rows {
            let a = parse(yaml).unwrap_or_else(|e| panic!("{what}: {e}"));
            let got: Vec<(f64, f64)> = C::ALL.iter().map(|t| pair(&a, *t)).collect();
            assert_eq!(got, want.to_vec(), "{what}");
        }
    }

    #[test]
    fn refusals() {
        for (what, yaml, needle) in [
            ("unknown tier", "{ ultra: {} }", "ultra"),
            (
                "unknown key in a tier",
                "{ poc: { max_monthly_usd: 1 } }",
                "max_monthly_usd",
            ),
            ("both forms", "{ classifications: [poc], poc: {} }", "mixes"),
            (
                "unknown tier in the flat list",
                "{ classifications: [gold] }",
                "gold",
            ),
        ] {
            let e = parse(yaml).expect_err(what);
            assert!(e.contains(needle), "{what}: {e}");
        }
    }

    #[test]
    fn off_and_problems() {
        assert!(Ceilings::new(0.0, 100.0).off());
        assert!(Ceilings::new(10.0, 0.0).off());
        assert!(!Ceilings::new(0.01, 0.01).off());
        assert_eq!(AutoApprove::default().problem(), None);
        let bad = AutoApprove::default().with(C::WideOperational, Ceilings::new(-1.0, 5.0));
        assert_eq!(
            bad.problem().as_deref(),
            Some("wide-operational.max_resource_monthly_usd")
        );
        let flat = parse("{ max_project_monthly_usd: -3 }").unwrap();
        assert_eq!(flat.problem().as_deref(), Some("max_project_monthly_usd"));
    }
}
