//! One short file per command, each a thin layer over `revise-runtime`.

mod accept;
mod autogenerate;
mod check;
pub mod completions;
mod confirm;
mod current;
mod database;
mod fleet;
mod heads;
mod history;
mod import;
mod init;
mod log;
mod merge;
mod migrate;
mod new;
mod offline;
mod rebase;
mod repair;
mod schema;
mod show;
mod stairway;
mod stamp;

use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;

use revise_runtime::backend::{
    connect_existing, DatabaseConnection, Dialect, VersionStore, VersionTable,
};
use revise_runtime::graph::Node;
use revise_runtime::run_log::{LogChecks, LogTable};
use revise_runtime::RevisionGraph;

use crate::cli::{Command, GlobalArgs};
use crate::error::CliError;
use crate::output::Printer;
use crate::settings::{self, DatabaseSetting};
use crate::workspace::Workspace;

/// What every command works with.
pub struct Context {
    /// The global options.
    pub global: GlobalArgs,
    /// Output settings.
    pub printer: Printer,
    /// The workspace.
    pub workspace: Workspace,
}

impl Context {
    /// The database URL by precedence.
    pub fn database(&self) -> Result<DatabaseSetting, CliError> {
        settings::database_url(&self.global, &self.workspace)
    }

    /// A migrator over `graph` with the workspace's version table and run log, writing the
    /// log as `cargo-revise`.
    pub fn migrator<'g>(
        &self,
        graph: &'g RevisionGraph,
    ) -> Result<revise_runtime::Migrator<'g>, CliError> {
        Ok(revise_runtime::Migrator::new(graph)
            .with_version_table(settings::version_table(&self.workspace)?)
            .with_log_table(settings::log_table(&self.workspace)?)
            .with_log_author(settings::log_author()))
    }

    /// The workspace's graph without SQL, for the read-only commands. It is never freed:
    /// the process ends right after the command, and freeing 10,000 revisions one string at
    /// a time (some 60,000 frees) cost `heads` over a millisecond.
    pub fn read_graph(&self) -> Result<&'static RevisionGraph, CliError> {
        let graph = self
            .workspace
            .load_graph_without_sql()
            .map_err(CliError::from)?;
        Ok(Box::leak(Box::new(graph)))
    }
}

/// Runs one command.
pub fn run(command: Command, context: &Context) -> Result<(), CliError> {
    refuse_fleet_options_without_fleet(&command)?;
    match command {
        Command::Up(args) if args.fleet.active() || args.fleet_run.retry.is_some() => {
            migrate::up_fleet(context, &args)
        }
        Command::Down(args) if args.fleet.active() || args.fleet_run.retry.is_some() => {
            migrate::down_fleet(context, &args)
        }
        Command::Stamp(args) if args.fleet.active() || args.fleet_run.retry.is_some() => {
            stamp::run_fleet(context, &args)
        }
        Command::Current(args) if args.fleet.active() => current::run_fleet(context, &args),
        Command::Check(args) if args.fleet.active() && !args.schema => {
            check::run_fleet(context, &args)
        }
        Command::Fleet(args) => match args.action {
            crate::cli::FleetAction::List {
                names,
                connect_timeout,
                format,
            } => fleet::list(context, &names, connect_timeout, format),
        },
        Command::Init(args) => init::run(context, &args),
        Command::New(args) if args.autogenerate => autogenerate::run(context, &args),
        Command::New(args) => new::run(context, &args),
        Command::Up(args) => migrate::up(context, &args),
        Command::Down(args) => migrate::down(context, &args),
        Command::Current(args) => current::run(context, &args),
        Command::History(args) => history::run(context, &args),
        Command::Heads(args) => heads::heads(context, &args),
        Command::Branches(args) => heads::branches(context, &args),
        Command::Show(args) => show::run(context, &args),
        Command::Merge(args) => merge::run(context, &args),
        Command::Stamp(args) => stamp::run(context, &args),
        Command::Check(args) if args.schema => schema::check(context, &args),
        Command::Check(args) => check::run(context, &args),
        Command::Schema(args) => schema::run(context, &args),
        Command::Import(args) => import::run(context, &args),
        Command::Test(args) => stairway::run(context, &args),
        Command::Database(args) => database::run(context, &args),
        Command::Log(args) => log::run(context, &args),
        Command::Accept(args) => accept::run(context, &args),
        Command::Repair(args) => repair::run(context, &args),
        Command::Rebase(args) => rebase::run(context, &args),
        // Answered before the workspace is read (main.rs): it needs none.
        Command::Completions(args) => {
            completions::run(&args);
            Ok(())
        }
    }
}

