//! MySQL and MariaDB through diesel's `MysqlConnection` (the system's libmariadb).
//!
//! DDL commits implicitly here, so a step's transaction protects only its data changes and
//! the version row; `steps.rs` runs sections statement by statement so that a failure can
//! name what was left behind. The run lock is `GET_LOCK` on a connection of its own.

use std::time::Duration;

use diesel::prelude::*;
use diesel::MysqlConnection;

use super::steps::{sql_connection_basics, SqlConnection, StepLock, TxError};
use super::{DatabaseUrl, DbError, Dialect, StepError, VersionTable};

pub(super) fn connect(text: &str, shown: &DatabaseUrl) -> Result<MysqlConnection, DbError> {
    MysqlConnection::establish(text).map_err(|e| DbError::new(format!("connecting to {shown}"), e))
}

impl SqlConnection for MysqlConnection {
    const DIALECT: Dialect = Dialect::Mysql;

    sql_connection_basics!();

    fn in_transaction<T>(
        &mut self,
        _wait: Option<Duration>,
        _patience: Duration,
        body: impl FnOnce(&mut Self) -> Result<T, TxError>,
    ) -> Result<T, TxError> {
        self.transaction(body)
    }

    /// diesel passes on only MySQL's message; the error number and SQLSTATE are still in
    /// the session's diagnostics area right after the failure, so they are read from there.
    fn error_code(&mut self, error: &diesel::result::Error) -> Option<String> {
        if !matches!(error, diesel::result::Error::DatabaseError(..)) {
            return None;
        }
        self.execute_batch(
            "GET DIAGNOSTICS CONDITION 1 @revise_errno = MYSQL_ERRNO, @revise_sqlstate = RETURNED_SQLSTATE",
        )
        .ok()?;
        let read = self.load_strings(
            "SELECT CAST(CONCAT('MySQL error ', @revise_errno, ' (SQLSTATE ', @revise_sqlstate, ')') AS CHAR) AS version_num FROM DUAL WHERE @revise_errno IS NOT NULL",
            &[],
        );
        let _ = self.execute_batch("SET @revise_errno = NULL, @revise_sqlstate = NULL");
        read.ok()?.into_iter().next()
    }

    fn lock_step(
        &mut self,
        table: &VersionTable,
        wait: Option<Duration>,
    ) -> Result<StepLock, StepError> {
        let name = super::lock::mysql_name(table, "step");
        super::lock::poll(
            self,
            &super::lock::mysql_try_query(&name),
            wait.unwrap_or(Duration::ZERO),
            &mut || {},
        )
        .map_err(|e| match (e, wait) {
            (StepError::LockTimeout(_), None) => StepError::Busy,
            (e, _) => e,
        })?;
        Ok(StepLock {
            release_sql: Some(format!("DO RELEASE_LOCK({name})")),
        })
    }

    fn table_exists_query(table: &VersionTable) -> (String, Vec<String>) {
        (
            "SELECT CAST(table_name AS CHAR) AS version_num FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?".to_owned(),
            vec![table.name().to_owned()],
        )
    }
}
