//! People as the platforms name them, and the votes they cast on runs.

/// A user as the chat platform identifies them. Display names never count.
///
/// Identity is `platform` + `id`; `groups` are platform groups the user held when
/// they acted (Discord guild role ids), which grant the matrix roles that list them
/// as `discord-role:ID`. They are not part of identity: the same person with other
/// groups is still the same person, so they cannot approve their own run.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct UserId {
    pub platform: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

impl UserId {
    pub fn new(platform: &str, id: &str) -> Self {
        Self {
            platform: platform.into(),
            id: id.into(),
            groups: Vec::new(),
        }
    }

    pub fn with_groups(mut self, groups: Vec<String>) -> Self {
        self.groups = groups;
        self
    }

    fn key(&self) -> (&str, &str) {
        (&self.platform, &self.id)
    }
}

impl PartialEq for UserId {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for UserId {}

impl std::hash::Hash for UserId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl PartialOrd for UserId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for UserId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// A recorded vote on a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vote {
    pub user: UserId,
    pub approve: bool,
}
