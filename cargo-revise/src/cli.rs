//! The command line: global options and one struct per subcommand (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Alembic's migration model for Cargo workspaces.
#[derive(Debug, Parser)]
#[command(
    name = "cargo-revise",
    bin_name = "cargo revise",
    version,
    about = "Alembic-style SQL migrations for Cargo workspaces",
    long_about = "Alembic-style SQL migrations for Cargo workspaces.\n\n\
        Each workspace member keeps revision files in its `migrations/` folder. Every file names \
        its parent (`Revises:`), so the files form a graph; the database records where it stands \
        in Alembic's own `alembic_version` table. `cargo revise up` applies exactly what the \
        database lacks, in graph order.\n\n\
        The database comes from --database-url, else the DATABASE_URL environment variable, else \
        DATABASE_URL in the workspace's .env file.\n\n\
        Commands that only read the graph keep the parsed headers of unchanged files in \
        target/revise/headers (under CARGO_TARGET_DIR when set); REVISE_NO_CACHE=1 turns this off.",
    after_help = "Exit status: 0 success, 1 the operation failed (a revision failed, the database refused; \
        in a fleet run: any database not migrated, up to date or planned), 2 bad usage or bad revision files, \
        130 a fleet run was interrupted (Ctrl-C, SIGTERM), 141 the output of a command that only prints (current, \
        history, heads, branches, show, check, --sql) was closed before it was all written.\n\n\
        When standard output goes away (a closed pipe, a full disk, a closed terminal), up, down, \
        stamp and test stop writing their report but not their work: they finish every revision, \
        each in its own transaction, and exit as the run ended (0 done, 1 a revision failed), with \
        a note on standard error."
)]
pub struct Cli {
    /// Options every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Path to the workspace's (or a member's) Cargo.toml [default: found from the current directory]
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Database to use, e.g. sqlite://app.db or postgres://user@host/db [default: $DATABASE_URL, then the env file]
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// File to read DATABASE_URL from [default: `.env` in the workspace root]
    #[arg(long, global = true, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
    /// Workspace member to act on (repeatable) [default: the member in the current directory]
    #[arg(short = 'p', long = "package", global = true, value_name = "MEMBER")]
    pub packages: Vec<String>,
    /// Say more (repeat for even more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print only errors; no report, no progress bar
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// When to use colors
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

/// When to color output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Color when writing to a terminal.
    Auto,
    /// Always color.
    Always,
    /// Never color.
    Never,
}

/// How read-only commands print their result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Lines for people, as Alembic prints them.
    #[default]
    Human,
    /// One JSON document, for scripts.
    Json,
    /// One JSON object per line as things happen (fleet runs only)
    Jsonl,
}

/// What a command's standard output is to the person who ran it, which decides what
/// happens when the output goes away (`main.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputRole {
    /// The output is what was asked for (`history`, `current`, `--sql`): once nobody reads
    /// it, there is nothing left to do, and the exit status says it was cut short.
    Result,
    /// The output reports on work whose result is elsewhere (the database, new files): the
    /// work goes on without it, and the exit status is the work's.
    Report,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the migrations folder in a member, and a `.env` if there is none
    Init(InitArgs),
    /// Write a new revision file chained onto the member's head
    #[command(visible_alias = "revision")]
    New(NewArgs),
    /// Apply what the database lacks, up to TARGET (default: every head)
    #[command(visible_alias = "upgrade")]
    Up(UpArgs),
    /// Revert applied revisions down to TARGET (default: one step, `-1`)
    #[command(visible_alias = "downgrade")]
    Down(DownArgs),
    /// Show the revisions the database stands at, as `alembic current` lists them (`-v`: in full)
    Current(CurrentArgs),
    /// Show the revision graph, newest first
    History(HistoryArgs),
    /// Show the heads (revisions nothing revises)
    Heads(HeadsArgs),
    /// Show the branch points and what they branch into
    Branches(ReadArgs),
    /// Show one revision in full
    Show(ShowArgs),
    /// Write a merge revision whose `Revises` lists the given heads
    Merge(MergeArgs),
    /// Set the version table to REV... without running any revision
    Stamp(StampArgs),
    /// Validate every revision file and the graph; with a database, exit 1 if it is not up to date; with --schema, compare each member's schema.rs with its revisions
    Check(CheckArgs),
    /// Print diesel's schema.rs for a member's tables as its revisions leave them (from a scratch database at its head)
    Schema(SchemaArgs),
    /// Turn another tool's migrations into revision files
    Import(ImportArgs),
    /// The stairway test: on a scratch database, apply each revision, revert it, re-apply it, and check that each down restores the schema (on a difference: each object that differs, with both versions; -v shows all of a long diff)
    Test(StairwayArgs),
    /// Fleets: named lists of databases that up, down, stamp, current and check run on with --fleet
    Fleet(FleetCommandArgs),
    /// Create, drop, reset or set up the configured database itself
    Database(DatabaseArgs),
    /// Show the run log: what ran against the database and when, newest first
    Log(LogArgs),
    /// Record the current checksum of applied revision files that changed since they ran (drift)
    Accept(AcceptArgs),
    /// Mark a step that a dead run left unfinished as resolved, after checking the database
    Repair(RepairArgs),
    /// Make a member with two heads linear again: re-parent the revisions the database has not applied onto the other head
    Rebase(RebaseArgs),
    /// Print a shell completion script (for `cargo-revise`, and `cargo revise` where cargo's own completion hands over)
    Completions(CompletionsArgs),
}

