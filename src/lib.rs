//! warroom: a ChatOps bot that turns rollback and disaster-recovery runbooks into
//! authorized chat commands. See ARCHITECTURE.md for the map.

pub mod actions;
pub mod app;
pub mod assess;
pub mod authz;
pub mod chat;
pub mod check;
pub mod cli;
pub mod command;
pub mod config;
pub mod demo;
pub mod export;
pub mod failure;
pub mod incident;
pub mod model;
pub mod render;
pub mod runbook;
pub mod serve;
pub mod services;
pub mod store;
