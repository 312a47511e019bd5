//! Commands: the chat language (`parse`), command specs as data (`spec`), the loaded
//! set of specs (`catalog`), and the built-in commands every deployment has.

pub mod builtin;
pub mod catalog;
pub mod checklist;
pub mod help;
pub mod lifecycle;
pub mod parse;
pub mod spec;
