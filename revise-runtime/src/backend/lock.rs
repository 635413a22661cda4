//! The run lock: one migration run per database at a time.
//!
//! PostgreSQL takes a session advisory lock and MySQL a named `GET_LOCK`, each on a
//! connection of its own so that nothing a revision does to its session can release it.
//! That connection also holds the step lock, which runs on an application's own connection
//! take for each step (`lock_step` in `steps.rs`): a run of the CLI and an application
//! starting beside it never run steps at the same time.
//! SQLite takes `BEGIN IMMEDIATE` per step instead (see `sqlite.rs`), and so do connections an
//! application hands in (see `steps.rs`). The guard releases the lock when dropped, so every
//! way out of a run, errors included, lets the next run in.

#[cfg(feature = "diesel")]
use std::time::Duration;

#[cfg(feature = "diesel")]
use super::{DatabaseUrl, StepError, VersionTable};

/// A held run lock; dropping it releases the lock.
pub struct RunLock {
    #[allow(dead_code)]
    held: Held,
}

enum Held {
    Nothing,
    #[cfg(feature = "postgres")]
    Postgres(diesel::PgConnection, [String; 2]),
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection, [String; 2]),
}

impl RunLock {
    /// No run-long lock: the connection serializes runs step by step (SQLite's `BEGIN
    /// IMMEDIATE`, or a step-scoped lock on a connection the application owns).
    pub fn per_step() -> Self {
        Self {
            held: Held::Nothing,
        }
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Closing the connection releases the lock too; the explicit release only makes it
        // prompt. Errors are ignored: there is nothing left to do about them.
        match &mut self.held {
            Held::Nothing => {}
            #[cfg(feature = "postgres")]
            Held::Postgres(conn, keys) => {
                for key in keys.iter().rev() {
                    let _ = super::steps::SqlConnection::execute_batch(
                        conn,
                        &format!("SELECT pg_advisory_unlock({key})"),
                    );
                }
            }
            #[cfg(feature = "mysql")]
            Held::Mysql(conn, names) => {
                for name in names.iter().rev() {
                    let _ = super::steps::SqlConnection::execute_batch(
                        conn,
                        &format!("DO RELEASE_LOCK({name})"),
                    );
                }
            }
        }
    }
}

/// The advisory-lock class of the run lock (the first key of the two-key form).
#[cfg(feature = "postgres")]
const RUN_LOCK_CLASS: i32 = 1_919_252_837;

/// The advisory-lock class of step locks, distinct so a run's own step lock never waits for
/// its run lock.
#[cfg(feature = "postgres")]
pub(super) const STEP_LOCK_CLASS: i32 = 1_919_252_838;

/// The two-key advisory lock for `table` (advisory locks are per database already).
#[cfg(feature = "postgres")]
pub(super) fn postgres_key(table: &VersionTable, class: i32) -> String {
    format!(
        "{class}, hashtext('{}.{}')",
        table.schema().unwrap_or("-"),
        table.name()
    )
}

#[cfg(feature = "postgres")]
pub(super) fn postgres_try_query(key: &str) -> String {
    format!("SELECT CASE WHEN pg_try_advisory_lock({key}) THEN '1' ELSE '0' END AS version_num")
}

/// The SQL expression naming MySQL's lock: names are server-wide and at most 64 characters,
/// so database and table are hashed.
#[cfg(feature = "mysql")]
pub(super) fn mysql_name(table: &VersionTable, purpose: &str) -> String {
    format!(
        "CONCAT('revise.{purpose}.', SHA1(CONCAT(DATABASE(), '.', '{}')))",
        table.name()
    )
}

#[cfg(feature = "mysql")]
pub(super) fn mysql_try_query(name: &str) -> String {
    format!("SELECT COALESCE(CAST(GET_LOCK({name}, 0) AS CHAR), 'e') AS version_num")
}

/// How often a waiting run asks again.
#[cfg(any(feature = "postgres", feature = "mysql"))]
const POLL: Duration = Duration::from_millis(100);

#[cfg(feature = "diesel")]
pub(super) fn acquire(
    url: &DatabaseUrl,
    table: &VersionTable,
    timeout: Duration,
    on_wait: &mut dyn FnMut(),
) -> Result<RunLock, StepError> {
    let held = match url {
        #[cfg(feature = "postgres")]
        DatabaseUrl::Postgres { url: text, .. } => {
            let mut conn = super::postgres::connect(text, url)?;
            let keys = [RUN_LOCK_CLASS, STEP_LOCK_CLASS].map(|class| postgres_key(table, class));
            let queries = keys.clone().map(|key| postgres_try_query(&key));
            poll_all(&mut conn, &queries, timeout, on_wait)?;
            Held::Postgres(conn, keys)
        }
        #[cfg(feature = "mysql")]
        DatabaseUrl::Mysql { url: text, .. } => {
            let mut conn = super::mysql::connect(text, url)?;
            let names = ["run", "step"].map(|purpose| mysql_name(table, purpose));
            let queries = names.clone().map(|name| mysql_try_query(&name));
            poll_all(&mut conn, &queries, timeout, on_wait)?;
            Held::Mysql(conn, names)
        }
        _ => {
            let _ = (table, timeout, &on_wait);
            Held::Nothing
        }
    };
    Ok(RunLock { held })
}

/// Takes each lock in turn with [`poll`], within one `timeout`, calling `on_wait` at most
/// once. A failure leaves those already taken to the connection, which is then closed.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn poll_all<C: super::steps::SqlConnection>(
    conn: &mut C,
    queries: &[String],
    timeout: Duration,
    on_wait: &mut dyn FnMut(),
) -> Result<(), StepError> {
    let started = std::time::Instant::now();
    let mut waited = false;
    let mut once = || {
        if !std::mem::replace(&mut waited, true) {
            on_wait();
        }
    };
    for query in queries {
        let left = timeout.saturating_sub(started.elapsed());
        poll(conn, query, left, &mut once).map_err(|e| match e {
            StepError::LockTimeout(_) => StepError::LockTimeout(timeout),
            other => other,
        })?;
    }
    Ok(())
}

/// Asks for the lock until it is granted or `timeout` passes, calling `on_wait` once.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(super) fn poll<C: super::steps::SqlConnection>(
    conn: &mut C,
    query: &str,
    timeout: Duration,
    on_wait: &mut dyn FnMut(),
) -> Result<(), StepError> {
    let started = std::time::Instant::now();
    let mut waited = false;
    loop {
        let answer = conn
            .load_strings(query, &[])
            .map_err(|e| super::DbError::new("taking the migration lock", e))?;
        if answer.first().map(String::as_str) == Some("1") {
            return Ok(());
        }
        if started.elapsed() >= timeout {
            return Err(StepError::LockTimeout(timeout));
        }
        if !waited {
            on_wait();
            waited = true;
        }
        std::thread::sleep(POLL);
    }
}
