//! Throw-away Cargo workspaces: built from a few revisions, or copied from `template/`.

use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::assert::Assert;
use assert_cmd::Command;
use tempfile::TempDir;

use crate::binary::cargo_revise;
use crate::db::{Backend, TestDb};

/// How a run tells `cargo revise` where the database is (SPEC section 4's three sources).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlVia {
    /// `--database-url URL`.
    Flag,
    /// The `DATABASE_URL` environment variable.
    Environment,
    /// Nothing: the workspace's own env file must say it (the template's `.env`).
    EnvFile,
}

/// A Cargo workspace in a temporary folder, deleted when dropped, with the database its runs
/// use.
///
/// Every member is a tiny library crate with a `migrations/` folder, so it takes part from
/// the start; revision files are added with [`Workspace::revision`] or [`Workspace::raw`].
#[derive(Debug)]
pub struct Workspace {
    dir: TempDir,
    db: TestDb,
    via: UrlVia,
}

impl Workspace {
    /// A workspace with these members (each with an empty `migrations/`) and a fresh
    /// database of the backend `REVISE_TEST_BACKEND` names (SQLite when unset: a `test.db`
    /// that does not exist yet), passed to runs with `--database-url`.
    pub fn new(members: &[&str]) -> Self {
        Self::with_backend(members, Backend::from_env())
    }

    /// [`Workspace::new`] on a backend chosen by the test: for tests about one backend
    /// (a SQLite file's path), or that go through every backend themselves.
    pub fn with_backend(members: &[&str], backend: Backend) -> Self {
        Self::with_database(members, backend, TestDb::new)
    }

    /// [`Workspace::with_backend`] whose database does not exist yet (see
    /// [`TestDb::missing`]): for `cargo revise database create` and `setup`.
    pub fn with_missing_database(members: &[&str], backend: Backend) -> Self {
        Self::with_database(members, backend, TestDb::missing)
    }

