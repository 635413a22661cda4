//! Output that goes away: a pipe whose reader has left (`| head -1`, `| grep -q`, a pager
//! quit early), a full disk. No command panics. A command that only prints stops quietly
//! with the shell's status for a closed pipe (141) or says why it failed (1); a run (`up`,
//! `down`, `stamp`, `test`) stops writing its report, finishes its revisions, each in its own
//! transaction, and exits as the run ended, with a note on standard error.
//!
//! Two ways to close the pipe: before the command writes anything (a pipe created without a
//! reader), and after reading the first lines, while a slow revision keeps the run busy so
//! that the rest of its report meets the closed pipe.

#![cfg(unix)]

use std::io::Read;
use std::process::{Command, Output, Stdio};

use revise_tests::{Rev, Workspace};

/// How long the slow revision keeps a run busy, so the test closes the pipe meanwhile.
const SLOW_SECONDS: u32 = 2;
/// What a run says on standard error when its report could not be written.
const NOTE: &str = "note: standard output went away";

/// `id`'s up records the run in `runs` (created by the first revision) and creates a table
/// of its own, then runs `more`; the down undoes both after running `more_down`.
fn recording(id: &str, parent: Option<&str>, more: &str, more_down: &str) -> Rev {
    let (create_runs, drop_runs) = match parent {
        None => (
            "CREATE TABLE runs (rev VARCHAR(32) NOT NULL);\n",
            "DROP TABLE runs;",
        ),
        Some(_) => ("", ""),
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
        "{more_down}DROP TABLE {id};\nDELETE FROM runs WHERE rev = '{id}';\n{drop_runs}"
    ));
    match parent {
        Some(parent) => rev.revises(parent),
        None => rev,
    }
}

/// `c1`, `slow` (busy for [`SLOW_SECONDS`] going up and going down), `c3`.
fn with_slow_middle() -> Workspace {
    let ws = Workspace::new(&["app"]);
    let slow = ws.backend().slow_sql(SLOW_SECONDS);
    ws.revision("app", &recording("c1", None, "", ""));
    ws.revision("app", &recording("slow", Some("c1"), &slow, &slow));
    ws.revision("app", &recording("c3", Some("slow"), "", ""));
    ws
}

fn runs(ws: &Workspace) -> Vec<String> {
    let mut runs = ws.db().strings("SELECT rev AS name FROM runs");
    runs.sort();
    runs
}

/// A pipe whose reading end is already closed: the first write meets `EPIPE`.
fn pipe_without_reader() -> Stdio {
    let (reader, writer) = rustix::pipe::pipe().expect("a pipe");
    drop(reader);
    Stdio::from(writer)
}

/// Runs `cargo-revise ARGS` with its standard output going nowhere: a pipe nobody reads.
fn run_with_closed_stdout(ws: &Workspace, args: &[&str]) -> Output {
    ws.process(args)
        .stdin(Stdio::null())
        .stdout(pipe_without_reader())
        .stderr(Stdio::piped())
        .output()
        .expect("cargo-revise runs")
}

