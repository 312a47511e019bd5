//! Why a command was not carried out: the user's mistake, a refusal, a deployment
//! that cannot run it, or an internal failure. `Display` of the user variants is
//! what the channel sees; internal failures are shown only as a reference.

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Denied(String),
    /// The deployment cannot run it (a target is not configured); said plainly.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}
