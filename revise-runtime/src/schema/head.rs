//! A scratch database at a member's head: migrated revision by revision with the project's
//! own migrator, recording after each step which tables appeared, so that every table has an
//! owner (the member whose revision created it).
//!
//! On SQLite the scratch database lives in memory; on PostgreSQL and MySQL it is a database
//! of its own on the server ([`ScratchDatabase`]), dropped afterwards. The user's live
//! database is never connected to.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::backend::scratch::ScratchDatabase;
use crate::backend::{connect, DatabaseConnection, DatabaseUrl, DbError, Native, VersionTable};
use crate::graph::RevisionGraph;
use crate::migrator::{MigrateError, Migrator};
use crate::plan::{self, PlanError};
use crate::target::Target;
use crate::version_rows::Direction;
use crate::NodeSet;

use super::model::TableName;

/// A migrated scratch database and who owns its tables.
pub struct ScratchAtHead {
    /// The connection to it.
    pub conn: DatabaseConnection,
    /// Each table's owner: the branch label of the member whose revision created it.
    pub owners: BTreeMap<TableName, String>,
    /// The server database, dropped when this value is (none on SQLite).
    _scratch: Option<ScratchDatabase>,
}

impl ScratchAtHead {
    /// The tables the member `label`'s revisions created.
    pub fn owned_by(&self, label: &str) -> Vec<TableName> {
        self.owners
            .iter()
            .filter(|(_, owner)| owner.as_str() == label)
            .map(|(table, _)| table.clone())
            .collect()
    }
}

/// Why a scratch database could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ScratchError {
    /// Creating or reaching the scratch database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A revision failed on it, or the target is invalid.
    #[error(transparent)]
    Migrate(#[from] MigrateError),
}

/// Creates a scratch database like `server` (in memory for SQLite) and migrates it to
/// `label@head`, recording table owners. A member without revisions leaves it empty.
pub fn scratch_at_head(
    graph: &RevisionGraph,
    server: &DatabaseUrl,
    table: &VersionTable,
    label: &str,
    lock_timeout: Duration,
) -> Result<ScratchAtHead, ScratchError> {
    let (scratch, url) = match server {
        DatabaseUrl::Sqlite { .. } => (
            None,
            DatabaseUrl::Sqlite {
                path: ":memory:".into(),
            },
        ),
        _ => {
            let scratch = ScratchDatabase::create(server, &std::env::temp_dir())?;
            let url = scratch.url().clone();
            (Some(scratch), url)
        }
    };
    let mut conn = connect(&url)?;
    let migrator = Migrator::new(graph)
        .with_version_table(table.clone())
        .with_lock_timeout(lock_timeout);
    let owners = migrate_recording_owners(&migrator, &mut conn, label)?;
    Ok(ScratchAtHead {
        conn,
        owners,
        _scratch: scratch,
    })
}

/// Applies the revisions `label@head` needs one at a time, noting the tables each creates.
pub fn migrate_recording_owners(
    migrator: &Migrator<'_>,
    conn: &mut DatabaseConnection,
    label: &str,
) -> Result<BTreeMap<TableName, String>, ScratchError> {
    let graph = migrator.graph();
    let mut owners = BTreeMap::new();
    for name in table_names(conn)? {
        owners.insert(name, String::new());
    }
    let has_revisions = graph.revisions().iter().any(|r| *r.origin.member == *label);
    if !has_revisions {
        return Ok(owners);
    }
    let written = format!("{label}@head");
    let target = Target::parse(&written)
        .map_err(PlanError::from)
        .map_err(MigrateError::from)?;
    let goal = plan::upgrade_goal(graph, &NodeSet::new(), &target, &written)
        .map_err(MigrateError::from)?;
    let steps = plan::plan_upgrade(graph, &NodeSet::new(), &goal).steps;
    for step in steps {
        migrator.step_one(conn, step.node, Direction::Up)?;
        let member = graph.revision(step.node).origin.member.to_string();
        for name in table_names(conn)? {
            owners.entry(name).or_insert_with(|| member.clone());
        }
    }
    Ok(owners)
}

/// The names of the user tables, cheaply (one query).
pub fn table_names(conn: &mut DatabaseConnection) -> Result<Vec<TableName>, DbError> {
    match conn.native() {
        #[cfg(feature = "sqlite")]
        Native::Sqlite(c) => super::catalog::sqlite_table_names(c),
        #[cfg(feature = "postgres")]
        Native::Postgres(c) => super::catalog::postgres_table_names(c),
        #[cfg(feature = "mysql")]
        Native::Mysql(c) => super::catalog::mysql_table_names(c),
    }
}