/// `completions`.
#[derive(Debug, Args)]
#[command(
    after_help = "Install, for example: `cargo revise completions bash > ~/.local/share/bash-completion/completions/cargo-revise`, `cargo revise completions zsh > ~/.zfunc/_cargo-revise`, `cargo revise completions fish > ~/.config/fish/completions/cargo-revise.fish`.\n\n\
        bash (with bash-completion 2.12 or later) and zsh complete `cargo revise ...` through cargo's own completion, which hands `revise` over to this script; the fish script also registers `cargo revise`; powershell and elvish complete `cargo-revise ...`."
)]
pub struct CompletionsArgs {
    /// The shell to write the script for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `database`.
#[derive(Debug, Args)]
#[command(
    after_help = "The database is the configured DATABASE_URL's: the file for SQLite, the database named by the URL's path on PostgreSQL and MySQL/MariaDB. Creating and dropping a server database goes through the server's maintenance database (`postgres` on PostgreSQL; none on MySQL), so the URL's user needs the right to create databases."
)]
pub struct DatabaseArgs {
    /// What to do with the database.
    #[command(subcommand)]
    pub action: DatabaseAction,
}

/// The `database` subcommands.
#[derive(Debug, Subcommand)]
pub enum DatabaseAction {
    /// Create the database; does nothing (and says so) when it exists
    Create,
    /// Drop the database; asks first on a terminal, needs -y otherwise
    Drop(DropArgs),
    /// Drop the database, create it again and apply every revision (`up`)
    Reset(ResetArgs),
    /// Create the database if it is missing, then apply every revision (`up`)
    Setup(SetupArgs),
}

/// `database drop`.
#[derive(Debug, Args)]
pub struct DropArgs {
    /// Drop without asking (needed when standard input is not a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// End other sessions on the database first (PostgreSQL's `WITH (FORCE)`; `KILL` on MySQL)
    #[arg(short = 'f', long)]
    pub force: bool,
}

/// `database reset`.
#[derive(Debug, Args)]
pub struct ResetArgs {
    /// How to drop.
    #[command(flatten)]
    pub drop: DropArgs,
    /// Seconds to wait for another migration run before giving up
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub lock_timeout: u64,
}

/// `database setup`.
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Seconds to wait for another migration run before giving up
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub lock_timeout: u64,
}

