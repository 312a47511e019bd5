//! The command language: the chat grammar (`parse`), command specs as data
//! (`spec`, from `commands/*.toml`), and the loaded set of specs with the matrix
//! (`catalog`). Pure: no I/O beyond reading the spec files, and nothing of the
//! handlers that carry commands out (`app::handlers`).

pub mod catalog;
pub mod parse;
pub mod pattern;
pub mod spec;
