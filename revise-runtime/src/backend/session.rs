//! What a run changes on the connection it is handed, and puts back afterwards.
//!
//! An application hands the migrator a connection set up its own way. On SQLite one setting
//! decides whether a run can wait for another: the busy timeout, how long a statement waits
//! for another connection's lock before failing with `database is locked` (diesel opens
//! connections with none: they fail at once). For a whole run, every statement the migrator
//! issues waits up to the lock timeout, as the CLI's runs do, and the application's own value
//! comes back on every way out. PostgreSQL and MySQL need nothing: their runs wait on locks of
//! their own (`lock.rs`, and `lock_step` in `steps.rs`).

#[cfg(feature = "diesel")]
use std::time::Duration;

#[cfg(feature = "diesel")]
use super::{DbError, StepError, VersionTable};

/// The connection settings a run changed, saved by [`VersionStore::begin_run`] for
/// [`VersionStore::end_run`] to put back.
///
/// [`VersionStore::begin_run`]: super::VersionStore::begin_run
/// [`VersionStore::end_run`]: super::VersionStore::end_run
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectionSettings {
    /// SQLite's busy timeout in milliseconds before the run (`None`: nothing was changed).
    pub(crate) sqlite_busy_timeout_ms: Option<i64>,
}

/// How each backend's diesel connection prepares for a run; the defaults do nothing.
#[cfg(feature = "diesel")]
pub(crate) trait RunSession {
    /// Saves what the run changes and sets the connection up for it.
    fn begin_run(&mut self, _lock_timeout: Duration) -> Result<ConnectionSettings, DbError> {
        Ok(ConnectionSettings::default())
    }

    /// Puts back what [`RunSession::begin_run`] saved.
    fn end_run(&mut self, _saved: &ConnectionSettings) -> Result<(), DbError> {
        Ok(())
    }

    /// Waits, up to `timeout`, until the version table can be read, calling `on_wait` first
    /// when it cannot be read right now (SQLite: another connection is committing or holds
    /// an exclusive transaction).
    fn wait_until_readable(
        &mut self,
        _table: &VersionTable,
        _timeout: Duration,
        _on_wait: &mut dyn FnMut(),
    ) -> Result<(), StepError> {
        Ok(())
    }
}

#[cfg(feature = "postgres")]
impl RunSession for diesel::PgConnection {}

#[cfg(feature = "mysql")]
impl RunSession for diesel::MysqlConnection {}

/// A duration as SQLite's busy timeout: whole milliseconds, at most `i32::MAX` (some 24 days).
#[cfg(feature = "sqlite")]
pub(crate) fn busy_timeout_ms(duration: Duration) -> i64 {
    duration.as_millis().min(i32::MAX as u128) as i64
}
