//! `cargo revise up` and `down`: load, connect, and let the runtime's migrator run with the
//! terminal report, or record the run for `--format json`.

use std::time::Duration;

use revise_runtime::backend::DatabaseConnection;
use revise_runtime::report::Reporter;
use revise_runtime::revision::Revision;
use revise_runtime::{MigrateError, Migrator, Outcome, RevisionGraph};

use crate::cli::{DownArgs, Format, RunArgs, UpArgs};
use crate::error::CliError;
use crate::output::progress::TerminalReport;
use crate::output::run_json::RunRecord;

use super::offline::{self, Offline};
use super::Context;

/// `up [TARGET]`.
pub fn up(context: &Context, args: &UpArgs) -> Result<(), CliError> {
    let target = up_target(context, args)?;
    if args.run.sql {
        return offline::run(context, Offline::Up, &target, args.run.dialect);
    }
    let graph = context.workspace.load_graph().map_err(CliError::from)?;
    migrate(
        context,
        "up",
        &target,
        &args.run,
        &graph,
        |migrator, conn, report| migrator.upgrade_with(conn, &target, report),
    )
}

/// The target of `up`: as given, else `MEMBER@head` with one `-p MEMBER`, else `heads`.
fn up_target(context: &Context, args: &UpArgs) -> Result<String, CliError> {
    Ok(match (&args.target, context.global.packages.as_slice()) {
        (Some(target), _) => target.clone(),
        (None, [package]) => {
            let member =
                crate::workspace::select_member(&context.workspace, std::slice::from_ref(package))?;
            format!("{}@head", member.label)
        }
        (None, _) => "heads".to_owned(),
    })
}

/// `up [TARGET] --fleet NAME`.
pub fn up_fleet(context: &Context, args: &UpArgs) -> Result<(), CliError> {
    if args.run.sql {
        return Err(CliError::bad_input(
            "--sql writes one script and connects to nothing; it takes no --fleet",
        ));
    }
    let target = up_target(context, args)?;
    super::fleet::run(
        context,
        super::fleet::FleetCommand {
            selection: &args.fleet,
            run: Some(&args.fleet_run),
            operation: revise_runtime::fleet::Operation::Up(target),
            format: args.run.format,
            lock_timeout: Duration::from_secs(args.run.lock_timeout),
        },
    )
}

/// `down TARGET --fleet NAME`: the target is required, since `-1` from different rows on
/// different databases is rarely what a fleet means.
pub fn down_fleet(context: &Context, args: &DownArgs) -> Result<(), CliError> {
    if args.run.sql {
        return Err(CliError::bad_input(
            "--sql writes one script and connects to nothing; it takes no --fleet",
        ));
    }
    let Some(target) = args.target.clone() else {
        return Err(CliError::bad_input(
            "down --fleet needs an explicit TARGET (a revision, LABEL@ID or base): each database may stand elsewhere, so the default `-1` is not taken",
        ));
    };
    super::fleet::run(
        context,
        super::fleet::FleetCommand {
            selection: &args.fleet,
            run: Some(&args.fleet_run),
            operation: revise_runtime::fleet::Operation::Down(target),
            format: args.run.format,
            lock_timeout: Duration::from_secs(args.run.lock_timeout),
        },
    )
}