impl Command {
    /// What this command's standard output is (see [`OutputRole`]).
    pub fn output_role(&self) -> OutputRole {
        match self {
            Command::Up(UpArgs { run, .. }) | Command::Down(DownArgs { run, .. }) if run.sql => {
                OutputRole::Result
            }
            Command::Stamp(args) if args.sql => OutputRole::Result,
            Command::Current(_)
            | Command::History(_)
            | Command::Heads(_)
            | Command::Branches(_)
            | Command::Show(_)
            | Command::Check(_)
            | Command::Log(_)
            | Command::Fleet(_) => OutputRole::Result,
            Command::Schema(args) if !args.write => OutputRole::Result,
            Command::Completions(_) => OutputRole::Result,
            Command::Schema(_) | Command::Database(_) => OutputRole::Report,
            Command::Init(_)
            | Command::New(_)
            | Command::Up(_)
            | Command::Down(_)
            | Command::Merge(_)
            | Command::Stamp(_)
            | Command::Import(_)
            | Command::Test(_)
            | Command::Accept(_)
            | Command::Repair(_)
            | Command::Rebase(_) => OutputRole::Report,
        }
    }
}

/// `log`.
#[derive(Debug, Args)]
#[command(
    after_help = "The run log is the table `revise_log` beside `alembic_version` ([workspace.metadata.revise] log_table names another, `false` turns it off): one row per step of `up`, `down`, `stamp` and `accept`, written in the step's own transaction, with the file's checksum, the time, the duration, the outcome and who ran it. Times are UTC."
)]
pub struct LogArgs {
    /// Show at most N entries (the newest)
    #[arg(short = 'n', long = "max-count", value_name = "N")]
    pub limit: Option<usize>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// `accept`.
#[derive(Debug, Args)]
#[command(
    after_help = "An applied revision whose file changed since it ran is drift: `check` fails and `up` warns. If the change is what you meant (a comment, a fix that the database already has), `accept` records the file's checksum as it is now, in a new `accept` row of the run log; if not, restore the file instead. REV: an id or unique prefix, a label, LABEL@head, heads."
)]
pub struct AcceptArgs {
    /// The applied revisions whose files to accept as they are now
    #[arg(required = true, num_args = 1.., value_name = "REV")]
    pub revisions: Vec<String>,
    /// Seconds to wait for another migration run before giving up
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub lock_timeout: u64,
}

/// `repair`.
#[derive(Debug, Args)]
#[command(
    after_help = "On MySQL/MariaDB, where DDL commits by itself, and for `transaction=false` sections anywhere, a step's run-log row is written as unfinished before the step and completed after it. A run that dies in between (killed, a lost connection) leaves it unfinished, and every later run refuses to go on, naming the revision and the statements that may have run. Check the database, undo or finish what the revision did by hand, then run `repair`: the row is marked resolved. `alembic_version` does not move: the next `up` runs the revision again; if you finished it by hand, `cargo revise stamp REV` instead."
)]
pub struct RepairArgs {
    /// The revision whose unfinished step to resolve (an id or unique prefix) [default: the only one]
    #[arg(value_name = "REV")]
    pub revision: Option<String>,
    /// Seconds to wait for another migration run before giving up
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub lock_timeout: u64,
}

/// `rebase`.
#[derive(Debug, Args)]
#[command(
    after_help = "When two branches of a member each added revisions onto the same parent (two heads, say after a git merge), `rebase` moves the branch that the configured database has not applied onto the other head, by rewriting the `Revises:` line of its first revision (nothing else in any file changes), so the member is one line again and needs no merge revision. It refuses, saying why, when both branches have applied revisions or a revision it would move is applied. With -p MEMBER: that member; otherwise the member with two heads."
)]
pub struct RebaseArgs {
    /// Show what would change without writing any file
    #[arg(long)]
    pub dry_run: bool,
}

/// `test`.
#[derive(Debug, Args)]
pub struct StairwayArgs {
    /// Seconds to wait for locks on the scratch database
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub lock_timeout: u64,
    /// Output format: `json` prints one document with the revisions that passed and, on a
    /// failure, the objects that differ with both versions (exit status 1 still)
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Where the schema commands make their scratch database.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// Server for the scratch database: a PostgreSQL or MySQL URL whose user may create databases [default: the server of DATABASE_URL; in memory for SQLite]
    #[arg(long, value_name = "URL")]
    pub dev_url: Option<String>,
}

