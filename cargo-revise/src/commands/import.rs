//! `cargo revise import diesel [DIR] -p MEMBER`: a diesel migrations folder becomes a chain of
//! revision files, so a diesel project switches without losing its history.
//!
//! diesel_migrations' own file-based source finds and names the migrations (the same rules
//! diesel uses); their SQL files are copied into revision files in version order.

use std::path::{Path, PathBuf};

use diesel::migration::MigrationSource;
use diesel::sqlite::Sqlite;
use diesel_migrations::FileBasedMigrations;

use crate::cli::{ImportArgs, ImportSource};
use crate::error::CliError;
use crate::scaffold::{self, NewRevision};

use super::Context;

/// One diesel migration, read.
struct DieselMigration {
    folder: String,
    version: String,
    up: String,
    down: Option<String>,
    transactional: bool,
}

/// Imports and prints what it wrote and how to mark an existing database.
pub fn run(context: &Context, args: &ImportArgs) -> Result<(), CliError> {
    let ImportSource::Diesel { dir } = &args.source;
    let member = crate::workspace::select_member(&context.workspace, &context.global.packages)?;
    let graph = context.workspace.load_graph().map_err(CliError::from)?;
    let source = match dir {
        Some(dir) => FileBasedMigrations::from_path(dir),
        None => FileBasedMigrations::find_migrations_directory(),
    }
    .map_err(|e| CliError::bad_input(format!("cannot read the diesel migrations folder: {e}")))?;
    let migrations = read_migrations(&source)?;
    if migrations.is_empty() {
        return Err(CliError::bad_input(format!(
            "{} holds no diesel migrations",
            source.path().display()
        )));
    }
    // Chain onto the member's single head, if it already has revisions.
    let heads: Vec<String> = graph
        .heads()
        .into_iter()
        .filter(|&n| *graph.revision(n).origin.member == *member.label)
        .map(|n| graph.id(n).to_owned())
        .collect();
    if heads.len() > 1 {
        return Err(CliError::bad_input(format!(
            "member `{}` has several heads ({}); merge them before importing",
            member.name,
            heads.join(", ")
        )));
    }
    let mut parent = heads.into_iter().next();
    let mut files = Vec::new();
    for migration in &migrations {
        let id = revise_runtime::RevisionId::new(&migration.version).map_err(|e| {
            CliError::bad_input(format!("diesel migration `{}`: {e}", migration.folder))
        })?;
        if let Some(existing) = graph.node(id.as_str()) {
            return Err(CliError::bad_input(format!(
                "diesel migration `{}` would become revision {id}, which {} already declares",
                migration.folder,
                graph.revision(existing).origin.path.display()
            )));
        }
        let text = render(migration, id.as_str(), parent.as_deref());
        let name = migration
            .folder
            .split_once('_')
            .map_or(migration.folder.as_str(), |(_, n)| n);
        let file = member
            .migrations_dir
            .join(format!("{id}_{}.sql", scaffold::slug(name)));
        files.push((file, text));
        parent = Some(id.to_string());
    }
    check_parses(&files, &member.label, &context.workspace.root)?;
    std::fs::create_dir_all(&member.migrations_dir).map_err(|e| {
        CliError::failed(format!(
            "cannot create {}: {e}",
            member.migrations_dir.display()
        ))
    })?;
    for (file, text) in &files {
        std::fs::write(file, text)
            .map_err(|e| CliError::failed(format!("cannot write {}: {e}", file.display())))?;
        context.printer.line(format!(
            "  Imported {}",
            shown(file, &context.workspace.root)
        ));
    }
    context.printer.line(format!(
        "Imported {} diesel migration(s) into member `{}`. If a database already ran them with diesel, mark them applied with `cargo revise stamp {}`.",
        files.len(),
        member.name,
        parent.unwrap_or_default()
    ));
    Ok(())
}

