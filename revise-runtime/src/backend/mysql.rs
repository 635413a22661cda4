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

    const SCHEMA_QUERIES: &'static [&'static str] = &[
        "SELECT CAST(CONCAT('table ', table_name) AS CHAR) AS version_num FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'",
        "SELECT CAST(CONCAT('column ', table_name, '.', column_name, ' ', column_type, ' nullable=', is_nullable, ' default=', COALESCE(column_default, '')) AS CHAR) AS version_num FROM information_schema.columns WHERE table_schema = DATABASE()",
        "SELECT CAST(CONCAT('index ', table_name, '.', index_name, ' ', column_name, ' #', seq_in_index, ' unique=', 1 - non_unique) AS CHAR) AS version_num FROM information_schema.statistics WHERE table_schema = DATABASE()",
    ];

    fn table_exists_query(table: &VersionTable) -> (String, Vec<String>) {
        (
            "SELECT CAST(table_name AS CHAR) AS version_num FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?".to_owned(),
            vec![table.name().to_owned()],
        )
    }
}