    fn with_database(
        members: &[&str],
        backend: Backend,
        database: fn(Backend, &Path) -> TestDb,
    ) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let quoted: Vec<String> = members.iter().map(|m| format!("\"{m}\"")).collect();
        write(
            &dir.path().join("Cargo.toml"),
            format!(
                "[workspace]\nresolver = \"2\"\nmembers = [{}]\n",
                quoted.join(", ")
            ),
        );
        for member in members {
            let root = dir.path().join(member);
            write(
                &root.join("Cargo.toml"),
                format!(
                    "[package]\nname = \"{member}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"
                ),
            );
            write(&root.join("src/lib.rs"), "");
            fs::create_dir_all(root.join("migrations")).expect("create migrations/");
        }
        let db = database(backend, dir.path());
        Self {
            dir,
            db,
            via: UrlVia::Flag,
        }
    }

    /// A copy of the repository's `template/` workspace (without `target/` and database
    /// files), whose `.env` names `sqlite://template.db`; runs pass no URL.
    ///
    /// Path dependencies that leave the template (its app's `../../revise-runtime`) are made
    /// absolute in the copy, since `cargo metadata` reads their manifests too.
    pub fn template() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        copy_template(dir.path());
        let db = TestDb::sqlite(dir.path().join("template.db"));
        Self {
            dir,
            db,
            via: UrlVia::EnvFile,
        }
    }

    /// Changes how runs name the database.
    pub fn with_url_via(mut self, via: UrlVia) -> Self {
        self.via = via;
        self
    }

    /// Appends `text` to the root `Cargo.toml` (fleet declarations, metadata tables).
    pub fn append_manifest(&self, text: &str) {
        let path = self.root().join("Cargo.toml");
        let mut manifest = self.read("Cargo.toml");
        manifest.push('\n');
        manifest.push_str(text);
        write(&path, manifest);
    }

    /// The workspace root.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The database runs use.
    pub fn db(&self) -> &TestDb {
        &self.db
    }

    /// The database's backend.
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// Writes a revision file into `member`'s migrations folder and returns its path
    /// relative to the root (as `cargo revise` shows it, e.g. `users/migrations/u1_create_u1.sql`).
    pub fn revision(&self, member: &str, rev: &Rev) -> String {
        self.raw(member, &rev.file_name(), rev.text())
    }

    /// [`Rev::table`] revisions for `ids`, each revising the one before (the first a root),
    /// in `member`.
    pub fn chain(&self, member: &str, ids: &[&str]) {
        self.chain_from(member, None, ids);
    }

    /// [`Workspace::chain`] continuing after the revision `parent`.
    pub fn chain_after(&self, member: &str, parent: &str, ids: &[&str]) {
        self.chain_from(member, Some(parent), ids);
    }

    fn chain_from(&self, member: &str, first_parent: Option<&str>, ids: &[&str]) {
        let mut parent = first_parent;
        for id in ids {
            let mut rev = Rev::table(id);
            if let Some(parent) = parent {
                rev = rev.revises(parent);
            }
            self.revision(member, &rev);
            parent = Some(*id);
        }
    }

    /// Writes `contents` as `member/migrations/file_name` (for files a [`Rev`] cannot
    /// express: broken headers, invalid UTF-8) and returns the relative path.
    pub fn raw(&self, member: &str, file_name: &str, contents: impl AsRef<[u8]>) -> String {
        let relative = format!("{member}/migrations/{file_name}");
        write(&self.root().join(&relative), contents);
        relative
    }

    /// The text of a file, by path relative to the root.
    pub fn read(&self, relative: impl AsRef<Path>) -> String {
        let path = self.root().join(relative);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
    }

    /// The file names in `member`'s migrations folder, sorted.
    pub fn migration_files(&self, member: &str) -> Vec<String> {
        let dir = self.root().join(member).join("migrations");
        let mut names: Vec<String> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|entry| {
                entry
                    .expect("a directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    /// `cargo-revise` ready to run in the root, with a clean environment: no inherited
    /// `DATABASE_URL` (a developer's own would leak into the test), `NO_COLOR=1`, and no
    /// database argument yet.
    pub fn command(&self) -> Command {
        Command::from_std(self.clean_command())
    }

    fn clean_command(&self) -> std::process::Command {
        let mut command = std::process::Command::new(cargo_revise());
        command
            .current_dir(self.root())
            .env_remove("DATABASE_URL")
            .env_remove("CLICOLOR_FORCE")
            .env("NO_COLOR", "1");
        command
    }

    /// [`Workspace::clean_command`] pointed at this workspace's database the way the
    /// workspace was made to pass it (flag, environment or env file).
    fn command_with_database(&self) -> std::process::Command {
        let mut command = self.clean_command();
        match self.via {
            UrlVia::Flag => {
                command.arg("--database-url").arg(self.db.url());
            }
            UrlVia::Environment => {
                command.env("DATABASE_URL", self.db.url());
            }
            UrlVia::EnvFile => {}
        }
        command
    }

    /// Runs `cargo-revise ARGS` in the root against this workspace's database and waits for
    /// it. The result is `assert_cmd`'s, so `.success()`, `.code(2)` and the like read well.
    pub fn run<I, S>(&self, args: I) -> Assert
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Command::from_std(self.command_with_database())
            .args(args)
            .assert()
    }

    /// The process [`Workspace::run`] would start, for a test that wires its streams itself
    /// (a closed pipe, a full disk).
    pub fn process<I, S>(&self, args: I) -> std::process::Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = self.command_with_database();
        command.args(args);
        command
    }

    /// Starts `cargo-revise ARGS` like [`Workspace::run`] does, without waiting: for runs
    /// that overlap or get killed. Both output streams are piped
    /// (`Child::wait_with_output` collects them).
    pub fn spawn<I, S>(&self, args: I) -> Child
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command_with_database()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", cargo_revise().display()))
    }

    /// Waits until `child` (started with [`Workspace::spawn`]) is inside a slow revision
    /// whose statement contains `marker`, after `applied` (the version table's rows then).
    /// Panics with the child's output if it ends first, or after 30 seconds.
    ///
    /// On a server, the version table shows `applied` and another session of this database
    /// runs the marked statement. SQLite cannot list statements, and reading while a run
    /// commits can make that commit fail (see the ignored test in `concurrency.rs`), so
    /// there the signal is the rollback journal of an open write transaction, present for
    /// longer than a quick revision takes; only then are the rows read.
    pub fn wait_until_inside(&self, child: &mut Child, applied: &[&str], marker: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut journal_since: Option<Instant> = None;
        loop {
            if let Some(status) = child.try_wait().expect("the child can be polled") {
                let mut stdout = String::new();
                let mut stderr = String::new();
                if let Some(mut out) = child.stdout.take() {
                    let _ = out.read_to_string(&mut stdout);
                }
                if let Some(mut err) = child.stderr.take() {
                    let _ = err.read_to_string(&mut stderr);
                }
                panic!(
                    "the run ended ({status}) before reaching the slow revision:\n{stdout}\n{stderr}"
                );
            }
            let inside = match &self.db {
                TestDb::Sqlite { path } => {
                    let mut journal = path.clone().into_os_string();
                    journal.push("-journal");
                    if Path::new(&journal).exists() {
                        let since = *journal_since.get_or_insert_with(Instant::now);
                        since.elapsed() >= Duration::from_millis(500)
                    } else {
                        journal_since = None;
                        false
                    }
                }
                _ => self.db.version_rows() == applied && self.db.running(marker) == Some(true),
            };
            if inside {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the run did not reach the slow revision within 30 s; rows {:?}",
                self.db.version_rows()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            self.db.version_rows(),
            applied,
            "the slow revision should come right after these"
        );
    }

    /// `text` with this workspace's temporary path replaced by `[ROOT]`, for snapshots.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        // cargo reports the root canonicalized; the temporary folder may sit behind a symlink.
        if let Ok(canonical) = self.root().canonicalize() {
            text = text.replace(&canonical.display().to_string(), "[ROOT]");
        }
        text.replace(&self.root().display().to_string(), "[ROOT]")
    }
}