/// Fleet-only options on a run of one database are refused rather than ignored: a user who
/// wrote `--plan` or `--format jsonl` must not get a real run of another kind.
fn refuse_fleet_options_without_fleet(command: &Command) -> Result<(), CliError> {
    use crate::cli::{FleetRunArgs, Format};
    let run_options = |run: &FleetRunArgs| {
        let mut given = Vec::new();
        if run.plan {
            given.push("--plan");
        }
        if run.fail_fast {
            given.push("--fail-fast");
        }
        if run.max_failures.is_some() {
            given.push("--max-failures");
        }
        if run.canary != 1 {
            given.push("--canary");
        }
        given
    };
    // A single run of `up` or `down` prints `--format json` itself; JSON lines are a fleet's.
    let with_format = |mut given: Vec<&'static str>, format: Format, json_alone: bool| {
        match format {
            Format::Jsonl => given.push("--format jsonl"),
            Format::Json if !json_alone => given.push("--format json"),
            _ => {}
        }
        given
    };
    let given = match command {
        Command::Up(args) if !args.fleet.active() && args.fleet_run.retry.is_none() => {
            with_format(run_options(&args.fleet_run), args.run.format, true)
        }
        Command::Down(args) if !args.fleet.active() && args.fleet_run.retry.is_none() => {
            with_format(run_options(&args.fleet_run), args.run.format, true)
        }
        Command::Stamp(args) if !args.fleet.active() && args.fleet_run.retry.is_none() => {
            with_format(run_options(&args.fleet_run), args.format, false)
        }
        Command::Current(args) if !args.fleet.active() && args.format == Format::Jsonl => {
            vec!["--format jsonl"]
        }
        Command::Check(args) if args.schema && args.fleet.active() => {
            return Err(CliError::bad_input(
                "check --schema compares schema files with the revisions on a scratch database; it takes no --fleet",
            ))
        }
        Command::Check(args) if !args.fleet.active() && args.format == Format::Jsonl => {
            vec!["--format jsonl"]
        }
        Command::History(args) if args.format == Format::Jsonl => vec!["--format jsonl"],
        Command::Heads(args) if args.format == Format::Jsonl => vec!["--format jsonl"],
        Command::Show(args) if args.format == Format::Jsonl => vec!["--format jsonl"],
        Command::Branches(args) if args.format == Format::Jsonl => vec!["--format jsonl"],
        Command::Log(args) if args.format == Format::Jsonl => vec!["--format jsonl"],
        _ => Vec::new(),
    };
    if given.is_empty() {
        Ok(())
    } else {
        Err(CliError::bad_input(format!(
            "{} applies to fleet runs only; add --fleet NAME (or --all-fleets)",
            given.join(", ")
        )))
    }
}

/// What a one-line revision shows (Alembic's `Script.cmd_format` options).
#[derive(Clone, Copy, Debug, Default)]
pub struct LineParts {
    /// `parents (dependencies) -> ` in front.
    pub parents: bool,
    /// ` (label, ...)` after the id.
    pub labels: bool,
    /// ` (branchpoint)` / ` (mergepoint)`.
    pub tree: bool,
    /// ` (current)`.
    pub current: bool,
    /// `, message` at the end.
    pub message: bool,
}

