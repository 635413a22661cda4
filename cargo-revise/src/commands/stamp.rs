//! `cargo revise stamp REV...`: set the version table without running any revision.

use crate::cli::StampArgs;
use crate::error::CliError;
use crate::settings;

use super::offline::{self, Offline};
use super::Context;

/// `stamp REV... --fleet NAME`.
pub fn run_fleet(context: &Context, args: &StampArgs) -> Result<(), CliError> {
    if args.sql {
        return Err(CliError::bad_input(
            "--sql writes one script and connects to nothing; it takes no --fleet",
        ));
    }
    super::fleet::run(
        context,
        super::fleet::FleetCommand {
            selection: &args.fleet,
            run: Some(&args.fleet_run),
            operation: revise_runtime::fleet::Operation::Stamp {
                targets: args.revisions.clone(),
                purge: args.purge,
            },
            format: args.format,
            lock_timeout: std::time::Duration::from_secs(60),
        },
    )
}

/// Moves the rows and says from where to where.
pub fn run(context: &Context, args: &StampArgs) -> Result<(), CliError> {
    if args.sql {
        let [target] = args.revisions.as_slice() else {
            return Err(CliError::bad_input(
                "stamp --sql takes one REV (or FROM:TO)",
            ));
        };
        return offline::run(context, Offline::Stamp, target, args.dialect);
    }
    let graph = context.workspace.load_graph().map_err(CliError::from)?;
    let table = settings::version_table(&context.workspace)?;
    let setting = context.database()?;
    let mut conn = revise_runtime::connect(&setting.url)?;
    let migrator = context.migrator(&graph)?;
    let targets: Vec<&str> = args.revisions.iter().map(String::as_str).collect();
    let outcome = migrator.stamp(&mut conn, &targets, args.purge)?;
    let show = |rows: &revise_runtime::NodeSet| {
        let mut ids: Vec<&str> = rows.iter().map(|&n| graph.id(n)).collect();
        ids.sort_unstable();
        if ids.is_empty() {
            "<base>".to_owned()
        } else {
            ids.join(", ")
        }
    };
    context.printer.line(format!(
        "Stamped `{}`: {} -> {}{}",
        table.name(),
        show(&outcome.rows_before),
        show(&outcome.rows_after),
        if args.purge { " (purged first)" } else { "" }
    ));
    Ok(())
}
