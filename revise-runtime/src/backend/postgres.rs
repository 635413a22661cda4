//! PostgreSQL through diesel's `PgConnection` (libpq: the system's, or built in by the CLI).
//!
//! DDL is transactional, so each step is one transaction. The run lock is a session
//! advisory lock taken on a connection of its own (`lock.rs`).

use std::time::Duration;

use diesel::prelude::*;
use diesel::PgConnection;

use super::steps::{sql_connection_basics, SqlConnection, StepLock, TxError};
use super::{DatabaseUrl, DbError, Dialect, StepError, VersionTable};

/// Seconds libpq may spend reaching the server: a server that is down must fail fast.
pub(super) const CONNECT_TIMEOUT_SECS: u64 = 5;

/// What the server shows for our sessions in `pg_stat_activity`, so that an operator can
/// tell a migration's connections (a fleet run opens many) from the application's.
const APPLICATION_NAME: &str = "cargo-revise";

pub(super) fn connect(text: &str, shown: &DatabaseUrl) -> Result<PgConnection, DbError> {
    connect_within(text, shown, CONNECT_TIMEOUT_SECS)
}

/// [`connect`] giving up after `timeout_secs` (libpq's `connect_timeout`, unless the URL
/// sets its own).
pub(super) fn connect_within(
    text: &str,
    shown: &DatabaseUrl,
    timeout_secs: u64,
) -> Result<PgConnection, DbError> {
    let mut url = text.to_owned();
    if !text.contains("connect_timeout=") {
        add_parameter(
            &mut url,
            "connect_timeout",
            &timeout_secs.max(1).to_string(),
        );
    }
    if !text.contains("application_name=") {
        add_parameter(&mut url, "application_name", APPLICATION_NAME);
    }
    if let Some(dir) = super::pg_socket::socket_dir(text) {
        add_parameter(&mut url, "host", dir);
    }
    PgConnection::establish(&url).map_err(|e| DbError::new(format!("connecting to {shown}"), e))
}

/// Appends `key=value` to the URL's query.
fn add_parameter(url: &mut String, key: &str, value: &str) {
    url.push(if url.contains('?') { '&' } else { '?' });
    url.push_str(key);
    url.push('=');
    url.push_str(value);
}

impl SqlConnection for PgConnection {
    const DIALECT: Dialect = Dialect::Postgres;

    sql_connection_basics!();

    fn in_transaction<T>(
        &mut self,
        _wait: Option<Duration>,
        _patience: Duration,
        body: impl FnOnce(&mut Self) -> Result<T, TxError>,
    ) -> Result<T, TxError> {
        self.transaction(body)
    }

    /// A transaction-scoped advisory lock would end with the first transaction, so a
    /// session lock is taken for the step and released after it.
    fn lock_step(
        &mut self,
        table: &VersionTable,
        wait: Option<Duration>,
    ) -> Result<StepLock, StepError> {
        let key = super::lock::postgres_key(table, super::lock::STEP_LOCK_CLASS);
        super::lock::poll(
            self,
            &super::lock::postgres_try_query(&key),
            wait.unwrap_or(Duration::ZERO),
            &mut || {},
        )
        .map_err(|e| match (e, wait) {
            (StepError::LockTimeout(_), None) => StepError::Busy,
            (e, _) => e,
        })?;
        Ok(StepLock {
            release_sql: Some(format!("SELECT pg_advisory_unlock({key})")),
        })
    }

    /// `to_regclass` is a catalog lookup by name; `information_schema.tables` would be
    /// scanned once per step, which at thousands of tables dominates `up`.
    fn table_exists_query(table: &VersionTable) -> (String, Vec<String>) {
        let name = match table.schema() {
            Some(schema) => format!("\"{schema}\".\"{}\"", table.name()),
            None => format!("\"{}\"", table.name()),
        };
        (
            "SELECT relname::text AS version_num FROM pg_class WHERE oid = to_regclass($1)"
                .to_owned(),
            vec![name],
        )
    }
}
