//! Applications migrating at start-up, several instances at once, on the application's own
//! diesel connection (SPEC sections 6 and 8): replicas of a service, a restarted set of pods,
//! workers started beside a web process.
//!
//! The application (`tests/fixtures/start-up-app`) embeds the template's revisions, each made
//! to record its own execution in `revision_runs`, so a revision that ran twice shows up as
//! two rows (and as a failed `CREATE TABLE` or `ALTER TABLE` in the instance that repeated
//! it). It is built once per test binary.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

use revise_tests::{copy_template, Backend, TestDb};

/// Instances started together in each round.
const INSTANCES: usize = 8;
/// Rounds per backend, each on a database of its own that does not exist yet (SQLite) or
/// is empty (servers).
const ROUNDS: usize = 10;
/// The template's revisions.
const REVISIONS: [&str; 4] = [
    "001_create_examples",
    "002_add_categories",
    "003_add_priority",
    "004_remove_description",
];
/// The version table's rows once they all ran: the heads of both members.
const HEAD_ROWS: [&str; 2] = ["002_add_categories", "004_remove_description"];
/// The report's line when a run waits for another (or for a lock the application holds).
const WAITING: &str = "Waiting for another migration run to finish...";
/// The SQLite busy timeout the application sets itself, which a run must leave as it was.
const APP_BUSY_TIMEOUT_MS: &str = "250";

fn repository() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The application's binary, built at most once per test binary: a copy of the template
/// (under `target/`, so reruns rebuild little) with the application as a member `instance`,
/// in the target folder the template's own app builds in, so dependencies compile once.
fn instance_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(build_instance)
}

/// Where the application's workspace is copied and built.
fn instance_workspace() -> PathBuf {
    repository().join("target/start-up-app/workspace")
}

fn build_instance() -> PathBuf {
    let root = instance_workspace();
    if root.exists() {
        std::fs::remove_dir_all(&root).expect("remove the previous copy");
    }
    std::fs::create_dir_all(&root).expect("create the copy's folder");
    copy_template(&root);
    for member in ["catalog", "categories"] {
        record_runs(&root.join(member).join("migrations"));
    }
    add_instance_member(&root);
    // The repository's lock file holds every package the instance needs (the template's
    // lacks the PostgreSQL and MySQL drivers), so nothing new is resolved or downloaded.
    std::fs::copy(repository().join("Cargo.lock"), root.join("Cargo.lock"))
        .expect("copy Cargo.lock");

    let target = repository().join("target/template-app");
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    cargo.args(["build", "--quiet", "-p", "instance"]);
    if cfg!(feature = "mysql") {
        cargo.args(["--features", "mysql"]);
    }
    let output = cargo
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("DATABASE_URL")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "building the start-up application failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    target.join(format!("debug/instance{}", std::env::consts::EXE_SUFFIX))
}

/// Makes each revision file in `dir` insert its id into `revision_runs` (which the first
/// revision creates) as the first thing its up section does.
fn record_runs(dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("the migrations folder") {
        let path = entry.expect("an entry").path();
        let text = std::fs::read_to_string(&path).expect("a revision file");
        let id = text
            .lines()
            .find_map(|l| l.strip_prefix("-- Revision ID: "))
            .expect("a Revision ID line")
            .trim()
            .to_owned();
        let create = if id == REVISIONS[0] {
            "CREATE TABLE revision_runs (revision VARCHAR(32) NOT NULL);\n"
        } else {
            ""
        };
        let recorded = text.replacen(
            "-- revise:up\n",
            &format!(
                "-- revise:up\n{create}INSERT INTO revision_runs (revision) VALUES ('{id}');\n"
            ),
            1,
        );
        assert_ne!(recorded, text, "{} has an up marker", path.display());
        std::fs::write(&path, recorded).expect("write the revision file");
    }
}

