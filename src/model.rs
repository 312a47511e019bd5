//! The records every layer shares: users and their votes, incidents and their
//! timeline events, runs and their steps. Plain data with the rules that belong to
//! the data itself (ids, state names, headline kinds); no I/O, and nothing of the
//! crate above it: the store persists these, the domain decides with them.

pub mod alert;
pub mod duration;
pub mod incident;
pub mod metric;
pub mod run;
pub mod user;
