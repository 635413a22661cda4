//! `up`, `down`, `stamp`, `current` and `check` with `--fleet`, and `fleet list`: resolve
//! the fleets, narrow them (`--db`, `--partition`, `--retry`), and let the runtime's
//! scheduler run the operation with the fleet output as its observer.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use revise_runtime::fleet::{
    self, DatabaseWork, FleetEntry, FleetError, FleetGraphs, FleetObserver, FleetSummary,
    Operation, Resolver, Schedule, Secrets, Selection, StopSignal, Totals,
};

use crate::cli::{FleetArgs, FleetRunArgs, Format};
use crate::error::{CliError, Status};
use crate::output::fleet::FleetOutput;
use crate::settings;

use super::Context;

/// A fleet run of one command.
pub struct FleetCommand<'a> {
    /// Which databases.
    pub selection: &'a FleetArgs,
    /// How `up`, `down` and `stamp` proceed (`None` for `current` and `check`).
    pub run: Option<&'a FleetRunArgs>,
    /// What to do on each.
    pub operation: Operation,
    /// The output format.
    pub format: Format,
    /// `--lock-timeout`.
    pub lock_timeout: Duration,
}

impl From<FleetError> for CliError {
    fn from(error: FleetError) -> Self {
        let hint = match &error {
            FleetError::UnknownFleet { .. } => Some(
                "declare it as [workspace.metadata.revise.fleet.NAME] in the workspace's Cargo.toml",
            ),
            FleetError::Catalog { .. } => Some("nothing ran; check the catalog database"),
            _ => None,
        };
        let cli = if error.is_bad_input() {
            CliError::bad_input(error.to_string())
        } else {
            CliError::failed(error.to_string())
        };
        match hint {
            Some(hint) => cli.with_hint(hint),
            None => cli,
        }
    }
}

/// Runs `command` over the selected fleets; the exit status follows SPEC section 11.
pub fn run(context: &Context, command: FleetCommand<'_>) -> Result<(), CliError> {
    let selection = command.selection;
    if selection.jobs == 0 || selection.per_host == 0 {
        return Err(CliError::bad_input(
            "--jobs and --per-host must be at least 1",
        ));
    }
    let plan = command.run.is_some_and(|r| r.plan);
    let retry = match command.run.and_then(|r| r.retry.as_deref()) {
        Some(path) => Some(fleet::read_summary(path)?),
        None => None,
    };
    let names = fleet_names(context, selection, retry.as_ref());
    let graph = context.workspace.load_graph().map_err(CliError::from)?;
    let mut chosen = Selection::default()
        .with_patterns(&selection.databases)
        .map_err(CliError::bad_input)?;
    chosen.partition = selection.partition;
    if let Some(summary) = &retry {
        chosen = chosen.with_retry(summary);
    }
    let entries = chosen.apply(resolve(context, &names, selection.connect_timeout)?);
    if entries.is_empty() {
        context.printer.warning(format!(
            "no database to run on: fleet(s) {} list none{}",
            names.join(", "),
            if retry.is_some() || !selection.databases.is_empty() || selection.partition.is_some() {
                " that --db, --partition or --retry keep"
            } else {
                ""
            }
        ));
    }
    let graphs = FleetGraphs::build(&context.workspace, graph, &entries)?;
    let work = Arc::new(DatabaseWork {
        graphs,
        operation: command.operation.clone(),
        plan,
        version_table: settings::version_table(&context.workspace)?,
        lock_timeout: command.lock_timeout,
        connect_timeout: Duration::from_secs(selection.connect_timeout.max(1)),
    });
    let schedule = Schedule {
        jobs: selection.jobs,
        per_host: selection.per_host,
        canary: match command.run {
            Some(run) if command.operation.changes_databases() && !plan => run.canary,
            _ => 0,
        },
        fail_fast: command.run.is_some_and(|r| r.fail_fast),
        max_failures: command.run.and_then(|r| r.max_failures),
    };
    let output = Arc::new(FleetOutput::new(&context.printer, command.format, &entries));
    let stop = StopSignal::new();
    listen_for_interrupts(&stop, &output);
    output.begin(command.operation.command(), &names, entries.len());
    let started_at = fleet::now_rfc3339();
    let started = Instant::now();
    let observer: Arc<dyn FleetObserver> = output.clone();
    let result = schedule.run(entries, work, observer, stop.clone());
    let interrupted = stop.requests() > 0;
    let summary = FleetSummary {
        schema_version: 1,
        command: command.operation.command().to_owned(),
        target: command.operation.target(),
        plan,
        fleets: names.clone(),
        started_at,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        jobs: selection.jobs,
        per_host: selection.per_host,
        interrupted_by_signal: interrupted,
        totals: Totals::count(result.records.iter().map(|r| r.status)),
        databases: result.records,
    };
    let summary_file = if command.operation.changes_databases() && !plan {
        write_summary(context, &summary)
    } else {
        None
    };
    let retry_hint = summary_file
        .as_ref()
        .filter(|_| !summary.success())
        .map(|path| retry_command(&command, &names, path));
    output.end(&summary, summary_file.as_deref(), retry_hint.as_deref());
    if interrupted {
        return Err(CliError {
            status: Status::Interrupted,
            problems: Vec::new(),
            hint: None,
        });
    }
    if summary.success() {
        Ok(())
    } else {
        Err(CliError {
            status: Status::Failed,
            problems: Vec::new(),
            hint: None,
        })
    }
}

