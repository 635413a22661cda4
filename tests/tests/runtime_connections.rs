//! The runtime's `Migrator` on diesel's own connections, as an application uses it at
//! start-up: `SqliteConnection`, `PgConnection` and `MysqlConnection` (which lock per step,
//! having no URL for a lock connection of their own).

use diesel::Connection;
use revise_runtime::embedded::{parse_files, EmbeddedFile};
use revise_runtime::{Migrator, SilentReport, VersionStore};
use revise_tests::{Backend, TestDb};

const FILES: [EmbeddedFile; 2] = [
    EmbeddedFile {
        member: "app",
        path: "app/migrations/0001_notes.sql",
        text: "-- notes\n-- Revision ID: 0001\n-- revise:up\nCREATE TABLE notes (id INTEGER PRIMARY KEY);\n-- revise:down\nDROP TABLE notes;\n",
    },
    EmbeddedFile {
        member: "app",
        path: "app/migrations/0002_tags.sql",
        text: "-- tags\n-- Revision ID: 0002\n-- Revises: 0001\n-- revise:up\nCREATE TABLE tags (id INTEGER PRIMARY KEY);\n-- revise:down\nDROP TABLE tags;\n",
    },
];

/// Migrates up, checks what the database holds, runs again (nothing to do), goes back down.
fn migrate_on(conn: &mut dyn VersionStore, db: &TestDb) {
    let graph = parse_files(&FILES).expect("valid revisions");
    let migrator = Migrator::new(&graph);
    assert_eq!(migrator.pending(conn).expect("pending").len(), 2);
    let outcome = migrator
        .run_with(conn, &mut SilentReport)
        .expect("migrates");
    assert_eq!(outcome.steps.len(), 2);
    assert_eq!(db.version_rows(), ["0002"]);
    let mut tables = db.tables();
    tables.retain(|t| t != "alembic_version");
    assert_eq!(tables, ["notes", "tags"]);
    assert!(migrator.pending(conn).expect("pending").is_empty());
    let again = migrator.run_with(conn, &mut SilentReport).expect("runs");
    assert!(again.steps.is_empty(), "nothing runs twice");
    migrator
        .downgrade_with(conn, "base", &mut SilentReport)
        .expect("reverts");
    assert_eq!(db.version_rows(), Vec::<String>::new());
}

#[test]
fn migrates_on_a_diesel_sqlite_connection() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db = TestDb::new(Backend::Sqlite, dir.path());
    let path = dir.path().join("test.db");
    let mut conn =
        diesel::SqliteConnection::establish(path.to_str().expect("UTF-8")).expect("opens");
    migrate_on(&mut conn, &db);
}

#[test]
fn migrates_on_a_diesel_postgres_connection() {
    let db = TestDb::postgres();
    let mut conn = diesel::PgConnection::establish(&db.url()).expect("connects");
    migrate_on(&mut conn, &db);
}

#[test]
fn migrates_on_a_diesel_mysql_connection() {
    if Backend::Mysql.skip("migrates_on_a_diesel_mysql_connection") {
        return;
    }
    #[cfg(feature = "mysql")]
    {
        let db = TestDb::mysql();
        let mut conn = diesel::MysqlConnection::establish(&db.url()).expect("connects");
        migrate_on(&mut conn, &db);
    }
}
