//! A scratch database at the workspace's heads (every member's head, the compared member's
//! included): migrated revision by revision with the project's own migrator, recording after
//! each step which tables appeared, so that every table has an owner (the member whose
//! revision created it) and a creator (that revision). All heads rather than one member's:
//! a schema file may name tables of other members, which must exist to be compared (and
//! left alone), and a new foreign key to one of them needs the revision that created it.
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
use crate::plan;
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
    /// Each table's creator: the id of the revision that created it.
    pub creators: BTreeMap<TableName, String>,
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
    /// Reaching the scratch database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Creating the scratch database on the server failed.
    #[error(transparent)]
    Create(#[from] crate::backend::database::AdminError),
    /// A revision failed on it, or the target is invalid.
    #[error(transparent)]
    Migrate(#[from] MigrateError),
}

/// Creates a scratch database like `server` (in memory for SQLite) and migrates it to the
/// heads, recording table owners.
pub fn scratch_at_heads(
    graph: &RevisionGraph,
    server: &DatabaseUrl,
    table: &VersionTable,
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
    let (owners, creators) = migrate_recording_owners(&migrator, &mut conn)?;
    Ok(ScratchAtHead {
        conn,
        owners,
        creators,
        _scratch: scratch,
    })
}

/// Tables each mapped to who made them: (owners by member label, creators by revision id).
type Attribution = (BTreeMap<TableName, String>, BTreeMap<TableName, String>);

/// Applies every revision one at a time, noting the tables each creates.
pub fn migrate_recording_owners(
    migrator: &Migrator<'_>,
    conn: &mut DatabaseConnection,
) -> Result<Attribution, ScratchError> {
    let graph = migrator.graph();
    let mut owners = BTreeMap::new();
    let mut creators = BTreeMap::new();
    for name in table_names(conn)? {
        owners.insert(name.clone(), String::new());
        creators.insert(name, String::new());
    }
    if graph.is_empty() {
        return Ok((owners, creators));
    }
    let goal = plan::upgrade_goal(graph, &NodeSet::new(), &Target::Heads, "heads")
        .map_err(MigrateError::from)?;
    let steps = plan::plan_upgrade(graph, &NodeSet::new(), &goal).steps;
    for step in steps {
        migrator.step_one(conn, step.node, Direction::Up)?;
        let revision = graph.revision(step.node);
        for name in table_names(conn)? {
            if !owners.contains_key(&name) {
                owners.insert(name.clone(), revision.origin.member.to_string());
                creators.insert(name, revision.id.to_string());
            }
        }
    }
    Ok((owners, creators))
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