/// One revision on one line, as Alembic's `cmd_format` writes it:
/// `parents (deps) -> id (labels) (head) (current) (branchpoint) (mergepoint), message`.
pub fn revision_line(graph: &RevisionGraph, node: Node, parts: LineParts) -> String {
    // Written into one string without temporaries: `history` makes one line per revision.
    let rev = graph.revision(node);
    let mut text = String::with_capacity(64 + rev.message.len());
    let push_ids = |text: &mut String, nodes: &[Node]| {
        for (i, &n) in nodes.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            text.push_str(graph.id(n));
        }
    };
    if parts.parents {
        if rev.revises.is_empty() {
            text.push_str("<base>");
        } else {
            push_ids(&mut text, graph.revises(node));
        }
        if !graph.depends_on(node).is_empty() {
            text.push_str(" (");
            push_ids(&mut text, graph.depends_on(node));
            text.push(')');
        }
        text.push_str(" -> ");
    }
    text.push_str(rev.id.as_str());
    if parts.labels {
        text.push_str(" (");
        text.push_str(&rev.origin.member);
        for label in &rev.branch_labels {
            text.push_str(", ");
            text.push_str(label);
        }
        text.push(')');
    }
    if graph.all_children(node).is_empty() {
        text.push_str(" (head)");
    } else if graph.children(node).is_empty() {
        text.push_str(" (effective head)");
    }
    if parts.current {
        text.push_str(" (current)");
    }
    if parts.tree {
        if graph.is_branch_point(node) {
            text.push_str(" (branchpoint)");
        }
        if graph.is_merge_point(node) {
            text.push_str(" (mergepoint)");
        }
    }
    if parts.message {
        text.push_str(", ");
        text.push_str(&rev.message);
    }
    text
}

/// The ids of `nodes`.
pub fn ids(graph: &RevisionGraph, nodes: &[Node]) -> Vec<String> {
    nodes.iter().map(|&n| graph.id(n).to_owned()).collect()
}

/// The labels a revision carries: its member's, then its own.
pub fn labels(graph: &RevisionGraph, node: Node) -> Vec<String> {
    let rev = graph.revision(node);
    let mut labels = vec![rev.origin.member.to_string()];
    labels.extend(rev.branch_labels.iter().cloned());
    labels
}

/// A revision as JSON, for `--format json`.
pub fn revision_json(graph: &RevisionGraph, node: Node) -> serde_json::Value {
    let rev = graph.revision(node);
    serde_json::json!({
        "id": rev.id.as_str(),
        "message": rev.message,
        "member": &*rev.origin.member,
        "path": rev.origin.path.display().to_string(),
        "revises": ids(graph, graph.revises(node)),
        "depends_on": ids(graph, graph.depends_on(node)),
        "branch_labels": labels(graph, node),
        "children": ids(graph, graph.all_children(node)),
        "is_head": graph.all_children(node).is_empty(),
        "is_branch_point": graph.is_branch_point(node),
        "is_merge_point": graph.is_merge_point(node),
        "create_date": rev.create_date,
    })
}

impl Context {
    /// Starts reading the version rows, for the command to collect after loading the graph.
    ///
    /// On PostgreSQL and MySQL a thread of its own reads them: the connection (a TLS
    /// handshake, round trips to the server) mostly waits, and neither it nor the graph needs
    /// the other. SQLite's work is all on this machine's cores (parsing a schema of thousands
    /// of tables, 100 million instructions at 10,000), and read here, before the graph, the
    /// memory SQLite frees on closing is used again by the graph; on a thread it stays in
    /// that thread's malloc arena. `current` at 10,000 revisions peaked at 17.8 MB with a
    /// thread and at 14.1 MB without, in the same time on two cores (BENCHMARKS.md).
    ///
    /// Errors wait for [`PendingRows::nodes`] either way, so bad revision files are reported
    /// first and at once, even when the server is slow to answer; the thread is not waited
    /// for then.
    pub fn start_reading_rows(&self) -> PendingRows {
        self.start_reading(None, false)
    }

    /// [`Context::start_reading_rows`], also reading from the run log `log` (when it is on)
    /// what `check` needs: the applied files' checksums and the unfinished steps.
    ///
    /// Here SQLite is read on a thread too: `check` is the command run on every commit, and
    /// at 10,000 revisions and tables SQLite's schema and the log take longer than the files,
    /// so the two share the machine's two cores: 100 -> 75 ms, for 2 MB more at the peak
    /// (21 -> 23 MB: what SQLite frees stays in the thread's malloc arena).
    pub fn start_reading_rows_and_log(&self) -> PendingRows {
        match settings::log_table(&self.workspace) {
            Ok(log) => self.start_reading(log, true),
            Err(e) => PendingRows(Err(e)),
        }
    }