fn add_instance_member(root: &Path) {
    let manifest = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("the workspace manifest");
    let with_member = text.replacen("members = [", "members = [\"instance\", ", 1);
    assert_ne!(with_member, text, "the template lists its members");
    std::fs::write(&manifest, with_member).expect("write the workspace manifest");

    let fixture = repository().join("tests/fixtures/start-up-app");
    let member = root.join("instance");
    std::fs::create_dir_all(member.join("src")).expect("create the member");
    for file in ["build.rs", "src/main.rs"] {
        std::fs::copy(fixture.join(file), member.join(file)).expect("copy the application");
    }
    let runtime = repository()
        .join("revise-runtime")
        .canonicalize()
        .expect("the runtime's folder");
    let runtime = runtime.display();
    // The backends are written into the dependency itself: a feature of the app's that
    // named `revise-runtime/mysql` would reach the build-dependency of the same name too, and
    // compile diesel for the build script with other backends than diesel's derive macros
    // (shared by both sides) were built for.
    let backends = if cfg!(feature = "mysql") {
        r#""sqlite", "postgres", "mysql""#
    } else {
        r#""sqlite", "postgres""#
    };
    std::fs::write(
        member.join("Cargo.toml"),
        format!(
            r#"[package]
name = "instance"
version = "0.1.0"
edition = "2021"
publish = false

# The application's own switch for its MySQL code; the drivers are chosen below.
[features]
mysql = []

[dependencies]
revise-runtime = {{ path = "{runtime}", features = [{backends}] }}
diesel = {{ version = "2.3", default-features = false, features = [{backends}] }}

# The reader only, as the README's start-up section shows: no diesel in the build script.
[build-dependencies]
revise-runtime = {{ path = "{runtime}", default-features = false, features = ["build"] }}
"#
        ),
    )
    .expect("write the member's manifest");
}

