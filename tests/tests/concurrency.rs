//! Several `cargo revise up` at once on one database (SPEC section 6): a run holds a lock,
//! re-reads the version table once it holds it, says when it is waiting and gives up after
//! `--lock-timeout`, so no revision ever runs twice. On every backend: PostgreSQL's advisory
//! lock, MariaDB's `GET_LOCK` and SQLite's `BEGIN IMMEDIATE` are different mechanisms.
//!
//! Every revision records its own execution in a `runs` table, so a revision that ran twice
//! shows up as two rows (and as a failed `CREATE TABLE` in the run that repeated it).

use std::process::Output;
use std::time::{Duration, Instant};

use revise_tests::{tables_after, Backend, Captured, Rev, Workspace};

/// Processes started together in each round.
const PROCESSES: usize = 8;
/// Rounds per backend, each from an empty database (`down base`).
const ROUNDS: usize = 20;
/// The revisions of the chain.
const IDS: [&str; 5] = ["c1", "c2", "c3", "c4", "c5"];
/// How long the slow revision of the waiting tests holds the lock.
const SLOW_SECONDS: u32 = 3;

/// `id`'s up: record the run in `runs` (created by the first revision) and create a table
/// of its own; down undoes both.
fn recording(id: &str, parent: Option<&str>) -> Rev {
    recording_then(id, parent, "")
}

/// [`recording`] with `more` SQL at the end of the up section.
fn recording_then(id: &str, parent: Option<&str>, more: &str) -> Rev {
    let create_runs = if parent.is_none() {
        "CREATE TABLE runs (rev VARCHAR(32) NOT NULL);\n"
    } else {
        ""
    };
    let drop_runs = if parent.is_none() {
        "DROP TABLE runs;"
    } else {
        ""
    };
    let rev = Rev::new(
        id,
        &format!(
            "{create_runs}INSERT INTO runs (rev) VALUES ('{id}');\n\
             CREATE TABLE {id} (id INTEGER PRIMARY KEY);\n{more}"
        ),
    )
    .message(&format!("Run {id}"))
    .down(&format!(
        "DROP TABLE {id};\nDELETE FROM runs WHERE rev = '{id}';\n{drop_runs}"
    ));
    match parent {
        Some(parent) => rev.revises(parent),
        None => rev,
    }
}

fn chain(ws: &Workspace, ids: &[&str]) {
    let mut parent = None;
    for id in ids {
        ws.revision("app", &recording(id, parent));
        parent = Some(*id);
    }
}