/// `check`.
#[derive(Debug, Args)]
#[command(
    after_help = "With --schema: the schema file of each member (or of -p MEMBER) is compared with a scratch database migrated to the member's head; the live database is not touched. One line per difference: `+` the schema file has it and the revisions do not, `-` the reverse, `~` both, differently. Not compared (diesel's schema cannot say them): defaults, indexes, unique and check constraints, precision, identity, column order. Exit 1 when a schema file differs."
)]
pub struct CheckArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Compare each member's schema.rs with what its revisions produce (`alembic check`)
    #[arg(long)]
    pub schema: bool,
    /// The scratch database's server.
    #[command(flatten)]
    pub dev: DevArgs,
    /// Which databases (a fleet run instead of DATABASE_URL).
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// `schema`.
#[derive(Debug, Args)]
#[command(
    after_help = "The schema file is [package.metadata.revise] schema, else [print_schema] file in the member's diesel.toml, else src/schema.rs. Only the member's own tables (those its revisions create) are printed, as diesel print-schema prints them."
)]
pub struct SchemaArgs {
    /// Write the member's schema file (created as src/schema.rs when it has none) instead of printing
    #[arg(long)]
    pub write: bool,
    /// The scratch database's server.
    #[command(flatten)]
    pub dev: DevArgs,
}

/// `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Where the migrations come from.
    #[command(subcommand)]
    pub source: ImportSource,
}

/// The tools `import` reads.
#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// A diesel migrations folder (`VERSION_NAME/up.sql`, `down.sql`, `metadata.toml`): one revision per migration, chained in version order into the member given with -p
    Diesel {
        /// The folder [default: diesel's own search for `migrations/` from the current directory]
        dir: Option<PathBuf>,
    },
}

/// `heads`.
#[derive(Debug, Args)]
pub struct HeadsArgs {
    /// Only the heads that nothing depends on either (what `heads` as a target means)
    #[arg(long)]
    pub resolve_dependencies: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// `show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The revision: an id, a unique prefix, a label, `head` or `LABEL@head`
    pub rev: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The revisions to merge (two or more heads of one member), or `heads` for all of the member's heads
    #[arg(required = true, num_args = 1..)]
    pub revisions: Vec<String>,
    /// What the merge is for
    #[arg(short, long)]
    pub message: String,
    /// Use this revision id instead of a random one
    #[arg(long, value_name = "ID")]
    pub rev_id: Option<String>,
    /// Extra branch labels for the merge revision (repeatable)
    #[arg(long = "branch-label", value_name = "LABEL")]
    pub branch_labels: Vec<String>,
}

/// `stamp`.
#[derive(Debug, Args)]
#[command(
    after_help = "REV: heads, head, base, a revision id or unique prefix, LABEL@head, LABEL@base, LABEL@ID."
)]
pub struct StampArgs {
    /// Where the version table should stand
    #[arg(required = true, num_args = 1..)]
    pub revisions: Vec<String>,
    /// Which databases (a fleet run instead of DATABASE_URL).
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// How a fleet run proceeds.
    #[command(flatten)]
    pub fleet_run: FleetRunArgs,
    /// Empty the version table first (also clears rows naming unknown revisions)
    #[arg(long)]
    pub purge: bool,
    /// Print the SQL instead of running it (offline; REV may be FROM:TO)
    #[arg(long)]
    pub sql: bool,
    /// The SQL dialect of --sql [default: from the database URL's scheme]
    #[arg(long, value_enum, value_name = "DIALECT", requires = "sql")]
    pub dialect: Option<SqlDialect>,
    /// Output format of a fleet run (with --fleet): `json` one document, `jsonl` one line per event
    #[arg(long, value_enum, default_value_t = Format::Human, conflicts_with = "sql")]
    pub format: Format,
}

/// `init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The database URL to write into a new `.env` [default: sqlite://dev.db]
    #[arg(long, value_name = "URL")]
    pub env_url: Option<String>,
}