/// Runs `cargo-revise ARGS`, reads what its first write brings (as `head -1` does), then
/// closes the pipe while the command still has more to write.
fn run_closing_after_first_read(ws: &Workspace, args: &[&str]) -> (String, Output) {
    let mut child = ws
        .process(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cargo-revise starts");
    let mut stdout = child.stdout.take().expect("a piped stdout");
    let mut first = vec![0; 8192];
    let read = stdout
        .read(&mut first)
        .expect("the first output can be read");
    first.truncate(read);
    drop(stdout);
    let output = child.wait_with_output().expect("cargo-revise ends");
    (String::from_utf8_lossy(&first).into_owned(), output)
}

/// Runs `cargo-revise ARGS` writing into `/dev/full`, where every write fails with "No
/// space left on device".
fn run_into_a_full_disk(ws: &Workspace, args: &[&str]) -> Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    ws.process(args)
        .stdin(Stdio::null())
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .expect("cargo-revise runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// No panic: not Rust's panic status, not its message.
fn assert_no_panic(output: &Output, what: &str) {
    assert_ne!(
        output.status.code(),
        Some(101),
        "{what}: {}",
        stderr(output)
    );
    assert!(
        !stderr(output).contains("panicked"),
        "{what}: {}",
        stderr(output)
    );
}

/// A run whose report went away: it finished (exit 0) and says so on standard error.
fn assert_finished_without_its_report(output: &Output, what: &str) {
    assert_no_panic(output, what);
    assert_eq!(output.status.code(), Some(0), "{what}: {}", stderr(output));
    assert!(stderr(output).contains(NOTE), "{what}: {}", stderr(output));
}

/// A read-only command whose reader left: the shell's status for a closed pipe, silently.
fn assert_stopped_quietly(output: &Output, what: &str) {
    assert_no_panic(output, what);
    assert_eq!(
        output.status.code(),
        Some(141),
        "{what}: {}",
        stderr(output)
    );
    assert_eq!(stderr(output), "", "{what}");
}

#[test]
fn up_finishes_its_revisions_when_its_reader_leaves_after_the_first_line() {
    let ws = with_slow_middle();
    let (first, output) = run_closing_after_first_read(&ws, &["up"]);
    assert!(first.starts_with("Checking migration status..."), "{first}");
    assert!(
        !first.contains("completed"),
        "the slow revision came after: {first}"
    );
    assert_finished_without_its_report(&output, "up");
    assert_eq!(ws.db().version_rows(), ["c3"]);
    assert_eq!(runs(&ws), ["c1", "c3", "slow"]);
}

#[test]
fn up_with_a_failing_revision_stops_at_the_revision_before_it_and_says_so() {
    let ws = with_slow_middle();
    ws.raw(
        "app",
        "c3_run_c3.sql",
        Rev::new("c3", "SELECT * FROM no_such_table;")
            .revises("slow")
            .text(),
    );
    let (_, output) = run_closing_after_first_read(&ws, &["up"]);
    assert_no_panic(&output, "up");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("error: revision c3 failed while upgrading")
            && stderr(&output).contains("--> app/migrations/c3_run_c3.sql:8"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        ws.db().version_rows(),
        ["slow"],
        "the revision boundary before c3"
    );
    assert_eq!(runs(&ws), ["c1", "slow"]);
}

#[test]
fn up_and_down_run_to_the_end_when_nobody_reads_their_report() {
    let ws = with_slow_middle();
    let up = run_with_closed_stdout(&ws, &["up"]);
    assert_finished_without_its_report(&up, "up");
    assert_eq!(ws.db().version_rows(), ["c3"]);
    assert_eq!(runs(&ws), ["c1", "c3", "slow"]);

    let down = run_with_closed_stdout(&ws, &["down", "c1"]);
    assert_finished_without_its_report(&down, "down");
    assert_eq!(ws.db().version_rows(), ["c1"]);
    assert_eq!(runs(&ws), ["c1"]);
}

#[test]
fn down_finishes_its_revisions_when_its_reader_leaves_after_the_first_line() {
    let ws = with_slow_middle();
    ws.run(["up"]).success();
    let (first, output) = run_closing_after_first_read(&ws, &["down", "base"]);
    assert!(first.starts_with("Checking migration status..."), "{first}");
    assert_finished_without_its_report(&output, "down");
    assert_eq!(ws.db().version_rows(), Vec::<String>::new());
    assert_eq!(ws.db().tables(), ["alembic_version"]);
}

#[test]
fn stamp_moves_the_rows_when_nobody_reads_what_it_says() {
    let ws = with_slow_middle();
    let output = run_with_closed_stdout(&ws, &["stamp", "c1"]);
    assert_finished_without_its_report(&output, "stamp");
    assert_eq!(ws.db().version_rows(), ["c1"]);
}

#[test]
fn the_stairway_test_runs_to_the_end_when_its_reader_leaves() {
    let ws = with_slow_middle();
    let (first, output) = run_closing_after_first_read(&ws, &["test"]);
    assert!(
        first.starts_with("Stairway test of 3 revision(s)"),
        "{first}"
    );
    assert_finished_without_its_report(&output, "test");

    // A failing stairway still says so in its exit status and on standard error.
    ws.raw(
        "app",
        "c3_run_c3.sql",
        Rev::new("c3", "CREATE TABLE c3 (id INTEGER PRIMARY KEY);")
            .revises("slow")
            .down("SELECT 1;")
            .text(),
    );
    let failed = run_with_closed_stdout(&ws, &["test"]);
    assert_no_panic(&failed, "test");
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    assert!(
        stderr(&failed).contains("does not restore the schema"),
        "{}",
        stderr(&failed)
    );
    assert!(ws.db().untouched(), "the stairway used a scratch database");
}

#[test]
fn history_stops_quietly_when_its_reader_leaves() {
    let ws = Workspace::new(&["app"]);
    // Far more than a pipe holds (64 KiB), so the command is still writing when the
    // pipe closes.
    let ids: Vec<String> = (0..2500).map(|i| format!("r{i:05}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    ws.chain("app", &ids);
    let (first, output) = run_closing_after_first_read(&ws, &["history"]);
    assert!(
        first.starts_with("r02498 -> r02499 "),
        "{}",
        first.lines().next().unwrap_or_default()
    );
    assert_stopped_quietly(&output, "history");
    assert!(ws.db().pristine(), "a read-only command created nothing");
}

#[test]
fn read_only_commands_stop_quietly_when_nobody_reads_them() {
    let ws = with_slow_middle();
    ws.run(["up", "c1"]).success();
    for args in [
        &["current", "--format", "json"][..],
        &["current"],
        &["history"],
        &["heads", "--format", "json"],
        &["show", "c1"],
        &["up", "--sql"],
    ] {
        let output = run_with_closed_stdout(&ws, args);
        assert_stopped_quietly(&output, &args.join(" "));
    }
    assert_eq!(ws.db().version_rows(), ["c1"], "`up --sql` ran nothing");
    assert_eq!(runs(&ws), ["c1"]);
}

#[test]
fn a_full_disk_fails_a_read_only_command_but_not_a_run() {
    let ws = with_slow_middle();
    let history = run_into_a_full_disk(&ws, &["history"]);
    assert_no_panic(&history, "history");
    assert_eq!(history.status.code(), Some(1), "{}", stderr(&history));
    assert_eq!(
        stderr(&history).trim_end(),
        "error: cannot write to standard output: No space left on device (os error 28)"
    );

    let up = run_into_a_full_disk(&ws, &["up"]);
    assert_finished_without_its_report(&up, "up");
    assert!(
        stderr(&up).contains("No space left on device"),
        "{}",
        stderr(&up)
    );
    assert_eq!(ws.db().version_rows(), ["c3"]);
}

#[test]
fn a_failing_run_with_both_outputs_closed_exits_with_its_status() {
    let ws = Workspace::new(&["app"]);
    ws.revision("app", &recording("c1", None, "", ""));
    ws.revision(
        "app",
        &Rev::new("c2", "SELECT * FROM no_such_table;").revises("c1"),
    );
    let output: Output = ws
        .process(["up"])
        .stdin(Stdio::null())
        .stdout(pipe_without_reader())
        .stderr(pipe_without_reader())
        .output()
        .expect("cargo-revise runs");
    assert_eq!(output.status.code(), Some(1), "{:?}", output.status);
    assert_eq!(ws.db().version_rows(), ["c1"]);
}

/// The issue's own reproduction: the shell's `| head -1`, here through `sh`.
#[test]
fn up_piped_into_head_does_not_panic() {
    let ws = with_slow_middle();
    let revise = ws.process(["up"]);
    let program = revise.get_program().to_owned();
    let args: Vec<_> = revise.get_args().map(ToOwned::to_owned).collect();
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg("{ \"$@\" 2>stderr.txt; echo \"$?\" >status.txt; } | head -1")
        .arg("sh")
        .arg(program)
        .args(args)
        .current_dir(ws.root())
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1");
    let output = shell.output().expect("sh runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout, "Checking migration status...\n");
    let stderr = ws.read("stderr.txt");
    assert_eq!(ws.read("status.txt"), "0\n", "{stderr}");
    assert!(stderr.contains(NOTE), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(ws.db().version_rows(), ["c3"]);
}
