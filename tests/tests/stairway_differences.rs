//! What `cargo revise test` shows when a revision fails the stairway: each object that
//! differs, named, with both versions; the same as data with `--format json`. On every
//! backend (this file goes through all three itself).

use revise_tests::{Backend, Captured, Rev, Workspace};
use serde_json::Value;

fn on_each_backend(test: &str, body: impl Fn(Backend)) {
    for backend in Backend::ALL {
        if backend.skip(test) {
            continue;
        }
        body(backend);
    }
}

/// `accounts` with a `status` whose default is `'new'`.
fn accounts() -> Rev {
    Rev::new(
        "a1",
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, status VARCHAR(10) DEFAULT 'new');",
    )
    .message("Accounts")
    .down("DROP TABLE accounts;")
}

#[test]
fn a_down_that_forgets_an_index_names_it_with_its_definition() {
    on_each_backend(
        "a_down_that_forgets_an_index_names_it_with_its_definition",
        |backend| {
            let ws = Workspace::with_backend(&["users"], backend);
            ws.revision("users", &accounts());
            ws.revision(
                "users",
                &Rev::new("a2", "CREATE INDEX accounts_status ON accounts (status);")
                    .revises("a1")
                    .down("SELECT 1;"),
            );

            let out = ws.run(["test"]).code(1);

            let stderr = out.stderr_text();
            let context = format!("{backend}:\n{stderr}");
            assert!(
                stderr.contains("the down of revision a2 (users/migrations/a2_revision_a2.sql) does not restore the schema; 1 object(s) differ:"),
                "{context}"
            );
            let (name, definition) = match backend {
                Backend::Sqlite => (
                    "accounts_status",
                    "+CREATE INDEX accounts_status ON accounts (status)",
                ),
                Backend::Postgres => (
                    "accounts_status",
                    "+CREATE INDEX accounts_status ON public.accounts USING btree (status)",
                ),
                Backend::Mysql => ("accounts.accounts_status", "+INDEX (status) USING BTREE"),
            };
            assert!(
                stderr.contains(&format!(
                    "  index {name}: left after the down\n    {definition}\n"
                )),
                "{context}"
            );
        },
    );
}

#[test]
fn a_down_that_leaves_another_default_shows_both_versions() {
    on_each_backend(
        "a_down_that_leaves_another_default_shows_both_versions",
        |backend| {
            let ws = Workspace::with_backend(&["users"], backend);
            ws.revision("users", &accounts());
            ws.revision(
                "users",
                &Rev::new("a2", "ALTER TABLE accounts DROP COLUMN status;")
                    .revises("a1")
                    .down("ALTER TABLE accounts ADD COLUMN status VARCHAR(10) DEFAULT 'old';"),
            );

            let out = ws.run(["test"]).code(1);

            let stderr = out.stderr_text();
            let context = format!("{backend}:\n{stderr}");
            let (before, after) = match backend {
                Backend::Sqlite => ("VARCHAR(10) DEFAULT 'new'", "VARCHAR(10) DEFAULT 'old'"),
                Backend::Postgres => (
                    "character varying(10) DEFAULT 'new'::character varying",
                    "character varying(10) DEFAULT 'old'::character varying",
                ),
                Backend::Mysql => ("varchar(10) DEFAULT 'new'", "varchar(10) DEFAULT 'old'"),
            };
            assert!(
                stderr.contains(&format!(
                    "  column accounts.status: differs after the down\n    -{before}\n    +{after}\n"
                )),
                "{context}"
            );
            assert!(
                stderr
                    .contains("help: make the down section undo exactly what the up section does"),
                "{context}"
            );
        },
    );
}

/// A view whose text holds the time it was made: PostgreSQL evaluates `'now'::timestamp`
/// when the view is created; MySQL can be made to with a prepared `CREATE VIEW`.
fn stamped_view(backend: Backend) -> Option<&'static str> {
    match backend {
        Backend::Postgres => Some("CREATE VIEW stamped AS SELECT 'now'::timestamp AS t;"),
        Backend::Mysql => Some(
            "SET @v = CONCAT('CREATE VIEW stamped AS SELECT ''', NOW(6), ''' AS t');\nPREPARE make_view FROM @v;\nEXECUTE make_view;\nDEALLOCATE PREPARE make_view;",
        ),
        Backend::Sqlite => None,
    }
}