/// An instance of the application on `db`, not started until it reads a line (`go`).
fn instance(db: &TestDb, args: &[&str]) -> Command {
    let mut command = Command::new(instance_binary());
    command
        .args(args)
        .env("DATABASE_URL", db.url())
        .env_remove("INSTANCE_LOCK_TIMEOUT")
        .env_remove("INSTANCE_WAIT_FOR_GO")
        .env("INSTANCE_BUSY_TIMEOUT_MS", APP_BUSY_TIMEOUT_MS)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
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

/// The revisions recorded as run, sorted.
fn runs(db: &TestDb) -> Vec<String> {
    let mut runs = db.strings("SELECT revision AS name FROM revision_runs");
    runs.sort();
    runs
}

/// What the database holds once the template's revisions ran exactly once each.
fn assert_migrated_once(db: &TestDb, context: &str) {
    assert_eq!(
        runs(db),
        REVISIONS,
        "{context}: each revision ran exactly once"
    );
    assert_eq!(db.version_rows(), HEAD_ROWS, "{context}: the version table");
    assert_eq!(
        db.tables(),
        ["alembic_version", "categories", "examples", "revision_runs"],
        "{context}"
    );
    let mut columns = db.columns("examples");
    columns.sort();
    assert_eq!(
        columns,
        ["created_at", "id", "name", "priority"],
        "{context}"
    );
}

/// Starts [`INSTANCES`] instances that wait for one line on standard input, then sends it
/// to all of them at once, and collects how each ended.
fn start_together(db: &TestDb) -> Vec<Output> {
    let mut children: Vec<Child> = (0..INSTANCES)
        .map(|_| {
            instance(db, &[])
                .env("INSTANCE_WAIT_FOR_GO", "1")
                .spawn()
                .expect("the application starts")
        })
        .collect();
    for child in &mut children {
        let mut stdin = child.stdin.take().expect("a piped stdin");
        stdin.write_all(b"go\n").expect("the instance reads its go");
    }
    children
        .into_iter()
        .map(|child| child.wait_with_output().expect("the instance ends"))
        .collect()
}

fn instances_starting_at_once(backend: Backend) {
    if backend.skip("instances_starting_at_once") {
        return;
    }
    instance_binary();
    let mut waits = 0;
    for round in 1..=ROUNDS {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let db = TestDb::new(backend, dir.path());
        let outputs = start_together(&db);
        for output in &outputs {
            assert!(
                output.status.success(),
                "{backend}, round {round}: an instance failed: {}",
                describe(output)
            );
            let stdout = text(&output.stdout);
            waits += usize::from(stdout.contains(WAITING));
            if backend == Backend::Sqlite {
                assert!(
                    stdout.contains(&format!("busy_timeout after the run: {APP_BUSY_TIMEOUT_MS}")),
                    "{backend}, round {round}: the application's busy timeout was not restored: {stdout}"
                );
            }
        }
        let ran = outputs
            .iter()
            .filter(|o| text(&o.stdout).contains("Migrations completed successfully!"))
            .count();
        assert!(ran >= 1, "{backend}, round {round}: no instance migrated");
        assert_migrated_once(&db, &format!("{backend}, round {round}"));
    }
    // Otherwise the instances never overlapped and the rounds proved nothing about waiting.
    assert!(
        waits > 0,
        "{backend}: in {ROUNDS} rounds of {INSTANCES} instances, none ever waited for another"
    );
    eprintln!("{backend}: {ROUNDS} rounds of {INSTANCES} instances, {waits} instance(s) waited");
}

#[test]
fn eight_instances_starting_at_once_migrate_exactly_once_on_sqlite() {
    instances_starting_at_once(Backend::Sqlite);
}

#[test]
fn eight_instances_starting_at_once_migrate_exactly_once_on_postgres() {
    instances_starting_at_once(Backend::Postgres);
}

#[test]
fn eight_instances_starting_at_once_migrate_exactly_once_on_mysql() {
    instances_starting_at_once(Backend::Mysql);
}

/// Rounds of [`instances_and_the_cli_at_once`].
const MIXED_ROUNDS: usize = 5;

/// Half application instances, half `cargo revise up` (a deploy step beside replicas that
/// migrate at start-up): the CLI's run lock and the applications' step locks exclude each
/// other, so no revision runs twice and every process succeeds.
fn instances_and_the_cli_at_once(backend: Backend) {
    if backend.skip("instances_and_the_cli_at_once") {
        return;
    }
    instance_binary();
    let workspace = instance_workspace();
    for round in 1..=MIXED_ROUNDS {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let db = TestDb::new(backend, dir.path());
        let mut instances: Vec<Child> = (0..INSTANCES / 2)
            .map(|_| {
                instance(&db, &[])
                    .env("INSTANCE_WAIT_FOR_GO", "1")
                    .spawn()
                    .expect("the application starts")
            })
            .collect();
        for child in &mut instances {
            let mut stdin = child.stdin.take().expect("a piped stdin");
            stdin.write_all(b"go\n").expect("the instance reads its go");
        }
        let runs_of_the_cli: Vec<Child> = (0..INSTANCES / 2)
            .map(|_| {
                Command::new(revise_tests::cargo_revise())
                    .current_dir(&workspace)
                    .args(["--database-url", &db.url(), "up"])
                    .env_remove("DATABASE_URL")
                    .env("NO_COLOR", "1")
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("cargo-revise starts")
            })
            .collect();
        for child in instances.into_iter().chain(runs_of_the_cli) {
            let output = child.wait_with_output().expect("the process ends");
            assert!(
                output.status.success(),
                "{backend}, round {round}: a run failed: {}",
                describe(&output)
            );
        }
        assert_migrated_once(&db, &format!("{backend}, round {round}"));
    }
}

#[test]
fn instances_and_the_cli_starting_at_once_migrate_exactly_once_on_sqlite() {
    instances_and_the_cli_at_once(Backend::Sqlite);
}

#[test]
fn instances_and_the_cli_starting_at_once_migrate_exactly_once_on_postgres() {
    instances_and_the_cli_at_once(Backend::Postgres);
}

#[test]
fn instances_and_the_cli_starting_at_once_migrate_exactly_once_on_mysql() {
    instances_and_the_cli_at_once(Backend::Mysql);
}

/// An instance of the application holding a write transaction of its own on a SQLite file
/// (`BEGIN EXCLUSIVE` or `BEGIN IMMEDIATE`), until [`Holder::release`].
struct Holder {
    child: Child,
}

impl Holder {
    fn start(db: &TestDb, mode: &str) -> Self {
        let mut child = instance(db, &["hold", mode])
            .spawn()
            .expect("the application starts");
        let stdout = child.stdout.as_mut().expect("a piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the holder says it holds");
        assert_eq!(
            line, "holding\n",
            "the holder could not begin its transaction"
        );
        Self { child }
    }

    /// Commits the transaction and waits for the holder to end.
    fn release(mut self) {
        drop(self.child.stdin.take());
        let output = self.child.wait_with_output().expect("the holder ends");
        assert!(output.status.success(), "the holder: {}", describe(&output));
    }
}

/// Starts an instance that migrates, reads its report until it says it waits (or ends),
/// then calls `meanwhile` and collects how the instance ended.
fn migrate_beside(db: &TestDb, lock_timeout: Option<&str>, meanwhile: impl FnOnce()) -> Output {
    let mut command = instance(db, &[]);
    if let Some(seconds) = lock_timeout {
        command.env("INSTANCE_LOCK_TIMEOUT", seconds);
    }
    let mut child = command.spawn().expect("the application starts");
    let mut reader = BufReader::new(child.stdout.take().expect("a piped stdout"));
    let mut before = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).expect("the report can be read") == 0 {
            break;
        }
        before.push_str(&line);
        if line.contains(WAITING) {
            break;
        }
    }
    meanwhile();
    let mut rest = String::new();
    reader
        .read_to_string(&mut rest)
        .expect("the report can be read");
    let mut output = child.wait_with_output().expect("the instance ends");
    output.stdout = format!("{before}{rest}").into_bytes();
    output
}

