//! Asgard: a governed control plane for AI agents. The binary is a thin
//! wrapper over this library (`cli::main`); tests drive the same code.
//!
//! Dependency direction: `cli → server/background/http/mcp → domain
//! (registry, governance, auth, secrets, seed, audit) → store`. Domain modules
//! never import axum or rmcp.

#[macro_use]
pub mod store;

pub mod app;
pub mod audit;
pub mod auth;
pub mod aws;
pub mod background;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod edge;
pub mod error;
pub mod governance;
pub mod http;
pub mod mcp;
pub mod metrics;
pub mod provisioning;
pub mod registry;
pub mod secrets;
pub mod seed;
pub mod server;
pub mod web;
