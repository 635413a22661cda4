//! The runtime's `Migrator` on diesel's own connections, as an application uses it at
//! start-up: `SqliteConnection`, `PgConnection` and `MysqlConnection` (which lock per step,
//! having no URL for a lock connection of their own). On SQLite the run waits for the
//! application's own transactions up to the lock timeout and leaves the connection's busy
//! timeout as the application set it.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl};
use revise_runtime::checksum::Checksum;
use revise_runtime::embedded::{parse_files, EmbeddedFile};
use revise_runtime::{MigrateError, Migrator, Reporter, RunEvent, SilentReport, VersionStore};
use revise_tests::{Backend, TestDb};

const FILES: [EmbeddedFile; 2] = [
    EmbeddedFile {
        member: "app",
        path: "app/migrations/0001_notes.sql",
        text: "-- notes\n-- Revision ID: 0001\n-- revise:up\nCREATE TABLE notes (id INTEGER PRIMARY KEY);\n-- revise:down\nDROP TABLE notes;\n",
        checksum: None,
    },
    EmbeddedFile {
        member: "app",
        path: "app/migrations/0002_tags.sql",
        text: "-- tags\n-- Revision ID: 0002\n-- Revises: 0001\n-- revise:up\nCREATE TABLE tags (id INTEGER PRIMARY KEY);\n-- revise:down\nDROP TABLE tags;\n",
        checksum: None,
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
    // The embedded migrator writes the run log too, with each file's checksum.
    let log = migrator
        .log_records(conn, None)
        .expect("the log reads")
        .expect("the log exists");
    let logged: Vec<(&str, &str)> = log
        .iter()
        .map(|r| (r.revision.as_str(), r.direction.as_str()))
        .collect();
    assert_eq!(logged, [("0002", "up"), ("0001", "up")]);
    for (record, file) in log.iter().zip(FILES.iter().rev()) {
        assert_eq!(
            record.checksum,
            Some(Checksum::of_file(file.text.as_bytes()))
        );
        assert!(
            record.tool.starts_with("revise-runtime "),
            "{}",
            record.tool
        );
    }
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

/// Records a run's events and, once the run says it waits, commits the transaction that
/// another connection of the application holds.
struct ReleaseWhenWaiting {
    events: Vec<RunEvent>,
    holder: Option<diesel::SqliteConnection>,
}

impl Reporter for ReleaseWhenWaiting {
    fn report(&mut self, event: &RunEvent) {
        self.events.push(event.clone());
        if *event == RunEvent::WaitingForLock {
            if let Some(mut holder) = self.holder.take() {
                holder.batch_execute("COMMIT").expect("the holder commits");
            }
        }
    }
}

#[derive(diesel::QueryableByName)]
struct BusyTimeout {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    timeout: i64,
}

fn busy_timeout(conn: &mut diesel::SqliteConnection) -> i64 {
    diesel::sql_query("PRAGMA busy_timeout")
        .get_result::<BusyTimeout>(conn)
        .expect("the busy timeout")
        .timeout
}

/// The application's connection, with a busy timeout of its own, and another connection of
/// the application holding `BEGIN EXCLUSIVE` on the same file.
fn sqlite_app_and_holder(
    dir: &std::path::Path,
) -> (diesel::SqliteConnection, diesel::SqliteConnection) {
    let path = dir.join("test.db");
    let path = path.to_str().expect("UTF-8");
    let mut app = diesel::SqliteConnection::establish(path).expect("opens");
    app.batch_execute("PRAGMA busy_timeout = 250")
        .expect("the application's own setting");
    let mut holder = diesel::SqliteConnection::establish(path).expect("opens");
    holder
        .batch_execute("BEGIN EXCLUSIVE")
        .expect("the holder's transaction");
    (app, holder)
}

#[test]
fn a_diesel_sqlite_connection_waits_for_the_applications_own_transaction() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db = TestDb::new(Backend::Sqlite, dir.path());
    let (mut app, holder) = sqlite_app_and_holder(dir.path());
    let graph = parse_files(&FILES).expect("valid revisions");
    let migrator = Migrator::new(&graph);
    let mut report = ReleaseWhenWaiting {
        events: Vec::new(),
        holder: Some(holder),
    };

    let outcome = migrator.run_with(&mut app, &mut report).expect("migrates");

    assert_eq!(outcome.steps.len(), 2);
    assert!(
        report.events.contains(&RunEvent::WaitingForLock),
        "{:?}",
        report.events
    );
    assert!(report.holder.is_none(), "the run waited for the holder");
    assert_eq!(db.version_rows(), ["0002"]);
    assert_eq!(
        busy_timeout(&mut app),
        250,
        "the application's busy timeout is back"
    );
    assert!(migrator.pending(&mut app).expect("pending").is_empty());
    assert_eq!(busy_timeout(&mut app), 250);
}

#[test]
fn a_diesel_sqlite_connection_gives_up_after_the_lock_timeout_and_restores_its_setting() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db = TestDb::new(Backend::Sqlite, dir.path());
    let (mut app, mut holder) = sqlite_app_and_holder(dir.path());
    let graph = parse_files(&FILES).expect("valid revisions");
    let migrator = Migrator::new(&graph).with_lock_timeout(Duration::from_millis(300));
    // Nothing to release: the holder never lets go.
    let mut report = ReleaseWhenWaiting {
        events: Vec::new(),
        holder: None,
    };

    let error = migrator
        .run_with(&mut app, &mut report)
        .expect_err("the holder never lets go");
    let events = report.events;

    assert!(
        matches!(error, MigrateError::LockTimeout(t) if t == Duration::from_millis(300)),
        "{error:?}"
    );
    assert!(
        error.to_string().starts_with(
            "gave up waiting for another migration run after 300ms (the lock timeout)"
        ),
        "{error}"
    );
    assert!(events.contains(&RunEvent::WaitingForLock), "{events:?}");
    assert_eq!(
        busy_timeout(&mut app),
        250,
        "the application's busy timeout is back"
    );
    holder.batch_execute("COMMIT").expect("the holder commits");
    assert_eq!(db.tables(), Vec::<String>::new(), "nothing was applied");
}
