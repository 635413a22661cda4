//! What a fleet run shows: on a terminal one fleet bar and one bar per database in flight
//! (never more than `--jobs`), each finished database a line above the bars; off a terminal
//! one line per finished database; then the summary. `--format json` prints the summary
//! document only, `jsonl` one JSON object per event as it happens.
//!
//! The observer is called from the scheduler's worker threads; indicatif's bars are
//! thread-safe, and every other write goes through `stream`, which locks per line.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use revise_runtime::fleet::{DbRecord, DbStatus, FleetEntry, FleetObserver, FleetSummary, Totals};
use revise_runtime::report::RunEvent;
use serde_json::json;

use super::{stream, Printer};
use crate::cli::Format;

/// The fleet's output; see the module documentation.
pub struct FleetOutput {
    mode: Mode,
    emoji: bool,
    quiet: bool,
    /// The width ids are padded to, so that lines line up.
    id_width: usize,
    /// Counts so far, for the fleet bar.
    totals: Mutex<Totals>,
    /// Set once the summary is out: anything a straggling worker reports after it (an
    /// aborted run leaves its threads behind) is dropped.
    closed: AtomicBool,
}

enum Mode {
    Bars(Bars),
    Lines,
    Json,
    Jsonl,
}

struct Bars {
    multi: MultiProgress,
    fleet: ProgressBar,
    databases: Mutex<HashMap<String, ProgressBar>>,
}

impl FleetOutput {
    /// The output for `format`, with bars when the printer may draw them.
    pub fn new(printer: &Printer, format: Format, entries: &[FleetEntry]) -> Self {
        let total = entries.len();
        let mode = match format {
            Format::Json => Mode::Json,
            Format::Jsonl => Mode::Jsonl,
            Format::Human if printer.progress => Mode::Bars(Bars::new(total)),
            Format::Human => Mode::Lines,
        };
        Self {
            mode,
            emoji: printer.emoji,
            quiet: printer.quiet,
            id_width: entries
                .iter()
                .map(|e| e.id.len())
                .max()
                .unwrap_or(0)
                .min(24),
            totals: Mutex::new(Totals::default()),
            closed: AtomicBool::new(false),
        }
    }

    /// The run starts.
    pub fn begin(&self, command: &str, fleets: &[String], total: usize) {
        if let Mode::Jsonl = self.mode {
            stream::stdout_line(
                &json!({"event": "fleet_started", "command": command, "fleets": fleets, "databases": total})
                    .to_string(),
            );
        }
    }

    /// A note from outside the run (Ctrl-C), on standard error, above the bars.
    pub fn note(&self, text: &str) {
        match &self.mode {
            Mode::Bars(bars) => {
                let _ = bars.multi.println(text);
            }
            _ => stream::stderr_line(text),
        }
    }

    /// The run ended: clear the bars, print the summary (or the document).
    pub fn end(&self, summary: &FleetSummary, file: Option<&Path>, retry: Option<&str>) {
        self.closed.store(true, Ordering::SeqCst);
        match &self.mode {
            Mode::Bars(bars) => {
                bars.clear();
                self.print_summary(summary, file, retry);
            }
            Mode::Lines => self.print_summary(summary, file, retry),
            Mode::Json => {
                let text = serde_json::to_string_pretty(summary).unwrap_or_default();
                stream::stdout_line(&text);
            }
            Mode::Jsonl => stream::stdout_line(
                &json!({
                    "event": "fleet_finished",
                    "command": summary.command,
                    "duration_ms": summary.duration_ms,
                    "interrupted_by_signal": summary.interrupted_by_signal,
                    "totals": summary.totals,
                    "summary_file": file.map(|p| p.display().to_string()),
                })
                .to_string(),
            ),
        }
    }

