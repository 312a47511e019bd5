//! The deliverer's loop: a pass every tick until asked to stop, then a bounded
//! drain of what is still queued.

use std::time::Duration;

use chrono::Utc;

use super::{deliver_due_noting, Notices};
use crate::chat::Chat;
use crate::store::Store;

/// How long a pass woken by a queued reply waits for others (issue 18: woken by
/// each reply, a pass at 1k accepted commands a second carried one or two rows, so
/// each reply cost its own due read, claim, pace read and sent update: half of the
/// statements an accepted command made). Far under what a person notices.
const GATHER: Duration = Duration::from_millis(5);

/// Delivers `platform_name`'s rows every `tick` until `stop` fires.
pub async fn run(
    store: Store,
    platform_name: String,
    platform: std::sync::Arc<dyn Chat>,
    pace: Duration,
    tick: Duration,
    mut notices: Notices,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if let Err(e) = deliver_due_noting(
            &store,
            &platform_name,
            platform.as_ref(),
            Utc::now(),
            pace,
            &mut notices,
        )
        .await
        {
            tracing::warn!(error = %e, platform = %platform_name, "outbox delivery pass failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            // A reply queued: go soon rather than up to a tick later, after a
            // moment for the replies queued with it to join the same pass.
            _ = store.outbox_queued() => tokio::time::sleep(GATHER).await,
            _ = stop.changed() => break,
        }
    }
    drain(
        &store,
        &platform_name,
        platform.as_ref(),
        pace,
        tick,
        &mut notices,
    )
    .await;
}

/// How long a stopping warroom keeps delivering what is queued (issue 14: on
/// SIGTERM, 17 of 21 finished results were posted only after a restart). Bounded,
/// so an orchestrator's kill deadline (Kubernetes: 30 s, of which commands may
/// take 20) is kept; what is left goes out on the next start.
pub const DRAIN: Duration = Duration::from_secs(8);

/// Delivers until nothing is queued or [`DRAIN`] has passed, and says what is left.
async fn drain(
    store: &Store,
    platform_name: &str,
    platform: &dyn Chat,
    pace: Duration,
    tick: Duration,
    notices: &mut Notices,
) {
    let deadline = tokio::time::Instant::now() + DRAIN;
    loop {
        let left = match store.outbox_pending(platform_name).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, platform = %platform_name, "cannot count the outbox at shutdown");
                return;
            }
        };
        if left == 0 {
            tracing::info!(platform = %platform_name, "outbox delivered before stopping");
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(
                platform = %platform_name,
                posts = left,
                "stopping with posts still queued; the next start delivers them"
            );
            return;
        }
        if let Err(e) =
            deliver_due_noting(store, platform_name, platform, Utc::now(), pace, notices).await
        {
            tracing::warn!(error = %e, platform = %platform_name, "outbox delivery pass failed");
        }
        tokio::time::sleep(tick.min(Duration::from_millis(100))).await;
    }
}