/// `fleet list NAME...`: the resolved entries; nothing is touched but a `sql` fleet's
/// catalog, which is read.
pub fn list(
    context: &Context,
    names: &[String],
    connect_timeout: u64,
    format: Format,
) -> Result<(), CliError> {
    let names = if names.is_empty() {
        context.workspace.config.fleet.keys().cloned().collect()
    } else {
        names.to_vec()
    };
    let entries = resolve(context, &names, connect_timeout)?;
    match format {
        Format::Json => context.printer.json(&serde_json::json!({
            "fleets": names,
            "databases": entries.iter().map(entry_json).collect::<Vec<_>>(),
        })),
        Format::Jsonl => {
            for entry in &entries {
                crate::output::stream::stdout_line(&entry_json(entry).to_string());
            }
        }
        Format::Human => {
            let width = entries.iter().map(|e| e.id.len()).max().unwrap_or(0);
            context.printer.lines(entries.iter().map(|entry| {
                let mut line = format!("{:<width$}  {:<12} {}", entry.id, entry.fleet, entry.url);
                if let Some(schema) = &entry.schema {
                    line.push_str(&format!(" (schema {schema})"));
                }
                if let Some(packages) = &entry.packages {
                    line.push_str(&format!(" [packages: {}]", packages.join(", ")));
                }
                line
            }));
            context.printer.line(format!(
                "{} database(s) in {} fleet(s)",
                entries.len(),
                names.len()
            ));
        }
    }
    Ok(())
}

fn entry_json(entry: &FleetEntry) -> serde_json::Value {
    serde_json::json!({
        "id": entry.id,
        "fleet": &*entry.fleet,
        "backend": entry.url.dialect().name(),
        "url": entry.url.to_string(),
        "schema": entry.schema,
        "packages": entry.packages,
        "host": entry.host(),
    })
}

/// The fleets to run: `--fleet` in order; every declared fleet for `--all-fleets`, for
/// `--db` alone, and for `--retry` alone (then the summary's own fleets).
fn fleet_names(
    context: &Context,
    selection: &FleetArgs,
    retry: Option<&FleetSummary>,
) -> Vec<String> {
    if !selection.fleets.is_empty() && !selection.all_fleets {
        return selection.fleets.clone();
    }
    match retry {
        Some(summary) if !selection.all_fleets && selection.databases.is_empty() => {
            summary.fleets.clone()
        }
        _ => context.workspace.config.fleet.keys().cloned().collect(),
    }
}

fn resolve(
    context: &Context,
    names: &[String],
    connect_timeout: u64,
) -> Result<Vec<FleetEntry>, CliError> {
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::failed(format!("cannot read the current directory: {e}")))?;
    let secrets = Secrets::new(
        Some(settings::env_file_path(&context.global, &context.workspace)),
        cwd,
    );
    let resolver = Resolver {
        root: &context.workspace.root,
        declarations: &context.workspace.config.fleet,
        secrets: &secrets,
        connect_timeout: Duration::from_secs(connect_timeout.max(1)),
    };
    Ok(fleet::resolve_fleets(&resolver, names)?)
}

/// The first Ctrl-C (or SIGTERM) drains the run, the second aborts it.
fn listen_for_interrupts(stop: &StopSignal, output: &Arc<FleetOutput>) {
    let stop = stop.clone();
    let output = Arc::clone(output);
    // Only one handler per process; a second fleet run in one process cannot happen.
    let _ = ctrlc::set_handler(move || {
        match stop.request() {
        1 => output.note("Interrupted: starting no more databases; those in flight stop after their current revision (Ctrl-C again closes their connections)"),
        _ => output.note("Interrupted again: closing the connections in flight; their servers roll back the revision they were in"),
    }
    });
}

/// Writes the summary to `target/revise/fleet-last.json`; a failure is a warning, not a
/// failed run (the databases are migrated either way).
fn write_summary(context: &Context, summary: &FleetSummary) -> Option<PathBuf> {
    let dir = context.workspace.revise_dir()?;
    let path = dir.join("fleet-last.json");
    let text = serde_json::to_string_pretty(summary).ok()?;
    let written = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text + "\n"));
    match written {
        Ok(()) => Some(path),
        Err(e) => {
            context.printer.warning(format!(
                "cannot write the fleet summary {}: {e}",
                path.display()
            ));
            None
        }
    }
}

/// The command that retries what did not finish.
fn retry_command(command: &FleetCommand<'_>, names: &[String], path: &Path) -> String {
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_owned))
        .unwrap_or_else(|| path.to_owned());
    let mut text = format!("cargo revise {}", command.operation.command());
    if let Some(target) = command.operation.target() {
        if target != "heads" {
            text.push(' ');
            text.push_str(&target);
        }
    }
    for name in names {
        text.push_str(" --fleet ");
        text.push_str(name);
    }
    text.push_str(" --retry ");
    text.push_str(&shown.display().to_string());
    text
}