    fn icon(&self, status: DbStatus) -> &'static str {
        if !self.emoji {
            return "";
        }
        match status {
            DbStatus::Migrated | DbStatus::UpToDate => "✅ ",
            DbStatus::Behind => "⏳ ",
            DbStatus::Planned => "📋 ",
            DbStatus::Failed => "❌ ",
            DbStatus::Unreachable => "🔌 ",
            DbStatus::Locked => "🔒 ",
            DbStatus::Skipped => "⏭️  ",
            DbStatus::Interrupted => "⏸️  ",
        }
    }

    /// One finished database on one line.
    pub fn result_line(&self, record: &DbRecord) -> String {
        let status = record.status.name().replace('_', " ");
        let detail = match record.status {
            DbStatus::Migrated => format!(
                "{status}  {} revision(s)  {}  now at {}",
                record.applied.len(),
                seconds(record.duration_ms),
                rows(record.rows_after.as_deref())
            ),
            DbStatus::UpToDate => format!("{status}  at {}", rows(record.rows_after.as_deref())),
            DbStatus::Behind => format!(
                "{status}  {} pending ({})  at {}",
                record.pending.len(),
                record.pending.join(", "),
                rows(record.rows_after.as_deref())
            ),
            DbStatus::Planned if record.pending.is_empty() => format!(
                "{status}  nothing to run  at {}",
                rows(record.rows_before.as_deref())
            ),
            DbStatus::Planned => format!(
                "{status}  would run {}: {}",
                record.pending.len(),
                record.pending.join(", ")
            ),
            DbStatus::Failed => {
                let mut text = status;
                if let Some(error) = &record.error {
                    if let (Some(revision), Some(file)) = (&error.revision, &error.file) {
                        text.push_str(&format!(
                            " at {revision} ({file}:{})",
                            error.line.unwrap_or(1)
                        ));
                    }
                    text.push_str(": ");
                    text.push_str(&error.message);
                }
                if let Some(after) = &record.rows_after {
                    text.push_str(&format!("; left at {}", rows(Some(after))));
                }
                text
            }
            DbStatus::Interrupted => format!(
                "{status} after {} revision(s); left at {}",
                record.applied.len(),
                rows(record.rows_after.as_deref())
            ),
            DbStatus::Unreachable | DbStatus::Locked | DbStatus::Skipped => format!(
                "{status}: {}",
                record.error.as_ref().map_or("", |e| e.message.as_str())
            ),
        };
        format!(
            "{}{:<width$}  {detail}",
            self.icon(record.status),
            record.id,
            width = self.id_width
        )
    }

    fn print_summary(&self, summary: &FleetSummary, file: Option<&Path>, retry: Option<&str>) {
        let mut lines = Vec::new();
        if !self.quiet {
            lines.push(String::new());
            lines.push(format!(
                "Fleet run `{}{}{}`: {} database(s) in {} (jobs {}, per host {})",
                summary.command,
                summary
                    .target
                    .as_ref()
                    .map_or_else(String::new, |t| format!(" {t}")),
                if summary.plan { " --plan" } else { "" },
                summary.totals.databases,
                seconds(summary.duration_ms),
                summary.jobs,
                summary.per_host
            ));
            lines.push(format!("  {}", counts(&summary.totals)));
        }
        let not_done = summary.not_done();
        if !not_done.is_empty() {
            lines.push(
                if summary.command == "current" || summary.command == "check" {
                    "Not up to date:"
                } else {
                    "Did not finish:"
                }
                .to_owned(),
            );
            let width = not_done.iter().map(|r| r.id.len()).max().unwrap_or(0);
            // Many databases skipped for one reason read better as one line.
            let mut skipped: BTreeMap<String, Vec<&str>> = BTreeMap::new();
            for record in not_done {
                if record.status == DbStatus::Skipped {
                    let reason = record.error.as_ref().map_or("", |e| e.message.as_str());
                    skipped
                        .entry(reason.to_owned())
                        .or_default()
                        .push(&record.id);
                    continue;
                }
                let line = self.result_line(record);
                let line = line.strip_prefix(self.icon(record.status)).unwrap_or(&line);
                let (id, rest) = line.split_once("  ").unwrap_or((line, ""));
                lines.push(format!(
                    "  {:<width$}  {}",
                    id.trim_end(),
                    rest.trim_start()
                ));
            }
            for (reason, ids) in skipped {
                let shown = if ids.len() > 5 {
                    format!("{}, ... and {} more", ids[..5].join(", "), ids.len() - 5)
                } else {
                    ids.join(", ")
                };
                lines.push(format!("  skipped {} ({shown}): {reason}", ids.len()));
            }
        }
        if let Some(file) = file {
            let shown = std::env::current_dir()
                .ok()
                .and_then(|cwd| file.strip_prefix(cwd).ok().map(Path::to_owned))
                .unwrap_or_else(|| file.to_owned());
            match retry {
                Some(retry) => {
                    let count = summary
                        .databases
                        .iter()
                        .filter(|r| !r.status.finished())
                        .count();
                    lines.push(format!(
                        "Summary written to {}; retry the {count} that did not finish:",
                        shown.display()
                    ));
                    lines.push(format!("  {retry}"));
                }
                None if !self.quiet => {
                    lines.push(format!("Summary written to {}", shown.display()));
                }
                None => {}
            }
        }
        stream::stdout_lines(lines);
    }

    fn update_fleet_bar(&self, status: DbStatus) {
        let mut totals = self.totals.lock().unwrap_or_else(|e| e.into_inner());
        totals.add(status);
        if let Mode::Bars(bars) = &self.mode {
            bars.fleet.inc(1);
            bars.fleet.set_message(counts(&totals));
        }
    }
}