#[test]
fn a_view_that_embeds_its_creation_time_is_shown_differing_when_re_applied() {
    on_each_backend(
        "a_view_that_embeds_its_creation_time_is_shown_differing_when_re_applied",
        |backend| {
            let Some(up) = stamped_view(backend) else {
                eprintln!(
                    "SKIPPED the creation-time view on {backend}: SQLite keeps a view's text as written and has no dynamic SQL, so no view can hold the time it was made"
                );
                return;
            };
            let ws = Workspace::with_backend(&["users"], backend);
            ws.revision("users", &Rev::new("v1", up).down("DROP VIEW stamped;"));

            let out = ws.run(["test"]).code(1);

            let stderr = out.stderr_text();
            let context = format!("{backend}:\n{stderr}");
            assert!(
                stderr.contains("revision v1 (users/migrations/v1_revision_v1.sql) leaves a different schema when re-applied after its down; 1 object(s) differ:\n  view stamped: differs when re-applied\n"),
                "{context}"
            );
            let changed: Vec<&str> = stderr
                .lines()
                .filter(|l| l.starts_with("    -") || l.starts_with("    +"))
                .collect();
            assert_eq!(changed.len(), 2, "{context}");
            assert!(changed[0].starts_with("    -") && changed[1].starts_with("    +"));
            assert_ne!(changed[0][5..], changed[1][5..], "{context}");
            for line in changed {
                assert!(
                    line.contains("'20") && line.contains(" AS "),
                    "a timestamp in {line}"
                );
            }
        },
    );
}