/// The recorded runs, sorted.
fn runs(ws: &Workspace) -> Vec<String> {
    let mut runs = ws.db().strings("SELECT rev AS name FROM runs");
    runs.sort();
    runs
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn describe(output: &Output) -> String {
    format!(
        "{}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    )
}

const WAITING: &str = "Waiting for another migration run to finish...";

/// Runs [`ROUNDS`] rounds of [`PROCESSES`] simultaneous `up`s: every run must succeed and
/// every revision run exactly once.
fn simultaneous_runs(backend: Backend) {
    let ws = Workspace::with_backend(&["app"], backend);
    chain(&ws, &IDS);
    let started = Instant::now();
    let mut waits = 0;

    for round in 1..=ROUNDS {
        let children: Vec<_> = (0..PROCESSES).map(|_| ws.spawn(["up"])).collect();
        let outputs: Vec<Output> = children
            .into_iter()
            .map(|child| child.wait_with_output().expect("the run can be awaited"))
            .collect();

        for output in &outputs {
            assert!(
                output.status.success(),
                "{backend}, round {round}: a run failed: {}",
                describe(output)
            );
            waits += usize::from(text(&output.stdout).contains(WAITING));
        }
        assert_eq!(
            runs(&ws),
            IDS,
            "{backend}, round {round}: each revision ran exactly once"
        );
        assert_eq!(ws.db().version_rows(), ["c5"], "{backend}, round {round}");
        let mut expected = tables_after(&IDS);
        expected.push("runs".to_owned());
        expected.sort();
        assert_eq!(ws.db().tables(), expected, "{backend}, round {round}");

        ws.run(["down", "base"]).success();
        assert_eq!(ws.db().version_rows(), Vec::<String>::new());
        assert_eq!(
            ws.db().tables(),
            ["alembic_version"],
            "{backend}, round {round}: down base left tables"
        );
    }

    // Otherwise the runs never overlapped and the rounds proved nothing about locking.
    assert!(
        waits > 0,
        "{backend}: in {ROUNDS} rounds of {PROCESSES} runs, none ever waited for another"
    );
    eprintln!(
        "{backend}: {ROUNDS} rounds of {PROCESSES} runs in {:.1?}, {waits} run(s) waited",
        started.elapsed()
    );
}

#[test]
fn eight_simultaneous_runs_apply_each_revision_exactly_once_on_sqlite() {
    simultaneous_runs(Backend::Sqlite);
}

#[test]
fn eight_simultaneous_runs_apply_each_revision_exactly_once_on_postgres() {
    simultaneous_runs(Backend::Postgres);
}

#[test]
fn eight_simultaneous_runs_apply_each_revision_exactly_once_on_mysql() {
    if !Backend::Mysql.skip("eight_simultaneous_runs_on_mysql") {
        simultaneous_runs(Backend::Mysql);
    }
}

/// A workspace whose second revision `slow` keeps the database busy for [`SLOW_SECONDS`]
/// while holding the lock; returns it and the marker of the slow statement.
fn with_slow_second_revision(backend: Backend) -> (Workspace, &'static str) {
    let ws = Workspace::with_backend(&["app"], backend);
    ws.revision("app", &recording("c1", None));
    ws.revision(
        "app",
        &recording_then("slow", Some("c1"), &backend.slow_sql(SLOW_SECONDS)),
    );
    let marker = match backend {
        Backend::Postgres => "pg_sleep",
        Backend::Mysql => "SLEEP(",
        Backend::Sqlite => "RECURSIVE",
    };
    (ws, marker)
}

fn a_second_run_waits_for_the_first(backend: Backend) {
    if backend.skip("a_second_run_waits_for_the_first") {
        return;
    }
    let (ws, marker) = with_slow_second_revision(backend);
    let mut holder = ws.spawn(["up"]);
    ws.wait_until_inside(&mut holder, &["c1"], marker);

    let started = Instant::now();
    let second = ws.run(["up"]).success();
    let waited = started.elapsed();

    let stdout = second.stdout_text();
    assert!(stdout.contains(WAITING), "{backend}: {stdout}");
    assert!(
        waited >= Duration::from_millis(500),
        "{backend}: the second run took only {waited:?}, so it cannot have waited: {stdout}"
    );
    let holder = holder.wait_with_output().expect("the first run ends");
    assert!(holder.status.success(), "{backend}: {}", describe(&holder));
    assert!(
        !text(&holder.stdout).contains(WAITING),
        "{backend}: the first run had nobody to wait for: {}",
        describe(&holder)
    );
    assert_eq!(ws.db().version_rows(), ["slow"]);
    assert_eq!(runs(&ws), ["c1", "slow"], "{backend}: nothing ran twice");
}

#[test]
fn a_second_run_waits_for_the_first_on_sqlite() {
    a_second_run_waits_for_the_first(Backend::Sqlite);
}

#[test]
fn a_second_run_waits_for_the_first_on_postgres() {
    a_second_run_waits_for_the_first(Backend::Postgres);
}

#[test]
fn a_second_run_waits_for_the_first_on_mysql() {
    a_second_run_waits_for_the_first(Backend::Mysql);
}

fn lock_timeout_gives_up_waiting(backend: Backend) {
    if backend.skip("lock_timeout_gives_up_waiting") {
        return;
    }
    let (ws, marker) = with_slow_second_revision(backend);
    let mut holder = ws.spawn(["up"]);
    ws.wait_until_inside(&mut holder, &["c1"], marker);

    let started = Instant::now();
    let second = ws.run(["up", "--lock-timeout", "1"]).code(1);
    let waited = started.elapsed();

    let stderr = second.stderr_text();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{backend}: one error line: {stderr}");
    assert!(
        lines[0].starts_with("error: gave up waiting for another migration run after 1s"),
        "{backend}: {stderr}"
    );
    assert!(lines[0].contains("--lock-timeout"), "{backend}: {stderr}");
    assert!(
        second.stdout_text().contains(WAITING),
        "{backend}: {}",
        second.stdout_text()
    );
    assert!(
        waited >= Duration::from_secs(1),
        "{backend}: gave up after {waited:?}, before its timeout"
    );
    assert!(
        waited < Duration::from_secs(u64::from(SLOW_SECONDS)),
        "{backend}: took {waited:?}; the timeout did not cut the wait short"
    );
    // The holder is unaffected, and the one that gave up changed nothing.
    let holder = holder.wait_with_output().expect("the first run ends");
    assert!(holder.status.success(), "{backend}: {}", describe(&holder));
    assert_eq!(ws.db().version_rows(), ["slow"]);
    assert_eq!(runs(&ws), ["c1", "slow"]);
}

#[test]
fn lock_timeout_gives_up_waiting_on_sqlite() {
    lock_timeout_gives_up_waiting(Backend::Sqlite);
}

#[test]
fn lock_timeout_gives_up_waiting_on_postgres() {
    lock_timeout_gives_up_waiting(Backend::Postgres);
}

#[test]
fn lock_timeout_gives_up_waiting_on_mysql() {
    lock_timeout_gives_up_waiting(Backend::Mysql);
}

/// The lock is released on every path out, errors included: after a run whose revision
/// failed, the next run neither waits nor times out.
fn a_failed_run_releases_the_lock(backend: Backend) {
    if backend.skip("a_failed_run_releases_the_lock") {
        return;
    }
    let ws = Workspace::with_backend(&["app"], backend);
    ws.revision("app", &recording("c1", None));
    let broken = ws.revision(
        "app",
        &Rev::new("c2", "SELECT * FROM no_such_table;").revises("c1"),
    );
    ws.run(["up"]).code(1);
    ws.raw(
        "app",
        broken.rsplit('/').next().expect("a file name"),
        recording("c2", Some("c1")).text(),
    );

    let out = ws.run(["up", "--lock-timeout", "1"]).success();

    assert!(
        !out.stdout_text().contains(WAITING),
        "{}",
        out.stdout_text()
    );
    assert_eq!(ws.db().version_rows(), ["c2"]);
    assert_eq!(runs(&ws), ["c1", "c2"]);
}

#[test]
fn a_failed_run_releases_the_lock_on_sqlite() {
    a_failed_run_releases_the_lock(Backend::Sqlite);
}

#[test]
fn a_failed_run_releases_the_lock_on_postgres() {
    a_failed_run_releases_the_lock(Backend::Postgres);
}

#[test]
fn a_failed_run_releases_the_lock_on_mysql() {
    a_failed_run_releases_the_lock(Backend::Mysql);
}
