//! `cargo revise check`: every file and the graph, lints, and, with a database, whether it
//! is up to date (exit 1 when it is not).

use revise_runtime::backend::connect_existing;
use revise_runtime::graph::Node;
use revise_runtime::plan;
use revise_runtime::run_log::{self, DriftRecords, DriftReport, LogChecks, LogRecord};
use revise_runtime::{NodeSet, RevisionGraph, Target};
use serde_json::json;

use crate::cli::{CheckArgs, Format};
use crate::error::CliError;
use crate::settings;

use super::{ids, Context};

/// `check --fleet NAME`: every database, exit 1 when any is behind or unreachable.
pub fn run_fleet(context: &Context, args: &CheckArgs) -> Result<(), CliError> {
    super::fleet::run(
        context,
        super::fleet::FleetCommand {
            selection: &args.fleet,
            run: None,
            operation: revise_runtime::fleet::Operation::Check,
            format: args.format,
            lock_timeout: std::time::Duration::from_secs(60),
        },
    )
}

/// Validates and reports; fails with status 1 when revisions are pending.
pub fn run(context: &Context, args: &CheckArgs) -> Result<(), CliError> {
    // A database is optional: without any URL, check only the files.
    let database = settings::configured_database_url(&context.global, &context.workspace);
    let pending = match &database {
        Ok(Some(_)) => Some(context.start_reading_rows_and_log()),
        _ => None,
    };
    let graph = context.read_graph()?;
    let warnings = redundant_parents(graph);
    let members = graph
        .labels()
        .filter(|(_, owner)| graph.revises(*owner).is_empty())
        .count();
    let database = database?;
    let mut log = None;
    let pending: Option<Vec<Node>> = match pending {
        Some(pending) => {
            let (rows, read) = pending.nodes_and_log(graph)?;
            let goal = plan::upgrade_goal(graph, &rows, &Target::Heads, "heads")
                .map_err(|e| CliError::failed(e.to_string()))?;
            let applied = graph.ancestors_inclusive(rows.iter().copied());
            if let Some(table) = settings::log_table(&context.workspace)? {
                let mut findings = LogFindings::new(graph, &applied, read);
                if let (false, Some(setting)) = (findings.drift.is_clean(), &database) {
                    // When and how each changed file was recorded: read for those alone.
                    if let Some(mut conn) = connect_existing(&setting.url)? {
                        findings.records = findings.drift.records(&mut conn, &table)?;
                    }
                }
                log = Some(findings);
            }
            Some(
                plan::plan_upgrade(graph, &rows, &goal)
                    .steps
                    .iter()
                    .map(|s| s.node)
                    .collect(),
            )
        }
        None => None,
    };
    let log = log.unwrap_or_default();
    match args.format {
        Format::Json | Format::Jsonl => context.printer.json(&json!({
            "revisions": graph.len(),
            "members": members,
            "heads": ids(graph, &graph.heads()),
            "warnings": warnings,
            "database": database.as_ref().map(|d| d.url.to_string()),
            "pending": pending.as_ref().map(|p| ids(graph, p)),
            "up_to_date": pending.as_ref().map(Vec::is_empty),
            "drifted": log.drift.drifted.iter().map(|d| {
                let rev = graph.revision(d.node);
                let row = log.records.of(d);
                json!({
                    "revision": rev.id.as_str(),
                    "path": rev.origin.path.display().to_string(),
                    "checksum": rev.checksum.to_string(),
                    "recorded_checksum": d.recorded.checksum.to_string(),
                    "recorded_at": row.map(LogRecord::started_at_seconds),
                    "recorded_by": row.map(|row| row.direction.as_str()),
                })
            }).collect::<Vec<_>>(),
            "unrecorded": ids(graph, &log.drift.unrecorded),
            "unfinished": log.unfinished.iter().map(|r| json!({
                "revision": r.revision,
                "direction": r.direction.as_str(),
                "started_at": r.started_at,
                "user": r.user,
                "host": r.host,
            })).collect::<Vec<_>>(),
        })),
        Format::Human => {
            context.printer.line(format!(
                "Checked {} revision(s) in {members} member(s): no problems found; heads: {}",
                graph.len(),
                ids(graph, &graph.heads()).join(", ")
            ));
            for warning in &warnings {
                context.printer.warning(warning);
            }
            if let (Some(setting), Some(pending)) = (&database, &pending) {
                let from = &setting.url;
                if pending.is_empty() {
                    context
                        .printer
                        .line(format!("Database {from} is up to date"));
                } else {
                    context.printer.line(format!(
                        "Database {from} is not up to date: {} revision(s) pending: {}",
                        pending.len(),
                        ids(graph, pending).join(", ")
                    ));
                }
            }
            if let Some(setting) = &database {
                for line in log.lines(graph, &setting.url) {
                    context.printer.line(line);
                }
            }
        }
    }
    let mut hints = Vec::new();
    if pending.as_ref().is_some_and(|p| !p.is_empty()) {
        hints.push("run `cargo revise up` to apply the pending revisions");
    }
    if !log.drift.drifted.is_empty() {
        hints
            .push("restore each changed file, or record the change with `cargo revise accept REV`");
    }
    if !log.unfinished.is_empty() {
        hints.push("check what the unfinished step left, then run `cargo revise repair`");
    }
    if hints.is_empty() {
        return Ok(());
    }
    Err(CliError {
        status: crate::error::Status::Failed,
        problems: Vec::new(),
        hint: Some(hints.join("; ")),
    })
}

