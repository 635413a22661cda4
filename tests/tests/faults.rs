//! Faults on real servers (SPEC section 6): a revision failing at any position of a chain, a
//! run killed in the middle of a revision, a section that must run outside a transaction,
//! and servers that cannot be reached.
//!
//! PostgreSQL and SQLite roll a failed revision back whole; MariaDB commits DDL implicitly,
//! so there the report must say what may have been left behind, and a user (here: the test)
//! cleans it up before running again.

use std::net::TcpListener;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use revise_tests::{
    assert_kept_warning, tables_after, warnings, Backend, Captured, Rev, Workspace,
};

/// The ids of the chain: `f1` ... `f10`.
fn chain_ids() -> Vec<String> {
    (1..=10).map(|n| format!("f{n}")).collect()
}

/// Revision `f<n>` of the chain: a table of its own, and when `broken`, bad SQL after its
/// `CREATE TABLE`.
fn chain_rev(n: usize, broken: bool) -> Rev {
    let id = format!("f{n}");
    let mut rev = Rev::table(&id);
    if n > 1 {
        rev = rev.revises(&format!("f{}", n - 1));
    }
    if broken {
        rev = rev.up(&format!(
            "CREATE TABLE {id} (id INTEGER PRIMARY KEY);\nINSERT INTO no_such_table VALUES (1);"
        ));
    }
    rev
}

/// The tables other than the version table, sorted.
fn user_tables(ws: &Workspace) -> Vec<String> {
    let mut tables = ws.db().tables();
    tables.retain(|t| t != "alembic_version");
    tables
}

fn a_failure_at_every_position_stops_there_and_a_fixed_file_completes(backend: Backend) {
    if backend.skip("a_failure_at_every_position_stops_there_and_a_fixed_file_completes") {
        return;
    }
    let ids = chain_ids();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    for broken in 1..=10 {
        let ws = Workspace::with_backend(&["chain"], backend);
        let mut broken_path = String::new();
        for n in 1..=10 {
            let path = ws.revision("chain", &chain_rev(n, n == broken));
            if n == broken {
                broken_path = path;
            }
        }
        let before = &ids[..broken - 1];
        let failed = ids[broken - 1];
        let context = format!("{backend}, {failed} broken");

        let out = ws.run(["up"]).code(1);

        let stdout = out.stdout_text();
        let stderr = out.stderr_text();
        // Pointed at the failing statement, the second of the section.
        let line = ws
            .read(&broken_path)
            .lines()
            .position(|l| l.starts_with("INSERT INTO no_such_table"))
            .expect("the statement is in the file")
            + 1;
        assert!(
            stderr.starts_with(&format!(
                "error: revision {failed} failed while upgrading (statement 2 of 2)"
            )),
            "{context}: {stderr}"
        );
        assert!(
            stderr.contains(&format!("--> {broken_path}:{line}\n")),
            "{context}: {stderr}"
        );
        assert!(stderr.contains("no_such_table"), "{context}: {stderr}");
        let remains = match before.last() {
            Some(last) => (*last).to_owned(),
            None => "base (no migrations applied)".to_owned(),
        };
        assert!(
            stdout.contains(&format!("Database remains at version: {remains}\n")),
            "{context}: {stdout}"
        );
        let rows: Vec<&str> = before.last().into_iter().copied().collect();
        assert_eq!(ws.db().version_rows(), rows, "{context}");
        if backend.transactional_ddl() {
            assert!(
                stdout.contains(&format!(
                    "Migration {failed} failed ({broken_path}:{line}); it was rolled back\n"
                )),
                "{context}: {stdout}"
            );
            assert_eq!(warnings(&stdout), Vec::<&str>::new(), "{context}");
            // After a failed first revision the version table may be gone too (SPEC 6).
            assert_eq!(
                user_tables(&ws),
                before,
                "{context}: nothing of the failed revision is kept"
            );
        } else {
            assert_kept_warning(
                &stdout,
                &format!("CREATE TABLE {failed} (id INTEGER PRIMARY KEY)"),
            );
            let mut kept = before.to_vec();
            kept.push(failed);
            kept.sort_unstable();
            assert_eq!(
                user_tables(&ws),
                kept,
                "{context}: MariaDB keeps the CREATE TABLE, as the warning says"
            );
            // What the warning asks of the user before running again.
            ws.db().execute(&format!("DROP TABLE {failed}"));
        }

        ws.raw(
            "chain",
            broken_path.rsplit('/').next().expect("a file name"),
            chain_rev(broken, false).text(),
        );
        let out = ws.run(["up"]).success();

        assert!(
            out.stdout_text().contains(&format!(
                "Running {} pending migration(s)...\n   - {failed} - ",
                11 - broken
            )),
            "{context}: {}",
            out.stdout_text()
        );
        assert_eq!(ws.db().version_rows(), ["f10"], "{context}");
        assert_eq!(ws.db().tables(), tables_after(&ids), "{context}");
    }
}

