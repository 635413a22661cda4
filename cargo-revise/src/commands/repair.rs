//! `cargo revise repair [REV]`: mark a step that a dead run left unfinished as resolved.

use std::time::Duration;

use crate::cli::RepairArgs;
use crate::error::CliError;

use super::Context;

/// Resolves the unfinished step(s) and says what comes next.
pub fn run(context: &Context, args: &RepairArgs) -> Result<(), CliError> {
    let graph = context
        .workspace
        .load_graph_without_sql()
        .map_err(CliError::from)?;
    let setting = context.database()?;
    let mut conn = revise_runtime::connect(&setting.url)?;
    let migrator = context
        .migrator(&graph)?
        .with_lock_timeout(Duration::from_secs(args.lock_timeout));
    let resolved = migrator.repair(&mut conn, args.revision.as_deref())?;
    if resolved.is_empty() {
        context
            .printer
            .line("Nothing to repair: the run log has no unfinished step");
        return Ok(());
    }
    for record in &resolved {
        context.printer.line(format!(
            "Marked the unfinished {} of revision {} (started {} by {}) as resolved",
            record.direction,
            record.revision,
            record.started_at_seconds(),
            record.author()
        ));
    }
    context.printer.line(
        "The version table did not move: `cargo revise up` runs the revision again; if you completed it by hand, `cargo revise stamp REV` records that instead",
    );
    Ok(())
}
