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
