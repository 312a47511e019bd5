//! Why a target database cannot be reached: refused, timed out, refused the login.
//! A PostgreSQL pool retries refused connections until its acquire timeout and
//! then says only "timed out", which sends people looking for a slow network when
//! nothing listens at the address.

use super::db_error;
use crate::actions::target::SqlTarget;
use crate::actions::ActionError;

/// What a pool that gave up waiting reports; [`why_unreachable`] looks closer.
pub(super) const POOL_TIMED_OUT: &str = "target database unreachable (timed out)";

pub(super) const REFUSED: &str =
    "target database unreachable (it refused the connection: nothing listens at its address and port)";

/// One direct attempt tells a refusal, a login error or a host that does not
/// answer apart.
async fn why_unreachable(pool: &sqlx::PgPool) -> ActionError {
    use sqlx::Connection;
    let opts = pool.connect_options();
    let attempt = sqlx::PgConnection::connect_with(&opts);
    match tokio::time::timeout(std::time::Duration::from_secs(2), attempt).await {
        Ok(Err(e)) => db_error(e),
        Ok(Ok(c)) => {
            let _ = c.close().await;
            ActionError::Failed(
                "target database busy (timed out waiting for a free connection)".into(),
            )
        }
        Err(_) => ActionError::Failed(POOL_TIMED_OUT.into()),
    }
}

/// A pool timeout on PostgreSQL, said as what it is (refused, timed out...).
pub(super) async fn explained<T>(
    target: &SqlTarget,
    r: Result<T, ActionError>,
) -> Result<T, ActionError> {
    match (r, target) {
        (Err(ActionError::Failed(m)), SqlTarget::Postgres(pool)) if m == POOL_TIMED_OUT => {
            Err(why_unreachable(pool).await)
        }
        (r, _) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    #[test]
    fn a_refused_connection_is_not_said_to_have_timed_out() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let e = db_error(sqlx::Error::Io(refused)).to_string();
        assert!(
            e.contains("refused the connection") && !e.contains("timed out"),
            "{e}"
        );
    }

    /// Port 9 (discard) has no listener here: the kernel answers RST, which
    /// `connect(2)` reports as ECONNREFUSED (POSIX). The pool alone would report
    /// only its timeout.
    #[tokio::test]
    async fn a_pool_timeout_on_a_refusing_address_is_explained_as_refused() {
        let target = SqlTarget::open(&SecretString::from(
            "postgres://postgres@127.0.0.1:9/nothing".to_string(),
        ))
        .unwrap();
        let timed_out: Result<(), ActionError> = Err(ActionError::Failed(POOL_TIMED_OUT.into()));
        let e = explained(&target, timed_out).await.unwrap_err().to_string();
        assert!(
            e.contains("refused the connection") && !e.contains("timed out"),
            "{e}"
        );
        assert!(
            !e.contains("127.0.0.1"),
            "no address in what users read: {e}"
        );
    }
}
