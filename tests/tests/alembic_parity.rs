//! Differential tests against real Alembic 1.20 (SPEC section 6: "Real Alembic on the equivalent
//! graph is the oracle"), and interoperation with it in both directions.
//!
//! `random_graphs_match_alembic` generates random revision graphs and command sequences, runs
//! each command through Alembic (in a virtual environment under `target/`, see
//! `tests/alembic/`) and through `cargo revise`, each on its own SQLite file, and compares
//! after every step: success or failure, the `alembic_version` rows, the tables, the
//! revision functions that ran, and what `current` prints; after the last command of each
//! graph also `current -v`, `history -i` and `history -r current:`. Environment variables:
//!
//! * `REVISE_PARITY_GRAPHS`: how many graphs (default 300);
//! * `REVISE_PARITY_SEED`: the first graph's seed (default fixed; `random` picks one); graph
//!   `i` uses seed + i, so `REVISE_PARITY_SEED=S REVISE_PARITY_GRAPHS=1` replays one graph;
//! * `REVISE_PARITY_REDUNDANT_GRAPHS`: graphs for the reported-only run on graphs with a
//!   redundant parent (default 60);
//! * `REVISE_PARITY_REPORTS`: how many divergences a failure writes up in full (default 8);
//! * `REVISE_PARITY_SHRINK=0`: write them up as generated instead of reduced to a smaller
//!   graph and fewer commands that still diverge alike;
//! * `REVISE_PARITY_KEEP=1`: keep the generated workspaces, projects and databases.
//!
//! Departures from Alembic that SPEC section 6 allows are not generated or are checked as
//! such: `down -N` from several rows must fail in cargo revise and is not run in Alembic, and
//! graphs with a redundant parent (where Alembic crashes with `KeyError` or leaves
//! non-maximal rows) are left to a separate run that only reports.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::process::Command as Process;
use std::time::Instant;

use revise_tests::alembic::{
    alembic_batch, cargo_current, cargo_history, cargo_revise_at, cargo_revise_on, current_agrees,
    history_agrees, read_state, run_cases, shrink, target_dir, venv, AlembicJob, Case, Command,
    DivergenceKind, Graph, Outcome, Redundancy,
};
use revise_tests::{cargo_revise, Backend, TestDb};

/// The default first seed: fixed, so that CI is repeatable; `REVISE_PARITY_SEED=random`
/// explores.
const DEFAULT_SEED: u64 = 20_261_125;

/// How many divergences a failure message writes up in full, unless `REVISE_PARITY_REPORTS`
/// says otherwise.
const REPORTS_SHOWN: usize = 8;

/// Writes a line to the real standard error, past the test harness's capture: summaries that
/// belong in CI's log even when the test passes.
fn announce(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn env_count(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(value) => value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a number")),
        Err(_) => default,
    }
}

fn first_seed() -> u64 {
    match std::env::var("REVISE_PARITY_SEED") {
        Ok(value) if value.trim() == "random" => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(DEFAULT_SEED, |d| d.as_secs() ^ u64::from(d.subsec_nanos())),
        Ok(value) => value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("REVISE_PARITY_SEED={value:?} is not a number")),
        Err(_) => DEFAULT_SEED,
    }
}

/// A temporary folder for one test's workspaces, projects and databases: in memory
/// (`/dev/shm`) where there is such a file system and `TMPDIR` does not say otherwise, because
/// both tools commit (and so sync) thousands of times.
fn work_dir(prefix: &str) -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let base = if std::env::var_os("TMPDIR").is_none() && shm.is_dir() {
        shm.to_owned()
    } else {
        std::env::temp_dir()
    };
    let mut dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(&base)
        .or_else(|_| tempfile::Builder::new().prefix(prefix).tempdir())
        .expect("a temporary folder");
    if std::env::var_os("REVISE_PARITY_KEEP").is_some() {
        dir.disable_cleanup(true);
        eprintln!("keeping {}", dir.path().display());
    }
    dir
}