/// What the run log says about the database: drift, unfinished steps.
#[derive(Default)]
struct LogFindings {
    drift: DriftReport,
    /// When and how each drifted file's checksum was recorded.
    records: DriftRecords,
    unfinished: Vec<LogRecord>,
    /// Whether the database has a run log at all.
    logged: bool,
}

impl LogFindings {
    fn new(graph: &RevisionGraph, applied: &NodeSet, read: Option<LogChecks>) -> Self {
        match read {
            Some(read) => Self {
                drift: run_log::drift(graph, applied, &read.applied),
                records: DriftRecords::default(),
                unfinished: read.unfinished,
                logged: true,
            },
            // No log table: every applied revision ran before the log (or with it off).
            None => Self {
                drift: DriftReport {
                    drifted: Vec::new(),
                    unrecorded: graph
                        .order()
                        .iter()
                        .copied()
                        .filter(|n| applied.contains(n))
                        .collect(),
                },
                records: DriftRecords::default(),
                unfinished: Vec::new(),
                logged: false,
            },
        }
    }

    /// The human lines: one per changed file and unfinished step, and a note about applied
    /// revisions without a checksum (they do not fail `check`).
    fn lines(&self, graph: &RevisionGraph, url: &revise_runtime::DatabaseUrl) -> Vec<String> {
        let mut lines = Vec::new();
        for drifted in &self.drift.drifted {
            let rev = graph.revision(drifted.node);
            let (when, how) = self.records.when_and_how(drifted);
            lines.push(format!(
                "Drift: {} changed since revision {} was {} on {when} (checksum then {}, now {})",
                rev.origin.path.display(),
                rev.id,
                how.recorded_as(),
                drifted.recorded.checksum.short(),
                rev.checksum.short(),
            ));
        }
        for record in &self.unfinished {
            lines.push(format!(
                "Unfinished: revision {} ({}) was started ({}) at {} by {} and never completed; the database may hold part of it",
                record.revision,
                record.path,
                record.direction,
                record.started_at_seconds(),
                record.author(),
            ));
        }
        if !self.drift.unrecorded.is_empty() {
            let shown: Vec<&str> = self
                .drift
                .unrecorded
                .iter()
                .take(5)
                .map(|&n| graph.id(n))
                .collect();
            let more = self.drift.unrecorded.len().saturating_sub(shown.len());
            lines.push(format!(
                "Note: {} applied revision(s) of {url} have no recorded checksum ({}{}), {}; their files cannot be checked for drift until `cargo revise accept REV` records them",
                self.drift.unrecorded.len(),
                shown.join(", "),
                if more > 0 { format!(" and {more} more") } else { String::new() },
                if self.logged {
                    "applied before the run log began"
                } else {
                    "applied before the run log began (the database has no run log yet; the next `up`, `down` or `stamp` starts it)"
                },
            ));
        }
        lines
    }
}

/// Parents that are already ancestors of another parent: Alembic keeps surprising rows for
/// them (ALEMBIC.md), so `check` warns.
fn redundant_parents(graph: &RevisionGraph) -> Vec<String> {
    let mut warnings = Vec::new();
    for node in 0..graph.len() {
        let links: Vec<Node> = graph
            .revises(node)
            .iter()
            .chain(graph.depends_on(node))
            .copied()
            .collect();
        for &link in &links {
            if let Some(&via) = links
                .iter()
                .find(|&&other| other != link && graph.is_ancestor(link, other))
            {
                let rev = graph.revision(node);
                warnings.push(format!(
                    "{}: revision {} lists {} although {} already leads to it; remove the redundant parent",
                    rev.origin.path.display(),
                    rev.id,
                    graph.id(link),
                    graph.id(via)
                ));
            }
        }
    }
    warnings
}
