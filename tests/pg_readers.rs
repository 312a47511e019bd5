//! The store's PostgreSQL read connections live outside sqlx's pool (issue 18: the
//! pool pinged every connection it took back, a second round trip per read), so
//! nothing pings them after each read. When the server ends them
//! (`pg_terminate_backend`, as a restart or a failover does: PostgreSQL docs,
//! "Server Signaling Functions"), each broken connection may fail one read; the
//! next reads must work again on fresh connections, as they did with the pool.

mod common;

use sqlx::Connection;

#[tokio::test]
async fn reads_recover_after_the_server_ends_their_connections() {
    let url = common::fresh_postgres().await;
    let store = warroom::store::Store::connect(&url).await.unwrap();
    let database = url.rsplit_once('/').unwrap().1.to_string();
    // Several reads at once, so more than one read connection is open and idle.
    let reads: Vec<_> = (0..4).map(|_| store.open_incident("C1")).collect();
    for r in futures_util::future::join_all(reads).await {
        assert!(r.unwrap().is_none());
    }
    let mut admin = sqlx::PgConnection::connect(&common::postgres_admin_url())
        .await
        .unwrap();
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&database)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(
        ended.len() >= 2,
        "the store's connections were ended: {ended:?}"
    );
    // Each broken connection fails at most once (the pool's connections as well:
    // it did not test them on checkout either); then every read works.
    let mut failed = 0;
    for _ in 0..(ended.len() + 4) {
        if store.open_incident("C1").await.is_err() {
            failed += 1;
        }
    }
    assert!(failed <= ended.len(), "{failed} reads failed");
    for _ in 0..20 {
        store
            .open_incident("C1")
            .await
            .expect("reads work again on fresh connections");
    }
}
