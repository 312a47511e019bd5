//! Which interactions this process has not answered yet. Discord refuses a
//! follow-up (`POST /webhooks/{app}/{token}`) to an interaction whose first
//! response has not been given ("Unknown Webhook", 10015), and with the group
//! commit (issue 18) a command's first private reply can reach the deliverer
//! before its ack has gone back. So a token is pending from the moment its
//! interaction arrives until its response is sent, and a follow-up waits for that
//! (at most [`WAIT`]: past it, the follow-up goes and Discord decides).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

/// How long a follow-up waits for its interaction's first response (Discord's
/// own deadline for it is 3 s).
const WAIT: Duration = Duration::from_secs(3);

static PENDING: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// Told each time an interaction is answered, so waiting follow-ups look again.
static ANSWERED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// The token of an interaction warroom answers (a command or a button).
fn token_of(interaction: &serenity::model::application::Interaction) -> Option<String> {
    use serenity::model::application::Interaction;
    match interaction {
        Interaction::Command(c) => Some(c.token.clone()),
        Interaction::Component(c) => Some(c.token.clone()),
        _ => None,
    }
}

/// An interaction that has arrived and is not answered yet: answered when this is
/// dropped, after its response has been sent (or when there is none to send).
pub struct Pending(Option<String>);

impl Pending {
    pub fn of(interaction: &serenity::model::application::Interaction) -> Pending {
        let token = token_of(interaction);
        if let Some(token) = &token {
            arrived(token);
        }
        Pending(token)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(token) = &self.0 {
            answered(token);
        }
    }
}

/// The interaction of `token` has arrived and is not answered yet.
fn arrived(token: &str) {
    let mut pending = PENDING.lock().expect("pending interactions");
    pending
        .get_or_insert_with(HashSet::new)
        .insert(token.to_string());
}

/// Its first response has been sent (or will not be).
fn answered(token: &str) {
    let mut pending = PENDING.lock().expect("pending interactions");
    if let Some(p) = pending.as_mut() {
        p.remove(token);
    }
    drop(pending);
    ANSWERED.notify_waiters();
}

fn is_pending(token: &str) -> bool {
    PENDING
        .lock()
        .expect("pending interactions")
        .as_ref()
        .is_some_and(|p| p.contains(token))
}

/// Waits until the interaction of `token` has been answered, or [`WAIT`].
pub async fn wait_for(token: &str) {
    let answered = async {
        loop {
            // Registered before the check, so an answer between the two is not
            // missed (`Notify::notify_waiters` wakes only registered waiters).
            let told = ANSWERED.notified();
            tokio::pin!(told);
            told.as_mut().enable();
            if !is_pending(token) {
                return;
            }
            told.await;
        }
    };
    let _ = tokio::time::timeout(WAIT, answered).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_follow_up_waits_while_its_interaction_is_pending_and_goes_when_it_is_answered() {
        let token = "answered-test-token";
        arrived(token);
        let waiter = tokio::spawn(async move {
            wait_for(token).await;
            tokio::time::Instant::now()
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !waiter.is_finished(),
            "it waits while the interaction is pending"
        );
        let told = tokio::time::Instant::now();
        answered(token);
        let went = waiter.await.unwrap();
        // Woken by the answer, not by the 3 s deadline (a missed notification).
        assert!(
            went - told < WAIT / 2,
            "went {:?} after the answer",
            went - told
        );
        // An interaction already answered does not wait at all.
        let before = tokio::time::Instant::now();
        wait_for(token).await;
        assert!(before.elapsed() < WAIT / 2);
    }
}