fn read_migrations(source: &FileBasedMigrations) -> Result<Vec<DieselMigration>, CliError> {
    let listed = MigrationSource::<Sqlite>::migrations(source)
        .map_err(|e| CliError::bad_input(format!("cannot read the diesel migrations: {e}")))?;
    let mut migrations = Vec::new();
    for migration in listed {
        let folder = migration.name().to_string();
        let version = migration.name().version().to_string();
        let dir = source.path().join(&folder);
        let read = |file: &str| std::fs::read_to_string(dir.join(file));
        let up = read("up.sql")
            .map_err(|e| CliError::bad_input(format!("{}: {e}", dir.join("up.sql").display())))?;
        let down = read("down.sql").ok().filter(|d| !d.trim().is_empty());
        migrations.push(DieselMigration {
            folder,
            version,
            up,
            down,
            transactional: migration.metadata().run_in_transaction(),
        });
    }
    // diesel applies migrations in version order.
    migrations.sort_by(|a, b| a.version.cmp(&b.version));
    Ok(migrations)
}

fn render(migration: &DieselMigration, id: &str, parent: Option<&str>) -> String {
    let name = migration
        .folder
        .split_once('_')
        .map_or(migration.folder.as_str(), |(_, n)| n);
    let message = format!(
        "{} (imported from diesel migration {})",
        name.replace('_', " "),
        migration.folder
    );
    let revises: Vec<String> = parent.map(str::to_owned).into_iter().collect();
    let create_date = create_date(&migration.version);
    let header = scaffold::render_revision(&NewRevision {
        message: &message,
        id,
        revises: &revises,
        depends_on: &[],
        branch_labels: &[],
        create_date: create_date.as_deref(),
    });
    // The scaffold ends with empty up and down sections; fill them instead.
    let header = header.split("-- revise:up").next().unwrap_or_default();
    let option = if migration.transactional {
        ""
    } else {
        " transaction=false"
    };
    let mut text = format!(
        "{header}-- revise:up{option}\n{}\n",
        migration.up.trim_end()
    );
    if let Some(down) = &migration.down {
        text.push_str(&format!("\n-- revise:down{option}\n{}\n", down.trim_end()));
    }
    text
}

/// The `Create Date` a diesel version that is a timestamp stands for: diesel names
/// migrations `2019-02-26-002946_x` (its default) or `20190226002946_x`, and reads both as
/// the version `20190226002946`. Any other version (`00000000000000`, `1`, `v2`) gives
/// `None`, and the revision is dated by the import, as before.
fn create_date(version: &str) -> Option<String> {
    let digits: String = version.chars().filter(|c| *c != '-').collect();
    if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let field = |range: std::ops::Range<usize>| digits[range].parse::<u8>().ok();
    let year: i32 = digits[..4].parse().ok()?;
    let month = time::Month::try_from(field(4..6)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, field(6..8)?).ok()?;
    let time = time::Time::from_hms(field(8..10)?, field(10..12)?, field(12..14)?).ok()?;
    let at = time::PrimitiveDateTime::new(date, time);
    Some(format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.000000",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    ))
}

/// Parses every new file before writing any, so a migration whose SQL happens to contain a
/// `-- revise:` line is refused instead of half imported.
fn check_parses(files: &[(PathBuf, String)], label: &str, root: &Path) -> Result<(), CliError> {
    for (file, text) in files {
        revise_runtime::parse::parse_revision(
            &PathBuf::from(shown(file, root)),
            label,
            text.as_bytes(),
        )
        .map_err(|e| {
            CliError::bad_input(format!(
                "cannot import: the revision for {} would be invalid: {e}",
                file.display()
            ))
        })?;
    }
    Ok(())
}

fn shown(file: &Path, root: &Path) -> String {
    file.strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::create_date;

    #[test]
    fn a_timestamp_version_gives_the_create_date() {
        for version in ["20190226002946", "2019-02-26-002946"] {
            assert_eq!(
                create_date(version).as_deref(),
                Some("2019-02-26 00:29:46.000000"),
                "{version}"
            );
        }
    }

    #[test]
    fn other_versions_keep_the_import_date() {
        for version in [
            "00000000000000",
            "20191326002946",
            "20190230002946",
            "20190226256000",
            "2019022600294",
            "201902260029467",
            "1",
            "v2",
            "2019x226002946",
        ] {
            assert_eq!(create_date(version), None, "{version}");
        }
    }
}