    fn start_reading(&self, log: Option<LogTable>, sqlite_on_thread: bool) -> PendingRows {
        let started = settings::version_table(&self.workspace).and_then(|table| {
            let url = self.database()?.url;
            if url.dialect() == Dialect::Sqlite && !sqlite_on_thread {
                // The connection closes before the graph is read.
                let (rows, _closed) = read_version_rows(&url, &table, log.as_ref());
                return Ok(ReadingRows {
                    table,
                    source: RowsSource::Read(rows),
                });
            }
            let read_table = table.clone();
            let (sender, receiver) = std::sync::mpsc::sync_channel(1);
            let thread = std::thread::spawn(move || {
                let (rows, conn) = read_version_rows(&url, &read_table, log.as_ref());
                let _ = sender.send(rows);
                // The connection closes after the rows went out, while the command goes
                // on; a command that ends first cuts this short, which a read-only
                // connection allows.
                drop(conn);
            });
            Ok(ReadingRows {
                table,
                source: RowsSource::Thread {
                    rows: receiver,
                    thread,
                },
            })
        });
        PendingRows(started)
    }
}

/// The version rows (and what was asked of the run log) as the reading thread sends them.
type Rows = Result<(Vec<String>, Option<LogChecks>), CliError>;

/// The rows of an existing database (none when it does not exist yet), what `log` asks of
/// its run log (`None` when the log table does not exist), and the connection they were read
/// on, for the caller to close once it has passed the rows on.
fn read_version_rows(
    url: &revise_runtime::DatabaseUrl,
    table: &VersionTable,
    log: Option<&LogTable>,
) -> (Rows, Option<DatabaseConnection>) {
    match connect_existing(url) {
        Ok(Some(mut conn)) => {
            let rows = conn
                .read_rows(table)
                .map(Option::unwrap_or_default)
                .map_err(CliError::from);
            let read = rows.and_then(|rows| {
                let Some(log) = log else {
                    return Ok((rows, None));
                };
                Ok((rows, conn.read_checks(log)?))
            });
            (read, Some(conn))
        }
        Ok(None) => (Ok((Vec::new(), None)), None),
        Err(e) => (Err(e.into()), None),
    }
}

/// The version table, and where its rows come from.
struct ReadingRows {
    table: VersionTable,
    source: RowsSource,
}

/// Rows read already, or a thread reading them (it sends them, then closes its connection).
enum RowsSource {
    Read(Rows),
    Thread {
        rows: Receiver<Rows>,
        thread: JoinHandle<()>,
    },
}

/// Version rows being read (see [`Context::start_reading_rows`]).
pub struct PendingRows(Result<ReadingRows, CliError>);

impl PendingRows {
    /// Waits for the rows and turns them into revisions of `graph`, refusing ids no file
    /// declares.
    pub fn nodes(self, graph: &RevisionGraph) -> Result<revise_runtime::NodeSet, CliError> {
        self.nodes_and_log(graph).map(|(rows, _)| rows)
    }

    /// [`PendingRows::nodes`], with what was read of the run log (`None`: the log is off or
    /// its table does not exist).
    pub fn nodes_and_log(
        self,
        graph: &RevisionGraph,
    ) -> Result<(revise_runtime::NodeSet, Option<LogChecks>), CliError> {
        let ReadingRows { table, source } = self.0?;
        let rows = match source {
            RowsSource::Read(rows) => rows,
            // Nothing received means the thread panicked before sending: pass its panic on.
            RowsSource::Thread { rows, thread } => {
                rows.recv().unwrap_or_else(|_| match thread.join() {
                    Err(panic) => std::panic::resume_unwind(panic),
                    Ok(()) => Err(CliError::failed("the version rows were not read")),
                })
            }
        }?;
        let (rows, log) = rows;
        let migrator = revise_runtime::Migrator::new(graph).with_version_table(table);
        Ok((migrator.nodes(&rows)?, log))
    }
}