/// One revision file, described by its parts; [`Rev::text`] renders it in the SPEC section 3
/// format.
#[derive(Clone, Debug)]
pub struct Rev {
    id: String,
    message: String,
    revises: Vec<String>,
    depends_on: Vec<String>,
    up: String,
    up_transaction: bool,
    down: Option<String>,
}

impl Rev {
    /// A root revision `id` with this up SQL and no down section (irreversible until
    /// [`Rev::down`] adds one).
    pub fn new(id: &str, up: &str) -> Self {
        Self {
            id: id.to_owned(),
            message: format!("Revision {id}"),
            revises: Vec::new(),
            depends_on: Vec::new(),
            up: up.to_owned(),
            up_transaction: true,
            down: None,
        }
    }

    /// A revision that creates a table named `id` and drops it on the way down, so that the
    /// tables present show which revisions are applied. `id` must be a valid table name.
    pub fn table(id: &str) -> Self {
        Self::new(id, &format!("CREATE TABLE {id} (id INTEGER PRIMARY KEY);"))
            .message(&format!("Create {id}"))
            .down(&format!("DROP TABLE {id};"))
    }

    /// Adds a parent (`Revises:`).
    pub fn revises(mut self, parent: &str) -> Self {
        self.revises.push(parent.to_owned());
        self
    }

    /// Adds a `Depends On:` entry.
    pub fn depends_on(mut self, id: &str) -> Self {
        self.depends_on.push(id.to_owned());
        self
    }

    /// Replaces the message (the first header line, and the file name's slug).
    pub fn message(mut self, message: &str) -> Self {
        self.message = message.to_owned();
        self
    }