#[test]
fn a_starting_instance_waits_for_an_exclusive_transaction_of_the_application() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db = TestDb::new(Backend::Sqlite, dir.path());
    let first = instance(&db, &[]).output().expect("the application runs");
    assert!(first.status.success(), "{}", describe(&first));

    // Even reading the version table has to wait for an exclusive transaction.
    let holder = Holder::start(&db, "exclusive");
    let mut released = false;
    let second = migrate_beside(&db, None, || {
        holder.release();
        released = true;
    });
    assert!(released);
    let stdout = text(&second.stdout);
    assert!(second.status.success(), "{}", describe(&second));
    assert!(stdout.contains(WAITING), "{stdout}");
    assert!(
        stdout.contains("Database is up to date - no migrations needed"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "busy_timeout after the run: {APP_BUSY_TIMEOUT_MS}"
        )),
        "{stdout}"
    );
    assert_migrated_once(&db, "after waiting");
}

#[test]
fn a_starting_instance_waits_for_a_write_transaction_of_the_application() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db = TestDb::new(Backend::Sqlite, dir.path());

    // Readers pass a reserved lock, so the instance finds the database empty and waits to
    // apply its first revision.
    let holder = Holder::start(&db, "immediate");
    let second = migrate_beside(&db, None, || holder.release());
    let stdout = text(&second.stdout);
    assert!(second.status.success(), "{}", describe(&second));
    assert!(stdout.contains(WAITING), "{stdout}");
    assert!(
        stdout.contains("Migrations completed successfully!"),
        "{stdout}"
    );
    assert_migrated_once(&db, "after waiting");
}

/// Past its lock timeout, an instance gives up with the CLI's kind of message (not a
/// `Debug` dump), naming the timeout, changes nothing, and restores its busy timeout.
fn gives_up_after_the_lock_timeout(mode: &str, migrated_first: bool) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db = TestDb::new(Backend::Sqlite, dir.path());
    if migrated_first {
        let first = instance(&db, &[]).output().expect("the application runs");
        assert!(first.status.success(), "{}", describe(&first));
    }
    let holder = Holder::start(&db, mode);
    let mut holder = Some(holder);
    let second = migrate_beside(&db, Some("1"), || {});
    holder.take().expect("still held").release();

    assert_eq!(second.status.code(), Some(1), "{}", describe(&second));
    let stderr = text(&second.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one error line: {stderr}");
    assert!(
        lines[0].starts_with(
            "error: gave up waiting for another migration run after 1s (the lock timeout)"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("DbError"), "{stderr}");
    let stdout = text(&second.stdout);
    assert!(stdout.contains(WAITING), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "busy_timeout after the run: {APP_BUSY_TIMEOUT_MS}"
        )),
        "{stdout}"
    );
    if migrated_first {
        assert_migrated_once(&db, "after giving up");
    } else {
        assert_eq!(db.tables(), Vec::<String>::new(), "nothing was applied");
    }
}

#[test]
fn an_instance_gives_up_on_an_exclusive_transaction_after_its_lock_timeout() {
    gives_up_after_the_lock_timeout("exclusive", true);
}

#[test]
fn an_instance_gives_up_on_a_write_transaction_after_its_lock_timeout() {
    gives_up_after_the_lock_timeout("immediate", false);
}
