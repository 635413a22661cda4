//! `cargo revise accept REV...`: record the current checksum of applied files that changed
//! since they ran, so they no longer count as drift.

use std::time::Duration;

use crate::cli::AcceptArgs;
use crate::error::CliError;

use super::Context;

/// Writes one `accept` row per changed file and says what it did.
pub fn run(context: &Context, args: &AcceptArgs) -> Result<(), CliError> {
    let graph = context.workspace.load_graph().map_err(CliError::from)?;
    let setting = context.database()?;
    let mut conn = revise_runtime::connect(&setting.url)?;
    let migrator = context
        .migrator(&graph)?
        .with_lock_timeout(Duration::from_secs(args.lock_timeout));
    let targets: Vec<&str> = args.revisions.iter().map(String::as_str).collect();
    for accepted in migrator.accept(&mut conn, &targets)? {
        let line = match (accepted.recorded, accepted.previous) {
            (false, _) => format!(
                "{} ({}) is unchanged since it ran: nothing to accept",
                accepted.revision, accepted.path
            ),
            (true, Some(previous)) => format!(
                "Accepted {} ({}) as it is now: checksum {} (was {})",
                accepted.revision,
                accepted.path,
                accepted.current.short(),
                previous.short()
            ),
            (true, None) => format!(
                "Accepted {} ({}) as it is now: checksum {} (the run log had none for it)",
                accepted.revision,
                accepted.path,
                accepted.current.short()
            ),
        };
        context.printer.line(line);
    }
    Ok(())
}
