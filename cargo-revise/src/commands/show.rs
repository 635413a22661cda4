//! `cargo revise show REV`: one revision in full.

use crate::cli::{Format, ShowArgs};
use crate::error::CliError;

use super::{history::verbose_entry, revision_json, Context};

/// Prints the revision `REV` names (an id, a unique prefix, a label, `head`, `LABEL@head`).
pub fn run(context: &Context, args: &ShowArgs) -> Result<(), CliError> {
    let graph = context.read_graph()?;
    let node = revise_runtime::target::resolve_single(graph, &args.rev)
        .map_err(|e| CliError::bad_input(e.to_string()))?;
    match args.format {
        Format::Json | Format::Jsonl => context.printer.json(&revision_json(graph, node)),
        Format::Human => context
            .printer
            .line(verbose_entry(graph, node, false).trim_end()),
    }
    Ok(())
}