/// `new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// What the revision does; the first header line, and the file name's slug
    #[arg(short, long)]
    pub message: String,
    /// Use this revision id instead of a random one (1-32 of A-Z a-z 0-9 _)
    #[arg(long, value_name = "ID")]
    pub rev_id: Option<String>,
    /// Chain onto this revision instead of the member's single head
    #[arg(long, value_name = "REV")]
    pub head: Option<String>,
    /// A revision (of any member) that must be applied before this one (repeatable): an id
    /// or unique prefix, LABEL@head, LABEL@ID, head or heads, written as the full id it names;
    /// a branch label is written as the label, naming the revision that declares it
    #[arg(long = "depends-on", value_name = "REV")]
    pub depends_on: Vec<String>,
    /// Extra branch labels for the new revision (repeatable)
    #[arg(long = "branch-label", value_name = "LABEL")]
    pub branch_labels: Vec<String>,
    /// Generate the up and down sections from the difference between the member's schema.rs and its revisions (review the file!)
    #[arg(long)]
    pub autogenerate: bool,
    /// With --autogenerate: the database's table OLD is the schema file's NEW (a rename, not a drop and a create; repeatable)
    #[arg(long, value_name = "OLD=NEW", requires = "autogenerate")]
    pub rename_table: Vec<String>,
    /// With --autogenerate: TABLE.OLD is the schema file's TABLE.NEW (repeatable)
    #[arg(long, value_name = "TABLE.OLD=NEW", requires = "autogenerate")]
    pub rename_column: Vec<String>,
    /// With --autogenerate: refuse (exit 1, no file) when the revision would drop or narrow anything
    #[arg(long, requires = "autogenerate")]
    pub no_destructive: bool,
    /// With --autogenerate: write the file even when parts cannot be generated, as TODO comments
    #[arg(long, requires = "autogenerate")]
    pub allow_incomplete: bool,
    /// The scratch database's server (with --autogenerate).
    #[command(flatten)]
    pub dev: DevArgs,
}

/// Options shared by the commands that change the database.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Seconds to wait for another migration run before giving up
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub lock_timeout: u64,
    /// Print the SQL script instead of running it (offline; TARGET may be FROM:TO)
    #[arg(long)]
    pub sql: bool,
    /// The SQL dialect of --sql [default: from the database URL's scheme]
    #[arg(long, value_enum, value_name = "DIALECT", requires = "sql")]
    pub dialect: Option<SqlDialect>,
    /// Output format: `json` prints the run as one JSON document (no report, no progress bar); with --fleet, the fleet's summary, and `jsonl` one line per event as it happens
    #[arg(long, value_enum, default_value_t = Format::Human, conflicts_with = "sql")]
    pub format: Format,
}

impl RunArgs {
    /// A run of every revision with the report, as `database reset` and `setup` do.
    pub fn report(lock_timeout: u64) -> Self {
        Self {
            lock_timeout,
            sql: false,
            dialect: None,
            format: Format::Human,
        }
    }
}

/// The dialects `--sql` can write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SqlDialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    #[value(alias = "postgres")]
    Postgresql,
    /// MySQL and MariaDB.
    #[value(alias = "mariadb")]
    Mysql,
}

/// `up`.
#[derive(Debug, Args)]
#[command(
    after_help = "TARGET: heads (default), head, base, a revision id or unique prefix, +N, ID+N, ID-N, LABEL@head, LABEL@ID, LABEL@+N."
)]
pub struct UpArgs {
    /// Where to go [default: heads; with one -p MEMBER: MEMBER@head]
    // The brackets are `--help` text in clap's style, not a link.
    #[allow(rustdoc::broken_intra_doc_links)]
    pub target: Option<String>,
    /// Options shared with `down`.
    #[command(flatten)]
    pub run: RunArgs,
    /// Which databases (a fleet run instead of DATABASE_URL).
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// How a fleet run proceeds.
    #[command(flatten)]
    pub fleet_run: FleetRunArgs,
}

/// `down`.
#[derive(Debug, Args)]
#[command(
    after_help = "TARGET: -1 (default), -N, base, a revision id or unique prefix, ID-N, LABEL@base, LABEL@-N, LABEL@ID."
)]
pub struct DownArgs {
    /// Where to go [default: -1]
    #[arg(allow_hyphen_values = true)]
    pub target: Option<String>,
    /// Revert revisions whose files are gone with the down sections kept in the run log without asking (needed when standard input is not a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Options shared with `up`.
    #[command(flatten)]
    pub run: RunArgs,
    /// Which databases (a fleet run instead of DATABASE_URL; TARGET is then required).
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// How a fleet run proceeds.
    #[command(flatten)]
    pub fleet_run: FleetRunArgs,
}