/// Counts per step for the summary line: how much each run actually exercised.
fn summary(outcomes: &[Outcome]) -> String {
    let mut steps = 0;
    let mut both_ok = 0;
    let mut both_failed = 0;
    let mut skipped = 0;
    for outcome in outcomes {
        let compared = outcome
            .divergence()
            .map_or(outcome.case.commands.len(), |d| d.step + 1);
        for (a, c) in outcome.alembic.iter().zip(&outcome.cargo).take(compared) {
            steps += 1;
            match (a.status.as_str(), c.exit) {
                ("skipped", _) => skipped += 1,
                ("ok", Some(0)) => both_ok += 1,
                ("error", Some(1..=2)) => both_failed += 1,
                _ => {}
            }
        }
    }
    let graphs: Vec<&Graph> = outcomes.iter().map(|o| &o.case.graph).collect();
    let count = |test: &dyn Fn(&Graph) -> bool| graphs.iter().filter(|g| test(g)).count();
    let several_members = count(&|g| g.members.len() > 1);
    let merges = count(&|g| g.revisions.iter().any(|r| r.revises.len() > 1));
    let branch_points = count(&|g| {
        g.revisions.iter().any(|p| {
            g.revisions
                .iter()
                .filter(|r| r.revises.contains(&p.id))
                .count()
                > 1
        })
    });
    let across = count(&|g| {
        g.revisions.iter().any(|r| {
            r.depends_on
                .iter()
                .any(|d| g.revision(d).member != r.member)
        })
    });
    let within = count(&|g| {
        g.revisions.iter().any(|r| {
            r.depends_on
                .iter()
                .any(|d| g.revision(d).member == r.member)
        })
    });
    format!(
        "{} graphs ({several_members} with several members, {branch_points} with a branch \
         point, {merges} with a merge, {across} with Depends On across members, {within} \
         within one), {steps} steps compared: {both_ok} succeeded in both, {both_failed} \
         failed in both, {skipped} `down -N` from several rows refused",
        outcomes.len()
    )
}

/// The divergent outcomes grouped by kind, then the smallest of each kind written up in full,
/// reduced first (see [`shrink`]) when `reduce` is true.
fn divergence_report(outcomes: &[Outcome], work: &Path, reduce: bool) -> String {
    let mut by_kind: BTreeMap<DivergenceKind, Vec<&Outcome>> = BTreeMap::new();
    for outcome in outcomes {
        if let Some(d) = outcome.divergence() {
            by_kind.entry(d.kind).or_default().push(outcome);
        }
    }
    let mut text = String::new();
    for (kind, list) in &by_kind {
        let names: Vec<&str> = list.iter().map(|o| o.case.name.as_str()).collect();
        text.push_str(&format!(
            "{kind:?}: {} case(s): {}\n",
            list.len(),
            names.join(", ")
        ));
    }
    // The smallest cases of each kind in turn: the easiest to read.
    let size = |o: &Outcome| {
        let step = o.divergence().map_or(0, |d| d.step);
        (o.case.graph.revisions.len() + step, step)
    };
    let mut queues: Vec<Vec<&Outcome>> = by_kind
        .into_values()
        .map(|mut list| {
            list.sort_by_key(|o| size(o));
            list.reverse();
            list
        })
        .collect();
    let limit = env_count("REVISE_PARITY_REPORTS", REPORTS_SHOWN);
    let mut shown: Vec<Outcome> = Vec::new();
    while shown.len() < limit && queues.iter().any(|q| !q.is_empty()) {
        for queue in &mut queues {
            if let Some(outcome) = queue.pop() {
                if shown.len() < limit {
                    shown.push(outcome.clone());
                }
            }
        }
    }
    if reduce && env_count("REVISE_PARITY_SHRINK", 1) > 0 {
        let started = Instant::now();
        shown = shrink(&shown, &work.join("shrink"), 12);
        text.push_str(&format!(
            "\n(the cases below were reduced to a smaller graph and fewer commands that still \
             diverge alike, in {:.1} s; REVISE_PARITY_SHRINK=0 shows them as generated)\n",
            started.elapsed().as_secs_f64()
        ));
    }
    for outcome in &shown {
        text.push('\n');
        text.push_str(&outcome.report());
    }
    text
}

/// The line that runs the main test on one graph again.
fn replay_main(seed: u64) -> String {
    format!(
        "REVISE_PARITY_SEED={seed} REVISE_PARITY_GRAPHS=1 \
         cargo test -p revise-tests --test alembic_parity random_graphs_match_alembic"
    )
}

