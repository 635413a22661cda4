//! One database of a fleet: its id, its URL, and what narrows the run on it.

use std::sync::Arc;

use crate::backend::DatabaseUrl;

/// A database a fleet run works on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetEntry {
    /// Its id, unique in the run (1-64 of `[A-Za-z0-9_.-]`).
    pub id: String,
    /// The fleet it belongs to.
    pub fleet: Arc<str>,
    /// Its URL (shown redacted).
    pub url: DatabaseUrl,
    /// The PostgreSQL schema it lives in: its search path, and where `alembic_version` is.
    pub schema: Option<String>,
    /// The members whose revisions run on it (`None`: every member).
    pub packages: Option<Vec<String>>,
    /// Create the schema when it is missing.
    pub create_schema: bool,
}

impl FleetEntry {
    /// What `--per-host` counts: the server's `host:port`, or `sqlite` for every file.
    pub fn host(&self) -> String {
        self.url.server_address()
    }
}

/// Checks an entry id: 1 to 64 of `[A-Za-z0-9_.-]`. Ids name databases in lines, in JSON
/// and in `--db` patterns, so nothing else is allowed.
pub fn check_id(id: &str) -> Result<(), String> {
    let valid = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "the id `{}` is not valid; ids are 1 to 64 of A-Z a-z 0-9 _ . -",
            id.escape_debug()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::check_id;

    #[test]
    fn ids_are_short_and_plain() {
        assert!(check_id("tenant_07").is_ok());
        assert!(check_id("eu-west.shard-3").is_ok());
        assert!(check_id(&"x".repeat(64)).is_ok());
        assert!(check_id(&"x".repeat(65)).is_err());
        assert!(check_id("").is_err());
        assert!(check_id("a b").is_err());
        assert!(check_id("a/b").is_err());
        assert!(check_id("é").is_err());
    }
}