#[test]
fn a_failure_at_every_position_stops_there_and_a_fixed_file_completes_on_sqlite() {
    a_failure_at_every_position_stops_there_and_a_fixed_file_completes(Backend::Sqlite);
}

#[test]
fn a_failure_at_every_position_stops_there_and_a_fixed_file_completes_on_postgres() {
    a_failure_at_every_position_stops_there_and_a_fixed_file_completes(Backend::Postgres);
}

#[test]
fn a_failure_at_every_position_stops_there_and_a_fixed_file_completes_on_mysql() {
    a_failure_at_every_position_stops_there_and_a_fixed_file_completes(Backend::Mysql);
}

/// How long the slow revision of the kill test runs when nobody kills it.
const SLOW_SECONDS: u32 = 3;

fn a_killed_run_leaves_a_database_the_next_run_completes(backend: Backend) {
    if backend.skip("a_killed_run_leaves_a_database_the_next_run_completes") {
        return;
    }
    let ws = Workspace::with_backend(&["app"], backend);
    ws.revision(
        "app",
        &Rev::new(
            "k1",
            "CREATE TABLE runs (rev VARCHAR(32) NOT NULL);\n\
             INSERT INTO runs (rev) VALUES ('k1');\n\
             CREATE TABLE k1 (id INTEGER PRIMARY KEY);",
        ),
    );
    let recording = |id: &str| {
        format!(
            "INSERT INTO runs (rev) VALUES ('{id}');\nCREATE TABLE {id} (id INTEGER PRIMARY KEY);"
        )
    };
    ws.revision("app", &Rev::new("k2", &recording("k2")).revises("k1"));
    let slow = backend.slow_sql(SLOW_SECONDS);
    // The kill lands in the slow statement. PostgreSQL and SQLite roll back the whole
    // revision, so it creates its table first to show that; on MariaDB a CREATE TABLE
    // before it would commit and stay, so there the table comes after (the row in `runs` is
    // data, which MariaDB does roll back).
    let k3 = if backend.transactional_ddl() {
        format!("{}\n{slow}", recording("k3"))
    } else {
        format!(
            "INSERT INTO runs (rev) VALUES ('k3');\n{slow}\nCREATE TABLE k3 (id INTEGER PRIMARY KEY);"
        )
    };
    ws.revision("app", &Rev::new("k3", &k3).revises("k2"));
    ws.revision("app", &Rev::new("k4", &recording("k4")).revises("k3"));
    let marker = match backend {
        Backend::Postgres => "pg_sleep",
        Backend::Mysql => "SLEEP(",
        Backend::Sqlite => "RECURSIVE",
    };

    let mut child = ws.spawn(["up"]);
    ws.wait_until_inside(&mut child, &["k2"], marker);
    if backend == Backend::Sqlite {
        // A write transaction is open: its rollback journal is there.
        assert!(
            ws.root().join("test.db-journal").exists(),
            "the run is not inside a transaction"
        );
    }
    // SIGKILL: no destructor, no rollback, no lock release by the process itself.
    child.kill().expect("the run can be killed");
    let status = child.wait().expect("the killed run is reaped");
    assert_eq!(status.signal(), Some(9), "it died of the kill: {status}");
    assert_eq!(
        ws.db().version_rows(),
        ["k2"],
        "{backend}: k3 never committed"
    );

    let out = ws.run(["up"]).success();

    assert!(
        out.stdout_text()
            .contains("Current database version: k2\nRunning 2 pending migration(s)...\n"),
        "{backend}: {}",
        out.stdout_text()
    );
    assert_eq!(ws.db().version_rows(), ["k4"], "{backend}");
    let mut runs = ws.db().strings("SELECT rev AS name FROM runs");
    runs.sort();
    assert_eq!(runs, ["k1", "k2", "k3", "k4"], "{backend}: each ran once");
    let mut tables = tables_after(&["k1", "k2", "k3", "k4"]);
    tables.push("runs".to_owned());
    tables.sort();
    assert_eq!(ws.db().tables(), tables, "{backend}");
}

