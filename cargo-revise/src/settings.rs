//! Where the database is: `--database-url`, else `DATABASE_URL`, else the env file (SPEC
//! section 4), and the version table's name.

use std::path::{Path, PathBuf};

use revise_runtime::backend::VersionTable;
use revise_runtime::run_log::{LogAuthor, LogTable};
use revise_runtime::DatabaseUrl;

use crate::cli::GlobalArgs;
use crate::error::CliError;
use crate::workspace::Workspace;

/// Where a `DATABASE_URL` came from; decides what a relative SQLite path is relative to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UrlSource {
    /// `--database-url`.
    Flag,
    /// The `DATABASE_URL` environment variable.
    Environment,
    /// The env file at this path.
    EnvFile(PathBuf),
}

impl std::fmt::Display for UrlSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Flag => f.write_str("--database-url"),
            Self::Environment => f.write_str("the DATABASE_URL environment variable"),
            Self::EnvFile(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The database URL and where it came from.
#[derive(Clone, Debug)]
pub struct DatabaseSetting {
    /// The parsed URL.
    pub url: DatabaseUrl,
    /// Its source.
    pub source: UrlSource,
}

/// The env file to read: `--env-file`, else the workspace's configured one.
pub fn env_file_path(global: &GlobalArgs, workspace: &Workspace) -> PathBuf {
    match &global.env_file {
        Some(path) => path.clone(),
        None => workspace.root.join(&workspace.config.env_file),
    }
}

/// Finds `DATABASE_URL` by precedence and parses it; an error when there is none.
pub fn database_url(
    global: &GlobalArgs,
    workspace: &Workspace,
) -> Result<DatabaseSetting, CliError> {
    configured_database_url(global, workspace)?.ok_or_else(|| {
        let path = env_file_path(global, workspace);
        CliError::bad_input("no database URL: none was given with --database-url, in the DATABASE_URL environment variable, or in the env file")
            .with_hint(format!("add a line like `DATABASE_URL=sqlite://dev.db` to {}, or run `cargo revise init`", path.display()))
    })
}

/// Finds `DATABASE_URL` by precedence and parses it; `None` when none is configured.
pub fn configured_database_url(
    global: &GlobalArgs,
    workspace: &Workspace,
) -> Result<Option<DatabaseSetting>, CliError> {
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::failed(format!("cannot read the current directory: {e}")))?;
    let (text, source, base) = if let Some(url) = &global.database_url {
        (url.clone(), UrlSource::Flag, cwd)
    } else if let Some(url) = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        (url, UrlSource::Environment, cwd)
    } else {
        let path = env_file_path(global, workspace);
        let Some(url) = read_env_file(&path, global.env_file.is_some())? else {
            return Ok(None);
        };
        let base = path.parent().map(Path::to_owned).unwrap_or(cwd);
        (url, UrlSource::EnvFile(path), base)
    };
    let url = DatabaseUrl::parse(&text, &base)
        .map_err(|e| CliError::bad_input(format!("{e} (from {source})")))?;
    Ok(Some(DatabaseSetting { url, source }))
}

/// `DATABASE_URL` from an env file. A missing file is only an error when it was asked for.
fn read_env_file(path: &Path, required: bool) -> Result<Option<String>, CliError> {
    if !path.exists() {
        return if required {
            Err(CliError::bad_input(format!(
                "env file {} does not exist",
                path.display()
            )))
        } else {
            Ok(None)
        };
    }
    let entries = dotenvy::from_path_iter(path).map_err(|e| env_error(path, &e))?;
    let mut found = None;
    for entry in entries {
        let (key, value) = entry.map_err(|e| env_error(path, &e))?;
        if key == "DATABASE_URL" {
            found = Some(value);
        }
    }
    Ok(found.filter(|v| !v.trim().is_empty()))
}

fn env_error(path: &Path, error: &dotenvy::Error) -> CliError {
    let detail = match error {
        dotenvy::Error::LineParse(line, index) => {
            format!("cannot parse `{}` (at character {index})", line.trim_end())
        }
        other => other.to_string(),
    };
    CliError::bad_input(format!("env file {}: {detail}", path.display()))
        .with_hint("each line must be KEY=value; quote values that contain spaces or `#`")
}

/// The configured version table (and PostgreSQL schema), checked.
pub fn version_table(workspace: &Workspace) -> Result<VersionTable, CliError> {
    let refuse = |e: revise_runtime::backend::InvalidTableName| {
        CliError::bad_input(format!(
            "{}: [workspace.metadata.revise] version table {e}",
            workspace.root.join("Cargo.toml").display()
        ))
    };
    let table = VersionTable::new(&workspace.config.version_table).map_err(refuse)?;
    match &workspace.config.version_table_schema {
        Some(schema) => table.in_schema(schema).map_err(refuse),
        None => Ok(table),
    }
}

/// The configured run log (`None` when `log_table = false`), in the version table's
/// PostgreSQL schema.
pub fn log_table(workspace: &Workspace) -> Result<Option<LogTable>, CliError> {
    let Some(name) = workspace.config.log_table.table_name() else {
        return Ok(None);
    };
    let refuse = |e: revise_runtime::backend::InvalidTableName| {
        CliError::bad_input(format!(
            "{}: [workspace.metadata.revise] log_table {e}",
            workspace.root.join("Cargo.toml").display()
        ))
    };
    let table = LogTable::new(name).map_err(refuse)?;
    match &workspace.config.version_table_schema {
        Some(schema) => table.in_schema(schema).map(Some).map_err(refuse),
        None => Ok(Some(table)),
    }
}

/// Who the run log says ran a command: this tool, the user and the host.
pub fn log_author() -> LogAuthor {
    LogAuthor::of_this_process(concat!("cargo-revise ", env!("CARGO_PKG_VERSION")))
}
