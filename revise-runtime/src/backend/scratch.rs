//! Throw-away databases for the stairway test: a temporary SQLite file, or a database
//! created on the configured server and dropped afterwards.

use std::path::Path;

use super::database::{self, AdminError};
use super::DatabaseUrl;

/// A database that exists only for the caller's use; dropped (on a server) with the value.
pub struct ScratchDatabase {
    url: DatabaseUrl,
    on_server: bool,
}

impl ScratchDatabase {
    /// Creates a scratch database like `base`: a new file in `dir` for SQLite, a new database
    /// on the same server otherwise (created as `cargo revise database create` does).
    pub fn create(base: &DatabaseUrl, dir: &Path) -> Result<Self, AdminError> {
        let name = format!(
            "revise_scratch_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        if let DatabaseUrl::Sqlite { .. } = base {
            return Ok(Self {
                url: DatabaseUrl::Sqlite {
                    path: dir.join(format!("{name}.db")),
                },
                on_server: false,
            });
        }
        let url = base.with_database(Some(&name));
        database::create_database(&url)?;
        Ok(Self {
            url,
            on_server: true,
        })
    }

    /// The scratch database's URL.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if self.on_server {
            // Best effort: a scratch database left behind is named for what it is.
            let _ = database::drop_database(&self.url, true);
        }
    }
}