/// `down [TARGET]`. Revisions whose files are gone are reverted with the down sections the
/// run log kept, after saying so and asking (or with `--yes`).
pub fn down(context: &Context, args: &DownArgs) -> Result<(), CliError> {
    let target = args.target.clone().unwrap_or_else(|| "-1".to_owned());
    if args.run.sql {
        return offline::run(context, Offline::Down, &target, args.run.dialect);
    }
    let files = context.workspace.load_graph().map_err(CliError::from)?;
    let setting = context.database()?;
    let from_log = match revise_runtime::backend::connect_existing(&setting.url)? {
        Some(mut conn) => context.migrator(&files)?.revisions_from_log(&mut conn)?,
        None => Vec::new(),
    };
    let graph = if from_log.is_empty() {
        files
    } else {
        let mut revisions = files.revisions().to_vec();
        revisions.extend(from_log.iter().cloned());
        let graph = RevisionGraph::build(revisions)
            .map_err(|e| CliError::from(revise_runtime::source::LoadErrors::from(e)))?;
        confirm_down_from_log(context, &graph, &from_log, &target, args.yes)?;
        graph
    };
    migrate(
        context,
        "down",
        &target,
        &args.run,
        &graph,
        |migrator, conn, report| migrator.downgrade_with(conn, &target, report),
    )
}

/// Says which revisions `down` will revert from the run log's down sections, and asks on a
/// terminal; without one, `--yes` must have been given.
fn confirm_down_from_log(
    context: &Context,
    graph: &RevisionGraph,
    from_log: &[Revision],
    target: &str,
    yes: bool,
) -> Result<(), CliError> {
    let setting = context.database()?;
    let mut conn = revise_runtime::connect(&setting.url)?;
    let steps = context
        .migrator(graph)?
        .downgrade_steps(&mut conn, target)?;
    let gone: Vec<&Revision> = steps
        .iter()
        .map(|&n| graph.revision(n))
        .filter(|r| from_log.iter().any(|g| g.id == r.id))
        .collect();
    if gone.is_empty() {
        return Ok(());
    }
    for revision in &gone {
        let how = match &revision.down {
            Some(_) => {
                "its down section comes from the run log, as it was when the revision was applied"
            }
            None => "the run log says it has no down section, so it cannot be reverted",
        };
        context.printer.warning(format!(
            "the file of revision {} ({}) is gone; {how}",
            revision.id,
            revision.origin.path.display()
        ));
    }
    if yes || gone.iter().any(|r| r.down.is_none()) {
        // An irreversible revision fails in the planner, before anything runs.
        return Ok(());
    }
    let ids: Vec<&str> = gone.iter().map(|r| r.id.as_str()).collect();
    let question = format!(
        "Revert {} with the down section(s) kept in the run log? [y/N] ",
        ids.join(", ")
    );
    super::confirm::ask(
        &question,
        &format!("refusing to revert {} from the run log", ids.join(", ")),
        "pass -y (--yes) to revert them without asking",
    )
    .map_err(|refused| match refused {
        super::confirm::Refused::NotATerminal(e) => e,
        super::confirm::Refused::Declined => CliError::failed(format!(
            "nothing was reverted: the answer was not `y` ({} kept)",
            ids.join(", ")
        )),
    })
}

fn migrate(
    context: &Context,
    command: &str,
    target: &str,
    run: &RunArgs,
    graph: &RevisionGraph,
    action: impl FnOnce(
        &Migrator<'_>,
        &mut DatabaseConnection,
        &mut dyn Reporter,
    ) -> Result<Outcome, MigrateError>,
) -> Result<(), CliError> {
    let setting = context.database()?;
    let migrator = context
        .migrator(graph)?
        .with_lock_timeout(Duration::from_secs(run.lock_timeout));
    if run.format == Format::Json {
        // Once the database is known, every outcome is a document, failures included.
        let mut record = RunRecord::default();
        let result = revise_runtime::connect(&setting.url)
            .map_err(MigrateError::from)
            .and_then(|mut conn| action(&migrator, &mut conn, &mut record));
        context
            .printer
            .json(&record.document(command, target, &setting.url, &result));
        return result.map(|_| ()).map_err(CliError::from);
    }
    if context.printer.verbose > 0 {
        context.printer.line(format!(
            "Database: {} (from {})",
            setting.url, setting.source
        ));
    }
    let mut conn = revise_runtime::connect(&setting.url)?;
    let mut report = TerminalReport::new(&context.printer);
    action(&migrator, &mut conn, &mut report)?;
    Ok(())
}