#[test]
fn a_killed_run_leaves_a_database_the_next_run_completes_on_sqlite() {
    a_killed_run_leaves_a_database_the_next_run_completes(Backend::Sqlite);
}

#[test]
fn a_killed_run_leaves_a_database_the_next_run_completes_on_postgres() {
    a_killed_run_leaves_a_database_the_next_run_completes(Backend::Postgres);
}

#[test]
fn a_killed_run_leaves_a_database_the_next_run_completes_on_mysql() {
    a_killed_run_leaves_a_database_the_next_run_completes(Backend::Mysql);
}

/// SPEC section 3: `transaction=false` runs each statement on its own, outside a
/// transaction, which PostgreSQL's `CREATE INDEX CONCURRENTLY` requires; without it the
/// same revision fails and leaves nothing.
#[test]
fn create_index_concurrently_runs_outside_a_transaction_on_postgres() {
    let ws = Workspace::with_backend(&["app"], Backend::Postgres);
    ws.revision(
        "app",
        &Rev::new(
            "i1",
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, kind TEXT);\n\
             INSERT INTO items VALUES (1, 'a', 'x'), (2, 'b', 'y');",
        )
        .down("DROP TABLE items;"),
    );
    let sql = "CREATE INDEX CONCURRENTLY items_name ON items (name);\n\
               CREATE INDEX CONCURRENTLY items_kind ON items (kind);";
    let index = Rev::new("i2", sql)
        .revises("i1")
        .down("DROP INDEX items_kind;\nDROP INDEX items_name;");
    let path = ws.revision("app", &index);
    let valid_indexes = || {
        let mut names = ws.db().strings(
            "SELECT c.relname::text AS name FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE i.indisvalid AND c.relname LIKE 'items_%' AND c.relname <> 'items_pkey'",
        );
        names.sort();
        names
    };

    // In a transaction, PostgreSQL refuses.
    let out = ws.run(["up"]).code(1);
    assert!(
        out.stderr_text()
            .contains("CREATE INDEX CONCURRENTLY cannot run inside a transaction block"),
        "{}",
        out.stderr_text()
    );
    assert_eq!(ws.db().version_rows(), ["i1"]);
    assert_eq!(valid_indexes(), Vec::<String>::new());

    ws.raw(
        "app",
        path.rsplit('/').next().expect("a file name"),
        index.up_without_transaction().text(),
    );
    let out = ws.run(["up"]).success();

    assert!(
        out.stdout_text().contains("New database version: i2\n"),
        "{}",
        out.stdout_text()
    );
    assert_eq!(ws.db().version_rows(), ["i2"]);
    assert_eq!(valid_indexes(), ["items_kind", "items_name"]);

    ws.run(["down"]).success();

    assert_eq!(ws.db().version_rows(), ["i1"]);
    assert_eq!(valid_indexes(), Vec::<String>::new());
}