impl FleetObserver for FleetOutput {
    fn started(&self, entry: &FleetEntry) {
        if self.closed.load(Ordering::SeqCst) {
            return;
        }
        match &self.mode {
            Mode::Bars(bars) => bars.start(entry),
            Mode::Jsonl => stream::stdout_line(
                &json!({"event": "db_started", "id": entry.id, "fleet": &*entry.fleet, "url": entry.url.to_string()})
                    .to_string(),
            ),
            Mode::Lines | Mode::Json => {}
        }
    }

    fn event(&self, entry: &FleetEntry, event: &RunEvent) {
        if self.closed.load(Ordering::SeqCst) {
            return;
        }
        match &self.mode {
            Mode::Bars(bars) => bars.event(entry, event),
            Mode::Jsonl => {
                if let RunEvent::StepFinished {
                    revision, elapsed, ..
                } = event
                {
                    stream::stdout_line(
                        &json!({
                            "event": "revision_applied",
                            "id": entry.id,
                            "revision": revision.id,
                            "duration_ms": elapsed.as_millis() as u64,
                        })
                        .to_string(),
                    );
                }
            }
            Mode::Lines | Mode::Json => {}
        }
    }

    fn finished(&self, record: &DbRecord) {
        if self.closed.load(Ordering::SeqCst) {
            return;
        }
        self.update_fleet_bar(record.status);
        match &self.mode {
            Mode::Bars(bars) => {
                bars.finish(&record.id);
                let _ = bars.multi.println(self.result_line(record));
            }
            Mode::Lines if !self.quiet => stream::stdout_line(&self.result_line(record)),
            Mode::Jsonl => {
                let mut value = serde_json::to_value(record).unwrap_or_default();
                if let Some(object) = value.as_object_mut() {
                    object.insert("event".to_owned(), json!("db_finished"));
                }
                stream::stdout_line(&value.to_string());
            }
            Mode::Lines | Mode::Json => {}
        }
    }
}

impl Bars {
    fn new(total: usize) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let fleet = multi.add(ProgressBar::new(total as u64));
        fleet.set_style(style(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} databases  {wide_msg}",
        ));
        fleet.enable_steady_tick(Duration::from_millis(100));
        Self {
            multi,
            fleet,
            databases: Mutex::new(HashMap::new()),
        }
    }

    fn start(&self, entry: &FleetEntry) {
        let bar = self.multi.add(ProgressBar::new(0));
        bar.set_style(style(
            "   {prefix:20} [{elapsed}] {bar:20} {pos}/{len} {wide_msg}",
        ));
        bar.set_prefix(entry.id.clone());
        bar.set_message("connecting");
        bar.enable_steady_tick(Duration::from_millis(200));
        self.databases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(entry.id.clone(), bar);
    }

    fn event(&self, entry: &FleetEntry, event: &RunEvent) {
        let bars = self.databases.lock().unwrap_or_else(|e| e.into_inner());
        let Some(bar) = bars.get(&entry.id) else {
            return;
        };
        match event {
            RunEvent::WaitingForLock => bar.set_message("waiting for another run's lock"),
            RunEvent::Pending { revisions, .. } => {
                bar.set_length(revisions.len() as u64);
                bar.set_message("");
            }
            RunEvent::StepStarted { revision, .. } => {
                bar.set_message(format!("{} - {}", revision.id, revision.message));
            }
            RunEvent::StepFinished { .. } => bar.inc(1),
            RunEvent::Replanned { remaining, .. } => {
                bar.set_length(bar.position() + *remaining as u64);
            }
            _ => {}
        }
    }

    fn finish(&self, id: &str) {
        let bar = self
            .databases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        if let Some(bar) = bar {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
    }

    fn clear(&self) {
        for (_, bar) in self
            .databases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
        {
            bar.finish_and_clear();
        }
        self.fleet.finish_and_clear();
        let _ = self.multi.clear();
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// `3 migrated, 1 failed`: the statuses that occurred, in the totals' order.
fn counts(totals: &Totals) -> String {
    let parts: Vec<String> = DbStatus::ALL
        .iter()
        .filter(|&&s| totals.of(s) > 0)
        .map(|&s| format!("{} {}", totals.of(s), s.name().replace('_', " ")))
        .collect();
    if parts.is_empty() {
        "nothing yet".to_owned()
    } else {
        parts.join(", ")
    }
}

fn rows(rows: Option<&[String]>) -> String {
    match rows {
        None => "unknown".to_owned(),
        Some([]) => "base".to_owned(),
        Some(rows) => rows.join(", "),
    }
}

fn seconds(ms: u64) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
}
