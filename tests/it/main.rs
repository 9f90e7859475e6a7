//! Integration tests: Asgard booted per test on SQLite and (when
//! ASGARD_TEST_PG_URL is set) on Postgres, in this process by default and as
//! the real `asgard` binary where a test needs the process (its log, signals,
//! exit, the CLI): `Opts::process()`. See `support`.

// Notes for the person running the tests go to stderr.
#![allow(clippy::print_stderr)]

mod support;

mod architecture;
mod bad_fields;
mod bad_input;
mod budget_race;
mod cache;
mod cli_commands;
mod cli_hints;
mod concurrency;
mod config_errors;
mod cost_rollup;
mod dev_insecure;
mod governance_metrics;
mod http_conventions;
mod leak;
mod lifecycle;
mod mcp_tools;
mod metrics;
mod nul_bytes;
mod offboarding;
mod openapi;
mod pages_order;
mod projects;
mod promotion;
mod requests_pages;
mod resource_identity;
mod reviews;
mod roles;
mod route_walk;
mod runbook;
mod schema_parity;
mod security_edge;
mod security_grants;
mod security_identity;
mod sessions;
mod ticks;
mod tier_policy;
mod typed_answers;
mod typed_projects;