    /// Replaces the up section's SQL.
    pub fn up(mut self, sql: &str) -> Self {
        self.up = sql.to_owned();
        self
    }

    /// Marks the up section `transaction=false` (SPEC section 3): its statements run one by
    /// one, outside a transaction.
    pub fn up_without_transaction(mut self) -> Self {
        self.up_transaction = false;
        self
    }

    /// Sets the down section's SQL.
    pub fn down(mut self, sql: &str) -> Self {
        self.down = Some(sql.to_owned());
        self
    }

    /// `<id>_<slug>.sql`, as `cargo revise new` names files.
    pub fn file_name(&self) -> String {
        let words: Vec<String> = self
            .message
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        format!("{}_{}.sql", self.id, words.join("_"))
    }

    /// The file's text.
    pub fn text(&self) -> String {
        let mut text = format!(
            "-- {}\n--\n-- Revision ID: {}\n-- Revises: {}\n-- Create Date: 2026-01-01 00:00:00.000000\n",
            self.message,
            self.id,
            self.revises.join(", ")
        );
        if !self.depends_on.is_empty() {
            text.push_str(&format!("-- Depends On: {}\n", self.depends_on.join(", ")));
        }
        let options = if self.up_transaction {
            ""
        } else {
            " transaction=false"
        };
        text.push_str(&format!("\n-- revise:up{options}\n{}\n", self.up));
        if let Some(down) = &self.down {
            text.push_str(&format!("\n-- revise:down\n{down}\n"));
        }
        text
    }
}

fn write(path: &Path, contents: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap_or_else(|e| panic!("creating {}: {e}", parent.display()));
    }
    fs::write(path, contents).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// Copies the folder tree `from` (inside `root`) to `to`, leaving out what a build or a run
/// leaves behind (`target/`, SQLite files and their journals), so a developer's local state
/// never leaks into a test.
/// Copies the repository's `template/` workspace into `to` as [`Workspace::template`] does
/// (without `target/` and database files, path dependencies that leave it made absolute).
pub fn copy_template(to: &Path) {
    let template = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../template")
        .canonicalize()
        .expect("the repository has template/");
    copy_tree(&template, &template, to);
}

fn copy_tree(root: &Path, from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap_or_else(|e| panic!("reading {}: {e}", from.display())) {
        let entry = entry.expect("a directory entry");
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == "target" || name.contains(".db") {
            continue;
        }
        let source = entry.path();
        let destination: PathBuf = to.join(&*name);
        if source.is_dir() {
            fs::create_dir_all(&destination).expect("create a folder");
            copy_tree(root, &source, &destination);
        } else if name == "Cargo.toml" {
            let text = fs::read_to_string(&source)
                .unwrap_or_else(|e| panic!("reading {}: {e}", source.display()));
            write(&destination, absolute_outside_paths(&text, root, from));
        } else {
            fs::copy(&source, &destination).unwrap_or_else(|e| {
                panic!(
                    "copying {} to {}: {e}",
                    source.display(),
                    destination.display()
                )
            });
        }
    }
}

/// `manifest` (a Cargo.toml in `dir`, inside `root`) with every `path = "..."` that points
/// outside `root` made absolute, so that it still resolves from a copy elsewhere.
fn absolute_outside_paths(manifest: &str, root: &Path, dir: &Path) -> String {
    let key = "path = \"";
    let mut out = String::new();
    let mut rest = manifest;
    while let Some(start) = rest.find(key) {
        let value_start = start + key.len();
        let Some(length) = rest[value_start..].find('"') else {
            break;
        };
        let value = &rest[value_start..value_start + length];
        out.push_str(&rest[..value_start]);
        match dir.join(value).canonicalize() {
            Ok(target) if !target.starts_with(root) => out.push_str(&target.display().to_string()),
            _ => out.push_str(value),
        }
        rest = &rest[value_start + length..];
    }
    out.push_str(rest);
    out
}
