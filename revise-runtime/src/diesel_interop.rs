//! diesel interop: each revision as a `diesel::migration::Migration`, so tools built on
//! diesel's migration traits can run them.
//!
//! diesel's `MigrationHarness` records every applied version and orders pending migrations by
//! version string; `alembic_version` holds only the maximal revisions and the order comes from
//! the graph. Use [`Migrator`](crate::Migrator) to migrate; use these adapters to hand single
//! revisions to diesel-based tooling.

use std::fmt;

use diesel::backend::Backend;
use diesel::connection::BoxableConnection;
use diesel::migration::{
    Migration, MigrationMetadata, MigrationName, MigrationSource, MigrationVersion,
};

use crate::embedded::EmbeddedRevisions;
use crate::revision::Revision;

/// A revision seen through diesel's migration traits.
#[derive(Clone, Copy, Debug)]
pub struct DieselMigration<'a> {
    revision: &'a Revision,
}

impl<'a> DieselMigration<'a> {
    /// Wraps `revision`.
    pub fn new(revision: &'a Revision) -> Self {
        Self { revision }
    }
}

impl fmt::Display for DieselMigration<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.revision.id.as_str())
    }
}

impl MigrationName for DieselMigration<'_> {
    /// The revision id serves as diesel's version.
    fn version(&self) -> MigrationVersion<'_> {
        MigrationVersion::from(self.revision.id.as_str())
    }
}

impl MigrationMetadata for DieselMigration<'_> {
    fn run_in_transaction(&self) -> bool {
        self.revision.up.transactional
    }
}

impl<DB: Backend> Migration<DB> for DieselMigration<'_> {
    fn run(&self, conn: &mut dyn BoxableConnection<DB>) -> diesel::migration::Result<()> {
        Ok(conn.batch_execute(&self.revision.up.sql)?)
    }

    fn revert(&self, conn: &mut dyn BoxableConnection<DB>) -> diesel::migration::Result<()> {
        match &self.revision.down {
            Some(down) => Ok(conn.batch_execute(&down.sql)?),
            None => Err(format!(
                "revision {} ({}) has no `-- revise:down` section",
                self.revision.id,
                self.revision.origin.path.display()
            )
            .into()),
        }
    }

    fn metadata(&self) -> &dyn MigrationMetadata {
        self
    }

    fn name(&self) -> &dyn MigrationName {
        self
    }
}

/// Embedded revisions as a diesel `MigrationSource`, in graph order (parents first).
impl<DB: Backend> MigrationSource<DB> for &'static EmbeddedRevisions {
    fn migrations(&self) -> diesel::migration::Result<Vec<Box<dyn Migration<DB>>>> {
        let graph = self.graph().map_err(|e| e.to_string())?;
        Ok(graph
            .order()
            .iter()
            .map(|&n| Box::new(DieselMigration::new(graph.revision(n))) as Box<dyn Migration<DB>>)
            .collect())
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::migration::{Migration, MigrationSource};
    use diesel::prelude::*;
    use diesel::sqlite::Sqlite;

    use super::DieselMigration;
    use crate::embedded::{EmbeddedFile, EmbeddedRevisions};

    static REVISIONS: EmbeddedRevisions = EmbeddedRevisions::new(&[
        EmbeddedFile {
            member: "app",
            path: "app/migrations/0001.sql",
            text: "-- notes\n-- Revision ID: 0001\n-- revise:up\nCREATE TABLE notes (id INTEGER);\n-- revise:down\nDROP TABLE notes;\n",
            checksum: None,
        },
        EmbeddedFile {
            member: "app",
            path: "app/migrations/0002.sql",
            text: "-- tags\n-- Revision ID: 0002\n-- Revises: 0001\n-- revise:up\nCREATE TABLE tags (id INTEGER);\n",
            checksum: None,
        },
    ]);

    fn tables(conn: &mut SqliteConnection) -> Vec<String> {
        #[derive(QueryableByName)]
        struct Name {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
        }
        diesel::sql_query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .load::<Name>(conn)
            .expect("query")
            .into_iter()
            .map(|n| n.name)
            .collect()
    }

    #[test]
    fn revisions_run_and_revert_through_diesels_traits() {
        let mut conn = SqliteConnection::establish(":memory:").expect("in-memory SQLite");
        let migrations = MigrationSource::<Sqlite>::migrations(&&REVISIONS).expect("embedded");
        let names: Vec<String> = migrations.iter().map(|m| m.name().to_string()).collect();
        assert_eq!(names, ["0001", "0002"], "graph order");
        for migration in &migrations {
            migration.run(&mut conn).expect("runs");
        }
        assert_eq!(tables(&mut conn), ["notes", "tags"]);
        let graph = REVISIONS.graph().expect("valid");
        let first = DieselMigration::new(graph.revision(0));
        Migration::<Sqlite>::revert(&first, &mut conn).expect("reverts");
        assert_eq!(tables(&mut conn), ["tags"]);
        let second = DieselMigration::new(graph.revision(1));
        let error = Migration::<Sqlite>::revert(&second, &mut conn).expect_err("irreversible");
        assert!(error
            .to_string()
            .contains("has no `-- revise:down` section"));
        conn.batch_execute("SELECT 1")
            .expect("the connection still works");
    }
}