/// Read-only commands.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// `current`.
#[derive(Debug, Args)]
pub struct CurrentArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Which databases (a fleet run instead of DATABASE_URL).
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// Which databases a fleet run works on, and how many at once (`up`, `down`, `stamp`,
/// `current`, `check`).
#[derive(Debug, Args)]
#[command(next_help_heading = "Fleets: many databases at once")]
pub struct FleetArgs {
    /// Run on every database of this fleet, declared in [workspace.metadata.revise.fleet.NAME] (repeatable)
    #[arg(long = "fleet", value_name = "NAME")]
    pub fleets: Vec<String>,
    /// Run on every declared fleet
    #[arg(long)]
    pub all_fleets: bool,
    /// Only these databases: an id or a pattern like 'tenant_0*' (repeatable; without --fleet, every fleet is searched)
    #[arg(long = "db", value_name = "ID_OR_GLOB")]
    pub databases: Vec<String>,
    /// Databases worked on at once
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub jobs: usize,
    /// Databases in flight per server (host:port; all SQLite files count as one)
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub per_host: usize,
    /// Seconds a server may take to accept a connection before its database counts as unreachable
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub connect_timeout: u64,
    /// Only the K-th of N deterministic shares of the databases, by id (to spread a fleet over N machines)
    #[arg(long, value_name = "hash:K/N")]
    pub partition: Option<revise_runtime::fleet::Partition>,
}

/// No fleet, with the flags' defaults (for runs a command makes itself, as `database setup`).
impl Default for FleetArgs {
    fn default() -> Self {
        Self {
            fleets: Vec::new(),
            all_fleets: false,
            databases: Vec::new(),
            jobs: 4,
            per_host: 2,
            connect_timeout: 10,
            partition: None,
        }
    }
}

/// The flags' defaults.
impl Default for FleetRunArgs {
    fn default() -> Self {
        Self {
            canary: 1,
            fail_fast: false,
            max_failures: None,
            plan: false,
            retry: None,
        }
    }
}

impl FleetArgs {
    /// Whether these flags ask for a fleet run.
    pub fn active(&self) -> bool {
        !self.fleets.is_empty() || self.all_fleets || !self.databases.is_empty()
    }
}

/// How a fleet run of `up`, `down` or `stamp` proceeds.
#[derive(Debug, Args)]
#[command(next_help_heading = "Fleets: many databases at once")]
pub struct FleetRunArgs {
    /// The first N databases run alone, in order, before any other; if one does not finish, the rest are skipped
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub canary: usize,
    /// At the first database that fails, start no other; those in flight stop at their next revision boundary
    #[arg(long)]
    pub fail_fast: bool,
    /// Start no more databases once N have failed, been unreachable or locked
    #[arg(long, value_name = "N")]
    pub max_failures: Option<usize>,
    /// Say what each database would run; touch nothing
    #[arg(long)]
    pub plan: bool,
    /// Only the databases that did not end migrated or up to date in this summary (target/revise/fleet-last.json)
    #[arg(long, value_name = "SUMMARY.json")]
    pub retry: Option<PathBuf>,
}

/// `fleet`.
#[derive(Debug, Args)]
pub struct FleetCommandArgs {
    /// What to do with fleets.
    #[command(subcommand)]
    pub action: FleetAction,
}

/// What `fleet` does.
#[derive(Debug, Subcommand)]
pub enum FleetAction {
    /// Resolve fleets and list their databases (URLs without passwords); touches no database but a `sql` fleet's catalog
    List {
        /// The fleets [default: every declared fleet]
        names: Vec<String>,
        /// Seconds a catalog database may take to accept a connection
        #[arg(long, value_name = "SECONDS", default_value_t = 10)]
        connect_timeout: u64,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
}

/// `history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only revisions in FROM:TO (each end: a revision, `base`, `heads`, `current`, or empty)
    #[arg(
        short = 'r',
        long = "rev-range",
        value_name = "FROM:TO",
        allow_hyphen_values = true
    )]
    pub rev_range: Option<String>,
    /// Mark the version table's rows with `(current)`
    #[arg(short = 'i', long)]
    pub indicate_current: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}
