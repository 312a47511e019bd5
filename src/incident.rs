//! Incidents as decisions: how one opens, the clocks it runs on (RTO warnings,
//! escalation, update reminders) and what stakeholders are told. The records
//! themselves are in `model::incident`.

pub mod clock;
pub mod opening;
pub mod stakeholders;
pub mod suggest;