#[test]
fn random_graphs_match_alembic() {
    let graphs = env_count("REVISE_PARITY_GRAPHS", 300);
    let seed = first_seed();
    let cases: Vec<Case> = (0..graphs as u64)
        .map(|i| {
            let seed = seed.wrapping_add(i);
            Case::random(seed, Redundancy::Avoid).with_replay(replay_main(seed))
        })
        .collect();
    let work = work_dir("revise-parity-");
    let started = Instant::now();
    let outcomes = run_cases(&cases, work.path());
    let diverged = outcomes.iter().filter(|o| o.divergence().is_some()).count();
    announce(&format!(
        "alembic parity (first seed {seed}): {} in {:.1} s; {diverged} diverged",
        summary(&outcomes),
        started.elapsed().as_secs_f64()
    ));
    assert!(
        diverged == 0,
        "cargo revise and Alembic diverged on {diverged} of {graphs} graphs \
         (first seed {seed}):\n{}",
        divergence_report(&outcomes, work.path(), true)
    );
}

#[test]
fn graphs_with_redundant_parents_are_reported() {
    let graphs = env_count("REVISE_PARITY_REDUNDANT_GRAPHS", 60);
    let first = first_seed();
    let seed = first.wrapping_add(1 << 32);
    let cases: Vec<Case> = (0..graphs as u64)
        .map(|i| {
            Case::random(seed.wrapping_add(i), Redundancy::Require).with_replay(format!(
                "REVISE_PARITY_SEED={} REVISE_PARITY_REDUNDANT_GRAPHS=1 cargo test -p \
                 revise-tests --test alembic_parity graphs_with_redundant_parents_are_reported",
                first.wrapping_add(i)
            ))
        })
        .collect();
    let work = work_dir("revise-parity-redundant-");
    let outcomes = run_cases(&cases, work.path());
    let diverged = outcomes.iter().filter(|o| o.divergence().is_some()).count();
    let mut line = format!(
        "alembic parity, graphs with a redundant parent (reported only: SPEC section 6 allows \
         departures where Alembic crashes): {}; {diverged} diverged",
        summary(&outcomes)
    );
    if diverged > 0 {
        let report = target_dir().join("alembic-parity-redundant.txt");
        fs::write(&report, divergence_report(&outcomes, work.path(), false))
            .expect("write the report");
        line.push_str(&format!(", see {}", report.display()));
    }
    announce(&line);
    let crashed: Vec<String> = outcomes
        .iter()
        .filter(|o| {
            o.divergence()
                .is_some_and(|d| d.kind == DivergenceKind::CargoCrashed)
        })
        .map(Outcome::report)
        .collect();
    assert!(
        crashed.is_empty(),
        "cargo revise crashed:\n{}",
        crashed.join("\n")
    );
}

