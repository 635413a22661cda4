//! `cargo revise database create | drop | reset | setup`: the configured database itself,
//! as diesel's and sqlx's CLIs offer it. The runtime's `backend::database` does the work;
//! this file asks before dropping and chains `reset` and `setup` into `up`.

use revise_runtime::backend::database::{self, Created, Dropped};
use revise_runtime::DatabaseUrl;

use crate::cli::{DatabaseAction, DatabaseArgs, DropArgs, RunArgs, UpArgs};
use crate::error::CliError;

use super::{migrate, Context};

/// Runs one `database` subcommand.
pub fn run(context: &Context, args: &DatabaseArgs) -> Result<(), CliError> {
    match &args.action {
        DatabaseAction::Create => create(context, &database_url(context)?),
        DatabaseAction::Drop(drop) => drop_database(context, &database_url(context)?, drop),
        DatabaseAction::Reset(reset) => {
            let url = database_url(context)?;
            // Bad revision files stop the reset before the database is dropped.
            context.workspace.load_graph().map_err(CliError::from)?;
            drop_database(context, &url, &reset.drop)?;
            create(context, &url)?;
            up(context, reset.lock_timeout)
        }
        DatabaseAction::Setup(setup) => {
            let url = database_url(context)?;
            context.workspace.load_graph().map_err(CliError::from)?;
            create(context, &url)?;
            up(context, setup.lock_timeout)
        }
    }
}

/// The configured URL, its database name checked before anything connects.
fn database_url(context: &Context) -> Result<DatabaseUrl, CliError> {
    let url = context.database()?.url;
    database::check_url(&url)?;
    Ok(url)
}

fn create(context: &Context, url: &DatabaseUrl) -> Result<(), CliError> {
    match database::create_database(url)? {
        Created::New => context.printer.line(format!("Created database {url}")),
        Created::Existed => context
            .printer
            .line(format!("Database {url} already exists; nothing to create")),
    }
    Ok(())
}

fn drop_database(context: &Context, url: &DatabaseUrl, args: &DropArgs) -> Result<(), CliError> {
    // A database that is not there needs no confirmation.
    if !database::database_exists(url)? {
        context
            .printer
            .line(format!("Database {url} does not exist; nothing to drop"));
        return Ok(());
    }
    if !args.yes {
        confirm(url)?;
    }
    match database::drop_database(url, args.force)? {
        Dropped::Dropped => context.printer.line(format!("Dropped database {url}")),
        Dropped::Absent => context
            .printer
            .line(format!("Database {url} does not exist; nothing to drop")),
    }
    Ok(())
}

/// Asks on the terminal; without one, refuses (a script must say `-y`).
fn confirm(url: &DatabaseUrl) -> Result<(), CliError> {
    super::confirm::ask(
        &format!("Drop database {url}? Everything in it will be lost. [y/N] "),
        &format!("refusing to drop database {url}"),
        "pass -y (--yes) to drop it without asking",
    )
    .map_err(|refused| match refused {
        super::confirm::Refused::NotATerminal(e) => e,
        super::confirm::Refused::Declined => CliError::failed(format!(
            "database {url} was not dropped: the answer was not `y`"
        )),
    })
}

/// `up` with its defaults (every head, or `MEMBER@head` with one `-p`) and the report.
fn up(context: &Context, lock_timeout: u64) -> Result<(), CliError> {
    let args = UpArgs {
        target: None,
        run: RunArgs::report(lock_timeout),
        fleet: crate::cli::FleetArgs::default(),
        fleet_run: crate::cli::FleetRunArgs::default(),
    };
    migrate::up(context, &args)
}