/// A TCP port on 127.0.0.1 that nothing listens on (it was free a moment ago).
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("a bound address").port()
}

/// Runs `up` against `url` and checks the contract for a database that cannot be used:
/// exit status 1 within a few seconds, one `error:` line that names `reason` and shows the
/// URL with its password masked.
fn assert_connection_error(url: &str, reason: &str) {
    // Only the files matter: the run is pointed at `url`.
    let ws = Workspace::with_backend(&["app"], Backend::Sqlite);
    ws.revision("app", &Rev::table("a1"));

    let started = Instant::now();
    let out = ws
        .command()
        .args(["--database-url", url, "up"])
        .assert()
        .code(1);
    let took = started.elapsed();

    let stderr = out.stderr_text();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line for {url}: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(
        lines[0].contains(reason),
        "the database's reason `{reason}`: {stderr}"
    );
    let all = format!("{}{stderr}", out.stdout_text());
    assert!(!all.contains("s3cret"), "the password was printed: {all}");
    if url.contains("s3cret") {
        assert!(lines[0].contains(":***@"), "the masked URL: {stderr}");
    }
    assert!(
        took < Duration::from_secs(5),
        "{url} took {took:?} to fail: {stderr}"
    );
}

#[test]
fn unusable_postgres_databases_fail_fast_with_one_line() {
    let ws = Workspace::with_backend(&["app"], Backend::Postgres);
    let db = ws.db();

    let port = closed_port();
    assert_connection_error(
        &format!("postgres://postgres:s3cret@127.0.0.1:{port}/revise_x"),
        "Connection refused",
    );
    // The server trusts local connections (pg_hba `trust`), so it accepts any password for
    // a role that exists; a role that does not exist is the credential it refuses.
    let url = db.server_url("revise_no_such_role:s3cret", "postgres");
    assert_connection_error(&url, "role \"revise_no_such_role\" does not exist");
    let user = db.server_user();
    let url = db.server_url(&format!("{user}:s3cret"), "revise_no_such_database");
    assert_connection_error(&url, "database \"revise_no_such_database\" does not exist");
}

/// `postgres:///name` names no host: libpq then uses a Unix socket, in the folder compiled
/// into it (`/tmp` for the CLI's built-in libpq). The server's socket on Debian is in
/// `/var/run/postgresql`, where the runtime looks first.
#[test]
fn a_postgres_url_without_host_reaches_the_local_socket() {
    assert!(
        std::path::Path::new("/var/run/postgresql/.s.PGSQL.5432").exists(),
        "the PostgreSQL server's socket /var/run/postgresql/.s.PGSQL.5432 is missing; start the server (see README, Tests)"
    );
    let ws = Workspace::with_backend(&["app"], Backend::Postgres);
    ws.revision("app", &Rev::table("a1"));
    let db = ws.db();
    let name = db.name().expect("a server database");
    let user = db.server_user();
    ws.command()
        .args([
            "--database-url",
            &format!("postgres://{user}@/{name}"),
            "up",
        ])
        .assert()
        .success();
    assert_eq!(db.version_rows(), ["a1"]);
}

#[test]
fn unusable_mysql_databases_fail_fast_with_one_line() {
    if Backend::Mysql.skip("unusable_mysql_databases_fail_fast_with_one_line") {
        return;
    }
    let ws = Workspace::with_backend(&["app"], Backend::Mysql);
    let db = ws.db();
    let name = db.name().expect("a server database");

    let port = closed_port();
    assert_connection_error(
        &format!("mysql://root:s3cret@127.0.0.1:{port}/revise_x"),
        "Can't connect",
    );
    let user = db.server_user();
    let url = db.server_url(&format!("{user}:s3cret"), name);
    assert_connection_error(&url, &format!("Access denied for user '{user}'"));
    let url = db.server_url(&db.server_credentials(), "revise_no_such_database");
    assert_connection_error(&url, "Unknown database 'revise_no_such_database'");
    // Nothing reached the real database.
    assert!(db.pristine());
}