/// users u1 ← u2; billing b1 ← b2, b2 depends on u2 (the SPEC's example).
fn users_and_billing() -> Graph {
    Graph::from_spec(
        &["users", "billing"],
        &[
            ("users", "u1", &[], &[]),
            ("users", "u2", &["u1"], &[]),
            ("billing", "b1", &[], &[]),
            ("billing", "b2", &["b1"], &["u2"]),
        ],
    )
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn cargo_revise_continues_a_database_alembic_upgraded_part_way() {
    let graph = users_and_billing();
    let work = work_dir("revise-interop-");
    let dir = work.path();
    let db = dir.join("shared.db");
    let steps = alembic_batch(
        &[AlembicJob {
            graph: &graph,
            dir: dir.join("alembic"),
            db: db.clone(),
            url: None,
            commands: vec![Command::up("users@head")],
            keep_db: false,
        }],
        &dir.join("driver"),
    );
    assert_eq!(steps[0][0].status, "ok", "{:?}", steps[0][0]);
    assert_eq!(read_state(&db).rows, ["u2"]);

    graph.write_workspace(&dir.join("workspace"));
    revise_up_succeeds(&dir.join("workspace"), &db);
    let state = read_state(&db);
    assert_eq!(state.rows, ["b2"], "the maximal applied revision");
    assert_eq!(
        state.tables,
        ["parity_log", "t_b1", "t_b2", "t_u1", "t_u2"],
        "every revision's table"
    );
    assert_eq!(
        state.log,
        ["+b1", "+b2", "+u1", "+u2"],
        "cargo revise ran only b1 and b2; u1 and u2 ran once, in Alembic"
    );
}

#[test]
fn cargo_revise_continues_random_databases_alembic_left() {
    // Alembic runs a random prefix of commands on one file, then `cargo revise up` continues
    // on that file; Alembic alone runs the prefix and `upgrade heads` on another file. Both
    // files must end alike.
    let graphs = 40u64;
    let seed = first_seed().wrapping_add(2 << 32);
    let work = work_dir("revise-interop-random-");
    let cases: Vec<Case> = (0..graphs)
        .map(|i| {
            let mut case = Case::random(seed.wrapping_add(i), Redundancy::Avoid);
            let keep = (case.commands.len() / 2).max(1);
            case.commands.truncate(keep);
            case
        })
        .collect();
    let dirs: Vec<_> = (0..cases.len())
        .map(|i| work.path().join(format!("case-{i:02}")))
        .collect();
    let mut jobs = Vec::new();
    for (case, dir) in cases.iter().zip(&dirs) {
        jobs.push(AlembicJob {
            graph: &case.graph,
            dir: dir.join("alembic"),
            db: dir.join("shared.db"),
            url: None,
            commands: case.commands.clone(),
            keep_db: false,
        });
        let mut reference = case.commands.clone();
        reference.push(Command::up("heads"));
        jobs.push(AlembicJob {
            graph: &case.graph,
            dir: dir.join("alembic"),
            db: dir.join("reference.db"),
            url: None,
            commands: reference,
            keep_db: false,
        });
    }
    let results = alembic_batch(&jobs, &work.path().join("driver"));
    let mut failures = Vec::new();
    for (i, (case, dir)) in cases.iter().zip(&dirs).enumerate() {
        let reference = results[2 * i + 1].last().expect("a last step");
        let before = read_state(&dir.join("shared.db"));
        case.graph.write_workspace(&dir.join("workspace"));
        let output = cargo_revise_on(
            cargo_revise(),
            &dir.join("workspace"),
            &dir.join("shared.db"),
            &strings(&["up"]),
        );
        let after = read_state(&dir.join("shared.db"));
        let alembic_ok = reference.status == "ok";
        if output.status.success() != alembic_ok || after != reference.state {
            let commands: Vec<String> = case.commands.iter().map(|c| c.to_string()).collect();
            failures.push(format!(
                "=== {} ===\ngraph:\n{}Alembic ran: {}\nleaving:        {before}\n\
                 then `cargo revise up`: {} {}\n                {after}\n\
                 Alembic's own `upgrade heads`: {} {}\n                {}\n",
                case.name,
                case.graph,
                commands.join("; "),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim(),
                reference.status,
                reference.error.as_deref().unwrap_or(""),
                reference.state,
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "`cargo revise up` on a database Alembic left did not end where Alembic's \
         `upgrade heads` does, in {} of {graphs} cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `alembic current` through the virtual environment's command line, with `ini`.
fn alembic_current(ini: &Path) -> Vec<String> {
    let output = Process::new(venv().alembic())
        .arg("-c")
        .arg(ini)
        .arg("current")
        .env("PYTHONHASHSEED", "0")
        .output()
        .expect("alembic can be started");
    assert!(
        output.status.success(),
        "alembic current failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let mut lines: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

/// An `alembic.ini` for the project in `project` that points at `db`.
fn write_ini(path: &Path, project: &Path, db: &Path) {
    fs::write(
        path,
        format!(
            "[alembic]\nscript_location = {}\nsqlalchemy.url = sqlite:///{}\n",
            project.display(),
            db.display()
        ),
    )
    .expect("write alembic.ini");
}

#[test]
fn alembic_current_reads_a_database_cargo_revise_migrated() {
    let graph = users_and_billing();
    let work = work_dir("revise-interop-current-");
    let dir = work.path();
    graph.write_workspace(&dir.join("workspace"));
    let db = dir.join("cargo.db");
    revise_up_succeeds(&dir.join("workspace"), &db);
    // Writes the Alembic project (and runs nothing on the database it names).
    alembic_batch(
        &[AlembicJob {
            graph: &graph,
            dir: dir.join("alembic"),
            db: dir.join("unused.db"),
            url: None,
            commands: Vec::new(),
            keep_db: false,
        }],
        &dir.join("driver"),
    );
    let ini = dir.join("cargo.ini");
    write_ini(&ini, &dir.join("alembic"), &db);
    assert_eq!(
        alembic_current(&ini),
        ["b2 (head)", "u2 (effective head)"],
        "SPEC section 6: the row b2, and u2 through Depends On"
    );
}

#[test]
fn alembic_current_agrees_on_random_databases_cargo_revise_migrated() {
    // The same random commands through cargo revise on one file and through Alembic on
    // another; `alembic current` must print the same for both.
    let graphs = 10u64;
    let seed = first_seed().wrapping_add(3 << 32);
    let cases: Vec<Case> = (0..graphs)
        .map(|i| Case::random(seed.wrapping_add(i), Redundancy::Avoid))
        .collect();
    let work = work_dir("revise-interop-current-random-");
    let outcomes = run_cases(&cases, work.path());
    let mut failures = Vec::new();
    let mut compared = 0;
    for (i, outcome) in outcomes.iter().enumerate() {
        if outcome.divergence().is_some() {
            // random_graphs_match_alembic reports those.
            continue;
        }
        let dir = work.path().join(format!("case-{i:04}"));
        let ini = dir.join("cargo.ini");
        write_ini(&ini, &dir.join("alembic"), &dir.join("cargo.db"));
        let from_cargo = alembic_current(&ini);
        let from_alembic = alembic_current(&dir.join("alembic/alembic.ini"));
        compared += 1;
        if from_cargo != from_alembic {
            failures.push(format!(
                "{}\n`alembic current` on cargo revise's database: {from_cargo:?}\n\
                 on Alembic's: {from_alembic:?}\n",
                outcome.report()
            ));
        }
    }
    assert!(
        compared > 0,
        "every case diverged; see random_graphs_match_alembic"
    );
    assert!(
        failures.is_empty(),
        "`alembic current` read cargo revise's database differently:\n{}",
        failures.join("\n")
    );
}

/// Runs `cargo revise up` on `workspace` against the SQLite file `db` and insists it works.
fn revise_up_succeeds(workspace: &std::path::Path, db: &std::path::Path) {
    let output = cargo_revise_on(cargo_revise(), workspace, db, &strings(&["up"]));
    assert!(
        output.status.success(),
        "cargo revise up failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// audit a1 ← a2 ← a3; billing b1 ← b2 ← b3, where b2 depends on a2: billing waits for
/// audit, the shape in which Alembic leaves a row next to one of its descendants.
fn audit_and_billing() -> Graph {
    Graph::from_spec(
        &["audit", "billing"],
        &[
            ("audit", "a1", &[], &[]),
            ("audit", "a2", &["a1"], &[]),
            ("audit", "a3", &["a2"], &[]),
            ("billing", "b1", &[], &[]),
            ("billing", "b2", &["b1"], &["a2"]),
            ("billing", "b3", &["b2"], &[]),
        ],
    )
}

fn sorted(lines: &[String]) -> Vec<String> {
    let mut lines = lines.to_vec();
    lines.sort();
    lines
}

/// What both tools print about one database: `current`, `-v current` and `history -i`
/// (with `-r current:` and `-r :current`) of `cargo revise` against Alembic's, recorded by
/// the driver right after `step`; `rows` and `listed` are what Alembic must have left and
/// listed. Returns `cargo revise current`'s lines.
fn assert_reads_as_alembic(
    step: &revise_tests::alembic::AlembicStep,
    workspace: &Path,
    url: &str,
    rows: &[&str],
    listed: &[&str],
    context: &str,
) {
    assert_eq!(step.status, "ok", "{context}: {step:?}");
    assert_eq!(step.state.rows, rows, "{context}: Alembic's rows");
    let alembic_current = step.current.as_deref().expect("current was asked for");
    assert_eq!(
        sorted(alembic_current),
        listed,
        "{context}: `alembic current`"
    );
    let current = cargo_current(cargo_revise(), workspace, url, false);
    let verbose = cargo_current(cargo_revise(), workspace, url, true);
    assert_eq!(
        sorted(&current),
        sorted(alembic_current),
        "{context}: `cargo revise current` against `alembic current` (Alembic prints them in \
         the order of a Python set, so both are sorted)"
    );
    assert!(
        step.current_verbose.is_some() && current_agrees(step, &current, Some(&verbose)),
        "{context}: `cargo revise -v current` printed {verbose:#?}, Alembic {:#?}",
        step.current_verbose
    );
    let history = cargo_history(cargo_revise(), workspace, url);
    let alembic_history = step.history.as_ref().expect("history was asked for");
    assert_eq!(
        history.marked_current(),
        alembic_history.marked_current(),
        "{context}: the revisions `history -i` marks (current)"
    );
    assert_eq!(history.marked_current(), rows, "{context}: only the rows");
    assert!(
        history_agrees(alembic_history, &history),
        "{context}: `history -r current:`:\n{history:#?}\nAlembic: {alembic_history:#?}"
    );
}

/// Alembic migrates one database through downgrades across `Depends On` and two stamps;
/// after every command `cargo revise current` (with and without `-v`) and `history -i` read
/// that same database and must print what `alembic current` and `alembic history -i` print.
/// Where Alembic's `upgrade heads` works, `check` must name exactly what it runs, and `up`
/// must report every row and end where it ends; where it refuses (a row that another row
/// needs), `up` refuses alike and `current` says why. On SQLite, PostgreSQL and MariaDB.
#[test]
fn current_and_history_read_alembic_databases_as_alembic_does_on_every_backend() {
    let graph = audit_and_billing();
    let commands = [
        Command::up("heads"),
        Command::down("audit@-1"),
        Command::down("billing@-1"),
    ];
    // What Alembic leaves after each command, and what its `current` lists: a2 is applied
    // only because b2 depends on it, and is listed without being a row.
    let expected: [(&[&str], &[&str]); 3] = [
        (&["a3", "b3"], &["a3 (head)", "b3 (head)"]),
        (&["b3"], &["a2", "b3 (head)"]),
        (&["b2"], &["a2", "b2"]),
    ];
    // Stamps that leave a row next to a descendant of it: a2 next to b3, which needs it
    // through b2's `Depends On` (listed by both tools), and a1 next to a3, which revises it
    // by way of a2 (listed by neither).
    let stamps: [(&[&str], &[&str], &[&str]); 2] = [
        (&["b3", "a2"], &["a2", "b3 (head)"], &["a2", "b3"]),
        (&["a3", "a1"], &["a3 (head)"], &["a1", "a3"]),
    ];
    // The backends in parallel: most of the time goes into starting Python and waiting
    // for the servers.
    std::thread::scope(|scope| {
        for backend in Backend::ALL {
            let (graph, commands, expected, stamps) = (&graph, &commands, &expected, &stamps);
            scope.spawn(move || {
                if backend.skip("current_and_history_read_alembic_databases_as_alembic_does") {
                    return;
                }
                let work = work_dir("revise-current-parity-");
                let dir = work.path();
                let workspace = dir.join("workspace");
                graph.write_workspace(&workspace);
                let shared = TestDb::new(backend, dir);
                let reference = TestDb::new(backend, &dir.join("reference"));
                let url = shared.url();
                // Alembic's project `name` on the database `db`.
                let job = |db: &TestDb, name: &str, commands: Vec<Command>, keep_db: bool| AlembicJob {
                    graph,
                    dir: dir.join(name),
                    db: match db {
                        TestDb::Sqlite { path } => path.clone(),
                        _ => dir.join(format!("{name}.db")),
                    },
                    url: (backend != Backend::Sqlite).then(|| db.url()),
                    commands,
                    keep_db,
                };
                let mut runs = 0;
                let mut on_shared = |command: Command| {
                    runs += 1;
                    alembic_batch(
                        &[job(&shared, "alembic", vec![command], runs > 1)],
                        &dir.join(format!("driver-{runs}")),
                    )
                    .remove(0)
                    .remove(0)
                };
                for (command, &(rows, listed)) in commands.iter().zip(expected) {
                    let step = on_shared(command.clone());
                    let context = format!("{backend}, after `{command}`");
                    assert_reads_as_alembic(&step, &workspace, &url, rows, listed, &context);
                    let out = cargo_revise_at(cargo_revise(), &workspace, &url, &["current"]);
                    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{context}");
                }

                // Alembic alone on a database of its own: the same commands, then `upgrade heads`.
                let mut all = commands.to_vec();
                all.push(Command::up("heads"));
                let reference_steps = alembic_batch(
                    &[job(&reference, "reference", all, false)],
                    &dir.join("driver-reference"),
                )
                .remove(0);
                let (before, after) = (
                    &reference_steps[commands.len() - 1],
                    &reference_steps[commands.len()],
                );
                assert_eq!(after.status, "ok", "{backend}: {after:?}");
                // The log entries the last command added (the log keeps every run's).
                let mut earlier = before.state.log.clone();
                let ran_by_alembic: Vec<String> = after
                    .state
                    .log
                    .iter()
                    .filter(|entry| match earlier.iter().position(|e| e == *entry) {
                        Some(i) => {
                            earlier.remove(i);
                            false
                        }
                        None => true,
                    })
                    .filter_map(|entry| entry.strip_prefix('+').map(str::to_owned))
                    .collect();
                assert_eq!(ran_by_alembic, ["a3", "b3"], "{backend}");

                // `check` names exactly what Alembic's `upgrade heads` runs from there.
                let check = cargo_revise_at(
                    cargo_revise(),
                    &workspace,
                    &url,
                    &["check", "--format", "json"],
                );
                assert_eq!(check.status.code(), Some(1), "{backend}: {check:?}");
                let verdict: serde_json::Value =
                    serde_json::from_slice(&check.stdout).expect("check's JSON");
                let mut pending: Vec<String> =
                    serde_json::from_value(verdict["pending"].clone()).expect("a list of ids");
                pending.sort();
                assert_eq!(
                    pending, ran_by_alembic,
                    "{backend}: `check` against Alembic's `upgrade heads`"
                );

                // `up`'s report names the row (not a2, which is applied but no row), and `up` ends
                // where Alembic's `upgrade heads` ends.
                let up = cargo_revise_at(cargo_revise(), &workspace, &url, &["up"]);
                let report = String::from_utf8_lossy(&up.stdout);
                assert!(up.status.success(), "{backend}: {up:?}");
                assert!(
                    report.contains("Current database version: b2\nRunning 2 pending migration(s)..."),
                    "{backend}: {report}"
                );
                assert_eq!(
                    shared.version_rows(),
                    after.state.rows,
                    "{backend}: rows after `up`"
                );
                let current = cargo_current(cargo_revise(), &workspace, &url, false);
                assert_eq!(
                    sorted(&current),
                    sorted(after.current.as_deref().expect("current was asked for")),
                    "{backend}: `current` once up to date"
                );

                for &(revisions, listed, rows) in stamps {
                    let stamp = Command::Stamp {
                        revisions: strings(revisions),
                        purge: true,
                    };
                    let step = on_shared(stamp.clone());
                    let context = format!("{backend}, after `{stamp}`");
                    assert_reads_as_alembic(&step, &workspace, &url, rows, listed, &context);
                    // `current` says which row another row needs and how to tidy the table.
                    let out = cargo_revise_at(cargo_revise(), &workspace, &url, &["current"]);
                    let warning = String::from_utf8_lossy(&out.stderr);
                    let needed = rows[0];
                    let latest = rows[1];
                    assert!(
                        warning.contains(&format!(
                            "{needed} is a row although the row {latest} needs it"
                        )) && warning.contains(&format!("`cargo revise stamp --purge {latest}`")),
                        "{context}: {warning}"
                    );
                    assert_eq!(
                        warning.contains("is not listed"),
                        !listed.iter().any(|l| l.starts_with(needed)),
                        "{context}: {warning}"
                    );
                    // Alembic's `upgrade heads` refuses to start from there, and so does `up`,
                    // touching nothing.
                    let refused = on_shared(Command::up("heads"));
                    let overlap = format!(
                        "Requested revision {latest} overlaps with other requested revisions {needed}"
                    );
                    assert!(
                        refused
                            .error
                            .as_deref()
                            .unwrap_or_default()
                            .contains(&overlap),
                        "{context}: {refused:?}"
                    );
                    let up = cargo_revise_at(cargo_revise(), &workspace, &url, &["up"]);
                    assert_eq!(up.status.code(), Some(2), "{context}: {up:?}");
                    assert!(
                        String::from_utf8_lossy(&up.stderr).contains(&overlap),
                        "{context}: {up:?}"
                    );
                    assert_eq!(shared.version_rows(), rows, "{context}");
                }
            });
        }
    });
}