#[test]
fn json_lists_the_differences_as_data() {
    on_each_backend("json_lists_the_differences_as_data", |backend| {
        let ws = Workspace::with_backend(&["users"], backend);
        ws.revision("users", &accounts());
        ws.revision(
            "users",
            &Rev::new(
                "a2",
                "CREATE TABLE notes (id INTEGER PRIMARY KEY);\nCREATE INDEX accounts_status ON accounts (status);",
            )
            .revises("a1")
            .down("SELECT 1;"),
        );

        let out = ws.run(["test", "--format", "json"]).code(1);

        let document: Value = serde_json::from_str(&out.stdout_text())
            .unwrap_or_else(|e| panic!("{backend}: not JSON ({e}):\n{}", out.stdout_text()));
        assert_eq!(document["passed"], false, "{backend}: {document:#}");
        assert_eq!(document["checked"][0]["id"], "a1");
        let failure = &document["failure"];
        assert_eq!(failure["revision"], "a2");
        assert_eq!(failure["check"], "down_restores_schema");
        let differences = failure["differences"].as_array().expect("a list");
        let named: Vec<(&str, &str, &str)> = differences
            .iter()
            .map(|d| {
                (
                    d["object"].as_str().unwrap_or_default(),
                    d["name"].as_str().unwrap_or_default(),
                    d["change"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        let index = if backend == Backend::Mysql {
            "accounts.accounts_status"
        } else {
            "accounts_status"
        };
        assert_eq!(
            named,
            [("table", "notes", "added"), ("index", index, "added")],
            "{backend}: {document:#}"
        );
        let table = &differences[0];
        assert!(table["before"].is_null());
        assert!(
            table["after"]
                .as_str()
                .unwrap_or_default()
                .starts_with("id "),
            "the table's columns: {table:#}"
        );
        assert!(table["diff"]
            .as_str()
            .unwrap_or_default()
            .contains("\n+id "));
        assert!(out.stderr_text().is_empty(), "{}", out.stderr_text());
    });
}

#[test]
fn a_passing_stairway_in_json_lists_every_revision() {
    let ws = Workspace::with_backend(&["users"], Backend::Sqlite);
    ws.revision("users", &accounts());
    let out = ws.run(["test", "--format", "json"]).success();
    let document: Value = serde_json::from_str(&out.stdout_text()).expect("JSON");
    assert_eq!(document["passed"], true);
    assert_eq!(document["failure"], Value::Null);
    assert_eq!(document["checked"][0]["checked"], "up, down, up");
}

/// A trigger whose body holds several statements (one statement to the server: the
/// splitter must not cut it), and the table it writes to.
fn audit_trigger(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "CREATE TABLE audit (n INTEGER);\nCREATE TRIGGER accounts_audit AFTER INSERT ON accounts BEGIN\n  INSERT INTO audit VALUES (1);\n  INSERT INTO audit VALUES (2);\nEND;",
        Backend::Mysql => "CREATE TABLE audit (n INTEGER);\nCREATE TRIGGER accounts_audit AFTER INSERT ON accounts FOR EACH ROW BEGIN\n  INSERT INTO audit VALUES (1);\n  INSERT INTO audit VALUES (2);\nEND;",
        Backend::Postgres => "CREATE TABLE audit (n INTEGER);\nCREATE FUNCTION audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  INSERT INTO audit VALUES (1);\n  INSERT INTO audit VALUES (2);\n  RETURN NEW;\nEND $$;\nCREATE TRIGGER accounts_audit AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION audit_insert();",
    }
}

#[test]
fn a_down_that_forgets_a_trigger_names_it() {
    on_each_backend("a_down_that_forgets_a_trigger_names_it", |backend| {
        let ws = Workspace::with_backend(&["users"], backend);
        ws.revision("users", &accounts());
        ws.revision(
            "users",
            &Rev::new("a2", audit_trigger(backend))
                .revises("a1")
                .down("DROP TABLE audit;"),
        );
        // The trigger's body arrived whole: both of its inserts run.
        ws.run(["up"]).success();
        ws.db().execute("INSERT INTO accounts (id) VALUES (1)");
        let count = ws
            .db()
            .strings("SELECT CAST(COUNT(*) AS CHAR(10)) AS name FROM audit");
        assert_eq!(count[0].trim(), "2", "{backend}");

        let out = ws.run(["test"]).code(1);

        let stderr = out.stderr_text();
        let context = format!("{backend}:\n{stderr}");
        let (objects, trigger) = match backend {
            Backend::Sqlite => (1, "accounts_audit"),
            Backend::Mysql => (1, "accounts.accounts_audit"),
            // The function the trigger calls is left too.
            Backend::Postgres => (2, "accounts.accounts_audit"),
        };
        assert!(
            stderr.contains(&format!(
                "does not restore the schema; {objects} object(s) differ:"
            )),
            "{context}"
        );
        assert!(
            stderr.contains(&format!("  trigger {trigger}: left after the down\n    +")),
            "{context}"
        );
        if backend == Backend::Postgres {
            assert!(
                stderr.contains("  function audit_insert(): left after the down\n    +CREATE OR REPLACE FUNCTION public.audit_insert()"),
                "{context}"
            );
        }
    });
}

#[test]
fn a_down_that_forgets_a_sequence_names_it() {
    on_each_backend("a_down_that_forgets_a_sequence_names_it", |backend| {
        if backend == Backend::Sqlite {
            eprintln!("SKIPPED the sequence on {backend}: SQLite has no sequences");
            return;
        }
        let ws = Workspace::with_backend(&["users"], backend);
        // Columns that own a sequence (identity, serial) come and go with their table.
        let owner = match backend {
            Backend::Postgres => {
                "CREATE TABLE invoices (id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n SERIAL);"
            }
            _ => "CREATE TABLE invoices (id INTEGER AUTO_INCREMENT PRIMARY KEY);",
        };
        ws.revision("users", &Rev::new("i1", owner).down("DROP TABLE invoices;"));
        ws.revision(
            "users",
            &Rev::new("i2", "CREATE SEQUENCE invoice_numbers START WITH 1000;")
                .revises("i1")
                .down("SELECT 1;"),
        );

        let out = ws.run(["test"]).code(1);

        let stdout = out.stdout_text();
        let stderr = out.stderr_text();
        let context = format!("{backend}:\n{stdout}{stderr}");
        assert!(stdout.contains("i1: up, down, up"), "{context}");
        assert!(
            stderr.contains("does not restore the schema; 1 object(s) differ:\n  sequence invoice_numbers: left after the down\n"),
            "{context}"
        );
        if backend == Backend::Postgres {
            assert!(
                stderr.contains("    +bigint START 1000 INCREMENT 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1\n"),
                "{context}"
            );
        }
    });
}
