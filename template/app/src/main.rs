//! The template's application: it migrates its database at start-up with the revisions that
//! `build.rs` embedded, printing the status report, then adds an example and lists them.
//! A failure is reported as `cargo revise` reports one: `error: ...` and exit status 1.

use std::io::Write;

use catalog::schema::examples;
use diesel::prelude::*;
use revise_runtime::{DatabaseUrl, Migrator};

revise_runtime::include_revisions!();

fn main() -> std::process::ExitCode {
    revise_runtime::report_errors(|| {
        // DATABASE_URL, else the nearest .env (the workspace's), read as `cargo revise` reads it.
        let url = DatabaseUrl::from_env()?;
        let DatabaseUrl::Sqlite { path } = &url else {
            return Err(format!("the template app uses SQLite, but DATABASE_URL is {url}").into());
        };
        let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;

        Migrator::new(&REVISIONS).run(&mut conn)?;

        let name = std::env::args()
            .nth(1)
            .unwrap_or_else(|| "First example".to_owned());
        diesel::insert_into(examples::table)
            .values((examples::name.eq(&name), examples::priority.eq(1)))
            .execute(&mut conn)?;
        let rows: Vec<(i32, String, i32)> = examples::table
            .select((examples::id, examples::name, examples::priority))
            .order(examples::id)
            .load(&mut conn)?;
        // Written, not printed: `println!` panics when the output has gone away.
        let mut out = std::io::stdout().lock();
        writeln!(out, "{} example(s):", rows.len())?;
        for (id, name, priority) in rows {
            writeln!(out, "  #{id} {name} (priority {priority})")?;
        }
        out.flush()?;
        Ok(())
    })
}
