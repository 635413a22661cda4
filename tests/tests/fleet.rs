//! Fleets (SPEC section 11): one command over many databases, on the machine's real SQLite,
//! PostgreSQL and MariaDB. Every test makes its own uniquely named databases and schemas
//! (dropped when their handles go), declares fleets over them in the workspace manifest,
//! runs the built binary, and reads the databases back directly.

use std::collections::BTreeMap;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use assert_cmd::assert::Assert;
use revise_tests::{Backend, Captured, Rev, TestDb, Workspace};
use serde_json::Value;

/// A workspace with one member `app` whose revisions are the tables `ids`, in a chain.
fn workspace(ids: &[&str]) -> Workspace {
    let ws = Workspace::with_backend(&["app"], Backend::Sqlite);
    ws.chain("app", ids);
    ws
}

/// `count` empty SQLite files `data/<prefix>NNN.db` (an empty file is an empty database).
fn sqlite_files(ws: &Workspace, prefix: &str, count: usize) -> Vec<TestDb> {
    std::fs::create_dir_all(ws.root().join("data")).expect("data/");
    (0..count)
        .map(|i| {
            let path = ws.root().join(format!("data/{prefix}{i:03}.db"));
            std::fs::write(&path, "").expect("an empty SQLite file");
            TestDb::sqlite(path)
        })
        .collect()
}

/// The URL of `db`'s server with another database (the one `databases` entries replace).
fn server_url(db: &TestDb, database: &str) -> String {
    db.server_url(&db.server_credentials(), database)
}

/// Runs `cargo revise ARGS` in the workspace with `env` set (no database URL of its own).
fn run(ws: &Workspace, env: &[(&str, &str)], args: &[&str]) -> Assert {
    let mut command = ws.command();
    for (key, value) in env {
        command.env(key, value);
    }
    command.args(args).assert()
}

/// The summary file of the last `up`, `down` or `stamp`.
fn summary(ws: &Workspace) -> Value {
    let path = ws.root().join("target/revise/fleet-last.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).expect("the summary is JSON")
}

/// `id -> status` of a summary document.
fn statuses(document: &Value) -> BTreeMap<String, String> {
    document["databases"]
        .as_array()
        .expect("databases")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().expect("an id").to_owned(),
                r["status"].as_str().expect("a status").to_owned(),
            )
        })
        .collect()
}

fn json(out: &Assert) -> Value {
    serde_json::from_str(&out.stdout_text()).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}",
            out.stdout_text()
        )
    })
}

/// The version rows kept in `schema` of a PostgreSQL database.
fn schema_rows(db: &TestDb, schema: &str) -> Vec<String> {
    db.strings(&format!(
        "SELECT version_num AS name FROM \"{schema}\".alembic_version ORDER BY 1"
    ))
}

/// The tables of `schema`, sorted.
fn schema_tables(db: &TestDb, schema: &str) -> Vec<String> {
    db.strings(&format!(
        "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = '{schema}' ORDER BY 1"
    ))
}

fn mysql_available(test: &str) -> bool {
    !Backend::Mysql.skip(test)
}

#[test]
fn a_mixed_fleet_reaches_head_and_a_rerun_finds_it_up_to_date() {
    let ws = workspace(&["a1", "a2", "a3"]);
    let stores = sqlite_files(&ws, "store_", 50);
    let shards: Vec<TestDb> = (0..20).map(|_| TestDb::postgres()).collect();
    // Ten tenants (and one inactive one the query leaves out) in schemas of one database,
    // listed by a query on a catalog table in that same database.
    let tenants_db = TestDb::postgres();
    let mut setup = String::from("CREATE TABLE tenants (name TEXT, active BOOLEAN);");
    for i in 0..11 {
        setup.push_str(&format!(
            "CREATE SCHEMA tenant_{i:02}; INSERT INTO tenants VALUES ('tenant_{i:02}', {});",
            i != 10
        ));
    }
    tenants_db.execute(&setup);
    let with_mysql = mysql_available("the MariaDB part of the mixed fleet");
    let marias: Vec<TestDb> = if with_mysql {
        (0..10).map(|_| TestDb::mysql()).collect()
    } else {
        Vec::new()
    };
    let quoted = |dbs: &[TestDb]| {
        dbs.iter()
            .map(|db| format!("\"{}\"", db.name().expect("a server database")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut manifest = format!(
        "[workspace.metadata.revise.fleet.stores]\nsqlite_glob = \"data/store_*.db\"\n\n\
         [workspace.metadata.revise.fleet.shards]\nurl = \"env:SHARD_SERVER\"\ndatabases = [{}]\n\n\
         [workspace.metadata.revise.fleet.tenants]\nurl = \"env:TENANTS_URL\"\ncatalog_url = \"env:TENANTS_URL\"\n\
         sql = \"SELECT name AS id, name AS schema FROM tenants WHERE active ORDER BY name\"\n",
        quoted(&shards)
    );
    let mut fleets = vec!["stores", "shards", "tenants"];
    if with_mysql {
        manifest.push_str(&format!(
            "\n[workspace.metadata.revise.fleet.maria]\nurl = \"env:MARIA_SERVER\"\ndatabases = [{}]\n",
            quoted(&marias)
        ));
        fleets.push("maria");
    }
    ws.append_manifest(&manifest);
    let shard_server = server_url(&shards[0], "postgres");
    let maria_server = marias
        .first()
        .map(|db| server_url(db, "mysql"))
        .unwrap_or_default();
    // The tenants' URL comes from the env file; the others from the environment.
    std::fs::write(
        ws.root().join(".env"),
        format!("TENANTS_URL={}\n", tenants_db.url()),
    )
    .expect("write .env");
    let env = [
        ("SHARD_SERVER", shard_server.as_str()),
        ("MARIA_SERVER", maria_server.as_str()),
    ];
    let mut args = vec!["up"];
    for fleet in &fleets {
        args.extend(["--fleet", fleet]);
    }
    let expected = 50 + 20 + 10 + if with_mysql { 10 } else { 0 };

    let out = run(&ws, &env, &args).success();
    let document = summary(&ws);
    assert_eq!(
        document["totals"]["databases"],
        expected,
        "{}",
        out.stdout_text()
    );
    assert_eq!(
        document["totals"]["migrated"],
        expected,
        "{}",
        out.stdout_text()
    );
    assert!(out.stdout_text().contains(&format!("{expected} migrated")));
    // Records come in fleet order: the flags' order, then each source's.
    let ids: Vec<String> = statuses(&document).into_keys().collect();
    assert_eq!(ids.len(), expected);
    let first = &document["databases"][0];
    assert_eq!(first["id"], "store_000");
    assert_eq!(first["applied"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        document["databases"][50]["id"],
        shards[0].name().expect("a name")
    );
    assert_eq!(document["databases"][70]["id"], "tenant_00");
    for db in stores.iter().chain(&shards).chain(&marias) {
        assert_eq!(db.version_rows(), ["a3"], "{db:?}");
        assert!(db.tables().contains(&"a3".to_owned()), "{db:?}");
    }
    for i in 0..10 {
        let schema = format!("tenant_{i:02}");
        assert_eq!(schema_rows(&tenants_db, &schema), ["a3"], "{schema}");
        assert_eq!(
            schema_tables(&tenants_db, &schema),
            ["a1", "a2", "a3", "alembic_version", "revise_log"],
            "{schema}: the version table and the run log stay in the tenant's schema"
        );
    }
    // The inactive tenant was not listed; nothing went into `public`.
    assert!(schema_tables(&tenants_db, "tenant_10").is_empty());
    assert_eq!(tenants_db.tables(), ["tenants"]);

    let again = run(&ws, &env, &args).success();
    let document = summary(&ws);
    assert_eq!(
        document["totals"]["up_to_date"],
        expected,
        "{}",
        again.stdout_text()
    );
    assert_eq!(document["totals"]["migrated"], 0);

    // `current` and `check` see the same, read-only.
    let mut check = vec!["check", "--format", "json"];
    for fleet in &fleets {
        check.extend(["--fleet", fleet]);
    }
    let checked = run(&ws, &env, &check).success();
    assert_eq!(json(&checked)["totals"]["up_to_date"], expected);
}

/// One unreachable database and one whose revision fails: every other database still
/// reaches head, and the summary names both.
#[test]
fn an_unreachable_database_and_a_failing_revision_leave_the_rest_migrated() {
    let ws = workspace(&["a1", "a2", "a3"]);
    let stores = sqlite_files(&ws, "s", 6);
    // `a2` fails on s003 only: its table is already there.
    stores[3].execute("CREATE TABLE a2 (x INTEGER);");
    let shard = TestDb::postgres();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("an address").port()
    };
    ws.append_manifest(
        "[workspace.metadata.revise.fleet.stores]\nsqlite_glob = \"data/*.db\"\n\n\
         [workspace.metadata.revise.fleet.remote]\nentries = [\n  { id = \"gone\", url = \"env:GONE_URL\" },\n  { id = \"shard\", url = \"env:SHARD_URL\" },\n]\n"
    );
    let gone = format!("postgres://postgres@127.0.0.1:{closed}/nothing");
    let env = [("GONE_URL", gone.as_str()), ("SHARD_URL", &shard.url())];

    let out = run(&ws, &env, &["up", "--fleet", "stores", "--fleet", "remote"]).code(1);
    let stdout = out.stdout_text();
    let document = summary(&ws);
    let status = statuses(&document);
    assert_eq!(status["s003"], "failed", "{stdout}");
    assert_eq!(status["gone"], "unreachable", "{stdout}");
    assert_eq!(document["totals"]["migrated"], 6, "{stdout}");
    for (i, db) in stores.iter().enumerate() {
        let expected = if i == 3 { vec!["a1"] } else { vec!["a3"] };
        assert_eq!(db.version_rows(), expected, "s00{i}");
    }
    assert_eq!(shard.version_rows(), ["a3"]);
    // The summary names both, with the failing revision, its file and where it was left.
    let failed_line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("s003") && l.contains("failed"))
        .unwrap_or_else(|| panic!("no summary line for s003:\n{stdout}"));
    assert!(
        failed_line.contains("a2") && failed_line.contains("app/migrations/a2_create_a2.sql"),
        "{failed_line}"
    );
    assert!(failed_line.contains("left at a1"), "{failed_line}");
    assert!(
        stdout
            .lines()
            .any(|l| l.trim_start().starts_with("gone") && l.contains("unreachable")),
        "{stdout}"
    );
    let record = document["databases"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["id"] == "s003")
        .expect("s003");
    assert_eq!(record["error"]["revision"], "a2");
    assert_eq!(record["rows_after"], serde_json::json!(["a1"]));
    assert!(stdout.contains("--retry"), "the retry command: {stdout}");
}

/// A broken revision stops at the canary: the first database fails, the others are left
/// untouched and reported skipped.
#[test]
fn the_canary_stops_a_broken_release_after_one_database() {
    let ws = workspace(&["a1", "a2"]);
    let stores = sqlite_files(&ws, "s", 5);
    ws.append_manifest("[workspace.metadata.revise.fleet.stores]\nsqlite_glob = \"data/*.db\"\n");
    run(&ws, &[], &["up", "--fleet", "stores"]).success();
    ws.revision(
        "app",
        &Rev::new(
            "a3",
            "CREATE TABLE a3 (id INTEGER);\nINSERT INTO missing_table VALUES (1);",
        )
        .revises("a2"),
    );

    let out = run(&ws, &[], &["up", "--fleet", "stores"]).code(1);
    let status = statuses(&summary(&ws));
    assert_eq!(status["s000"], "failed", "{}", out.stdout_text());
    for id in ["s001", "s002", "s003", "s004"] {
        assert_eq!(status[id], "skipped", "{}", out.stdout_text());
    }
    assert!(
        out.stdout_text()
            .contains("the canary `s000` did not finish"),
        "{}",
        out.stdout_text()
    );
    for db in &stores {
        assert_eq!(db.version_rows(), ["a2"]);
        assert!(!db.tables().contains(&"a3".to_owned()));
    }
}

#[test]
fn fail_fast_and_max_failures_stop_starting_databases() {
    let ws = workspace(&["a1", "a2"]);
    let stores = sqlite_files(&ws, "s", 8);
    for broken in [2, 4, 6] {
        stores[broken].execute("CREATE TABLE a2 (x INTEGER);");
    }
    ws.append_manifest("[workspace.metadata.revise.fleet.stores]\nsqlite_glob = \"data/*.db\"\n");
    let one_at_a_time = ["--jobs", "1", "--canary", "0"];

    let mut args = vec!["up", "--fleet", "stores", "--fail-fast"];
    args.extend(one_at_a_time);
    run(&ws, &[], &args).code(1);
    let status = statuses(&summary(&ws));
    let expected: BTreeMap<String, String> = [
        ("s000", "migrated"),
        ("s001", "migrated"),
        ("s002", "failed"),
        ("s003", "skipped"),
        ("s004", "skipped"),
        ("s005", "skipped"),
        ("s006", "skipped"),
        ("s007", "skipped"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    assert_eq!(status, expected);
    assert!(stores[3].untouched());

    let mut args = vec!["up", "--fleet", "stores", "--max-failures", "2"];
    args.extend(one_at_a_time);
    let out = run(&ws, &[], &args).code(1);
    let status = statuses(&summary(&ws));
    assert_eq!(status["s000"], "up_to_date");
    assert_eq!(status["s002"], "failed");
    assert_eq!(status["s003"], "migrated");
    assert_eq!(status["s004"], "failed");
    assert_eq!(status["s005"], "skipped", "{}", out.stdout_text());
    assert_eq!(status["s006"], "skipped");
    assert!(out.stdout_text().contains("--max-failures 2 reached"));
    assert!(stores[5].untouched());
}

/// Tenants in schemas of one database migrate at the same time: the lock is per database,
/// schema and version table. Seen from the server: several of our sessions run the slow
/// revision at once.
#[test]
fn schema_tenants_of_one_database_migrate_in_parallel() {
    let ws = Workspace::with_backend(&["app"], Backend::Sqlite);
    ws.revision(
        "app",
        &Rev::new("p1", "CREATE TABLE p1 (id INTEGER);\nSELECT pg_sleep(2);")
            .down("DROP TABLE p1;"),
    );
    ws.chain_after("app", "p1", &["p2"]);
    let db = TestDb::postgres();
    db.execute("CREATE SCHEMA t1; CREATE SCHEMA t2; CREATE SCHEMA t3; CREATE SCHEMA t4;");
    ws.append_manifest(
        "[workspace.metadata.revise.fleet.tenants]\nurl = \"env:TENANTS_URL\"\nschemas = [\"t1\", \"t2\", \"t3\", \"t4\"]\n",
    );
    let url = db.url();
    let mut child = spawn(
        &ws,
        &[("TENANTS_URL", &url)],
        &[
            "up",
            "--fleet",
            "tenants",
            "--jobs",
            "4",
            "--per-host",
            "4",
            "--canary",
            "0",
        ],
    );
    let mut most = 0;
    while child.try_wait().expect("poll").is_none() {
        let sessions = db.strings(
            "SELECT count(*)::text AS name FROM pg_stat_activity WHERE datname = current_database() \
             AND application_name = 'cargo-revise' AND state = 'active' AND query LIKE '%pg_sleep%'",
        );
        most = most.max(sessions[0].parse::<usize>().expect("a count"));
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("the run ends");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(
        most >= 2,
        "at most {most} tenant(s) ran the slow revision at once"
    );
    for schema in ["t1", "t2", "t3", "t4"] {
        assert_eq!(schema_rows(&db, schema), ["p2"], "{schema}");
    }
    assert!(
        db.tables().is_empty(),
        "nothing in public: {:?}",
        db.tables()
    );
}

/// Two fleet runs at once on the same databases: each revision is applied once, on every
/// backend and in schemas; both runs end well (one migrates, the other finds it done).
#[test]
fn two_fleet_runs_at_once_apply_no_revision_twice() {
    let ws = Workspace::with_backend(&["app"], Backend::Sqlite);
    let mut parent: Option<&str> = None;
    for id in ["w1", "w2", "w3", "w4"] {
        let create = if parent.is_none() {
            "CREATE TABLE applied (rev VARCHAR(8));\n"
        } else {
            ""
        };
        let rev = Rev::new(id, &format!("{create}INSERT INTO applied VALUES ('{id}');"));
        ws.revision("app", &parent.map_or(rev.clone(), |p| rev.revises(p)));
        parent = Some(id);
    }
    let stores = sqlite_files(&ws, "s", 6);
    let shards: Vec<TestDb> = (0..3).map(|_| TestDb::postgres()).collect();
    let tenants = TestDb::postgres();
    tenants.execute("CREATE SCHEMA t1; CREATE SCHEMA t2; CREATE SCHEMA t3;");
    let marias: Vec<TestDb> = if mysql_available("the MariaDB part of two runs at once") {
        (0..3).map(|_| TestDb::mysql()).collect()
    } else {
        Vec::new()
    };
    let mut entries = String::new();
    for i in 0..shards.len() + marias.len() {
        entries.push_str(&format!(
            "  {{ id = \"server_{i}\", url = \"env:URL_{i}\" }},\n"
        ));
    }
    ws.append_manifest(&format!(
        "[workspace.metadata.revise.fleet.stores]\nsqlite_glob = \"data/*.db\"\n\n\
         [workspace.metadata.revise.fleet.servers]\nentries = [\n{entries}]\n\n\
         [workspace.metadata.revise.fleet.tenants]\nurl = \"env:TENANTS_URL\"\nschemas = [\"t1\", \"t2\", \"t3\"]\n"
    ));
    let urls: Vec<(String, String)> = shards
        .iter()
        .chain(&marias)
        .enumerate()
        .map(|(i, db)| (format!("URL_{i}"), db.url()))
        .chain([("TENANTS_URL".to_owned(), tenants.url())])
        .collect();
    let env: Vec<(&str, &str)> = urls.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let args = [
        "up", "--fleet", "stores", "--fleet", "servers", "--fleet", "tenants", "--canary", "0",
        "--format", "json",
    ];
    let first = spawn(&ws, &env, &args);
    let second = spawn(&ws, &env, &args);
    for child in [first, second] {
        let output = child.wait_with_output().expect("the run ends");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let document: Value = serde_json::from_str(&stdout).expect("JSON");
        assert_eq!(document["totals"]["failed"], 0, "{stdout}");
    }
    let once = ["w1", "w2", "w3", "w4"];
    for db in stores.iter().chain(&shards).chain(&marias) {
        assert_eq!(
            db.strings("SELECT rev AS name FROM applied ORDER BY rev"),
            once,
            "{db:?}"
        );
        assert_eq!(db.version_rows(), ["w4"]);
    }
    for schema in ["t1", "t2", "t3"] {
        assert_eq!(
            tenants.strings(&format!(
                "SELECT rev AS name FROM \"{schema}\".applied ORDER BY rev"
            )),
            once,
            "{schema}"
        );
    }
}

/// Starts `cargo revise ARGS` with `env`, both outputs piped.
fn spawn(ws: &Workspace, env: &[(&str, &str)], args: &[&str]) -> Child {
    let mut command: Command = ws.process(args);
    command.env_remove("DATABASE_URL");
    // `process` points the run at the workspace's own database: harmless for a fleet run,
    // which takes its databases from the fleets.
    for (key, value) in env {
        command.env(key, value);
    }
    command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cargo-revise starts")
}

fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// A fleet of PostgreSQL databases whose second revision is slow, running two at a time.
fn slow_fleet() -> (Workspace, Vec<TestDb>, String) {
    let ws = Workspace::with_backend(&["app"], Backend::Sqlite);
    ws.chain("app", &["k1"]);
    ws.revision(
        "app",
        &Rev::new("k2", "CREATE TABLE k2 (id INTEGER);\nSELECT pg_sleep(3);")
            .revises("k1")
            .down("DROP TABLE k2;"),
    );
    ws.chain_after("app", "k2", &["k3"]);
    let dbs: Vec<TestDb> = (0..6).map(|_| TestDb::postgres()).collect();
    let names: Vec<String> = dbs
        .iter()
        .map(|db| format!("\"{}\"", db.name().expect("a name")))
        .collect();
    ws.append_manifest(&format!(
        "[workspace.metadata.revise.fleet.slow]\nurl = \"env:SERVER\"\ndatabases = [{}]\n",
        names.join(", ")
    ));
    let server = server_url(&dbs[0], "postgres");
    (ws, dbs, server)
}

/// Waits until one of `dbs` runs the slow revision.
fn wait_for_slow_revision(child: &mut Child, dbs: &[TestDb]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(
            child.try_wait().expect("poll").is_none(),
            "the run ended too soon"
        );
        if dbs.iter().any(|db| db.running("pg_sleep") == Some(true)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no database reached the slow revision"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The advisory locks any session holds in `db`'s database.
fn advisory_locks(db: &TestDb) -> usize {
    let name = db.name().expect("a name");
    let admin = TestDb::postgres();
    admin.strings(&format!(
        "SELECT count(*)::text AS name FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
         WHERE l.locktype = 'advisory' AND d.datname = '{name}'"
    ))[0]
        .parse()
        .expect("a count")
}

/// Every database stands at a revision boundary: its rows are a prefix of the chain and
/// its tables exactly those of the applied revisions.
fn assert_at_boundaries(dbs: &[TestDb]) -> Vec<Vec<String>> {
    let chain = ["k1", "k2", "k3"];
    dbs.iter()
        .map(|db| {
            let rows = db.version_rows();
            let applied = match rows.first().map(String::as_str) {
                None => 0,
                Some(row) => chain.iter().position(|r| *r == row).expect("a chain id") + 1,
            };
            let mut expected: Vec<String> =
                chain[..applied].iter().map(|s| (*s).to_owned()).collect();
            if db.tables().contains(&"alembic_version".to_owned()) {
                expected.push("alembic_version".to_owned());
            }
            expected.sort();
            assert_eq!(db.tables(), expected, "{db:?} at {rows:?}");
            rows
        })
        .collect()
}

#[test]
fn ctrl_c_drains_at_revision_boundaries_and_leaves_no_lock() {
    let (ws, dbs, server) = slow_fleet();
    let mut child = spawn(
        &ws,
        &[("SERVER", &server)],
        &["up", "--fleet", "slow", "--canary", "0"],
    );
    wait_for_slow_revision(&mut child, &dbs);
    interrupt(&child);
    let output = child.wait_with_output().expect("the run ends");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(130), "{stdout}");
    let document = summary(&ws);
    assert_eq!(document["interrupted_by_signal"], true);
    let status = statuses(&document);
    let interrupted = status.values().filter(|s| *s == "interrupted").count();
    let skipped = status.values().filter(|s| *s == "skipped").count();
    assert!(interrupted >= 1, "{stdout}");
    assert_eq!(interrupted + skipped, 6, "{status:?}");
    let rows = assert_at_boundaries(&dbs);
    // The one in the slow revision finished it, then stopped before the next.
    assert!(rows.iter().any(|r| r == &["k2"]), "{rows:?}");
    assert!(rows.iter().all(|r| r.as_slice() != ["k3"]), "{rows:?}");
    for db in &dbs {
        assert_eq!(advisory_locks(db), 0, "{db:?}");
    }
    // The next run completes them all, finding no lock held (it would give up after 1 s).
    run(
        &ws,
        &[("SERVER", &server)],
        &["up", "--fleet", "slow", "--lock-timeout", "1"],
    )
    .success();
    assert_eq!(summary(&ws)["totals"]["locked"], 0);
    assert!(dbs.iter().all(|db| db.version_rows() == ["k3"]));
}

#[test]
fn a_second_ctrl_c_closes_the_connections_and_the_server_rolls_back() {
    let (ws, dbs, server) = slow_fleet();
    let mut child = spawn(
        &ws,
        &[("SERVER", &server)],
        &["up", "--fleet", "slow", "--canary", "0"],
    );
    wait_for_slow_revision(&mut child, &dbs);
    interrupt(&child);
    std::thread::sleep(Duration::from_millis(200));
    interrupt(&child);
    let output = child.wait_with_output().expect("the run ends");
    assert_eq!(output.status.code(), Some(130));
    assert_eq!(summary(&ws)["interrupted_by_signal"], true);
    // The server ends each closed session once its statement returns; wait for that.
    let deadline = Instant::now() + Duration::from_secs(30);
    while dbs.iter().any(|db| db.running("pg_sleep") == Some(true)) {
        assert!(Instant::now() < deadline, "sessions still running");
        std::thread::sleep(Duration::from_millis(100));
    }
    let rows = assert_at_boundaries(&dbs);
    assert!(
        rows.iter()
            .all(|r| r.as_slice() != ["k2"] && r.as_slice() != ["k3"]),
        "the slow revision was rolled back: {rows:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while dbs.iter().any(|db| advisory_locks(db) > 0) {
        assert!(Instant::now() < deadline, "a lock stayed behind");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn retry_runs_only_what_did_not_finish() {
    let ws = workspace(&["a1", "a2"]);
    let stores = sqlite_files(&ws, "s", 5);
    stores[2].execute("CREATE TABLE a2 (x INTEGER);");
    ws.append_manifest("[workspace.metadata.revise.fleet.stores]\nsqlite_glob = \"data/*.db\"\n");
    run(&ws, &[], &["up", "--fleet", "stores", "--canary", "0"]).code(1);
    let kept = ws.root().join("target/revise/first.json");
    std::fs::copy(ws.root().join("target/revise/fleet-last.json"), &kept).expect("copy");
    let modified = |db: &TestDb| match db {
        TestDb::Sqlite { path } => std::fs::metadata(path)
            .and_then(|m| m.modified())
            .expect("mtime"),
        _ => unreachable!(),
    };
    let before: Vec<_> = stores.iter().map(modified).collect();
    stores[2].execute("DROP TABLE a2;");
    let fixed = modified(&stores[2]);

    let out = run(
        &ws,
        &[],
        &[
            "up",
            "--retry",
            kept.to_str().expect("UTF-8"),
            "--format",
            "json",
        ],
    )
    .success();
    let document = json(&out);
    assert_eq!(document["totals"]["databases"], 1);
    assert_eq!(
        statuses(&document).into_keys().collect::<Vec<_>>(),
        ["s002"]
    );
    assert_eq!(stores[2].version_rows(), ["a2"]);
    for (i, db) in stores.iter().enumerate() {
        if i == 2 {
            assert_ne!(modified(db), fixed);
        } else {
            assert_eq!(modified(db), before[i], "s00{i} was touched");
        }
    }
}

#[test]
fn plan_says_what_would_run_and_touches_nothing() {
    let ws = workspace(&["a1", "a2"]);
    let stores = sqlite_files(&ws, "s", 3);
    let db = TestDb::postgres();
    ws.append_manifest(
        "[workspace.metadata.revise.fleet.stores]\nsqlite_glob = \"data/*.db\"\n\n\
         [workspace.metadata.revise.fleet.tenants]\nurl = \"env:TENANTS_URL\"\nschemas = [\"fresh\"]\ncreate_schema = true\n",
    );
    let url = db.url();
    let env = [("TENANTS_URL", url.as_str())];
    let out = run(
        &ws,
        &env,
        &[
            "up", "--fleet", "stores", "--fleet", "tenants", "--plan", "--format", "json",
        ],
    )
    .success();
    let document = json(&out);
    assert_eq!(document["totals"]["planned"], 4);
    for record in document["databases"].as_array().expect("records") {
        assert_eq!(
            record["pending"],
            serde_json::json!(["a1", "a2"]),
            "{record}"
        );
    }
    for store in &stores {
        let TestDb::Sqlite { path } = store else {
            unreachable!()
        };
        assert_eq!(
            std::fs::metadata(path).expect("the file").len(),
            0,
            "{path:?}"
        );
    }
    assert!(db
        .strings("SELECT nspname::text AS name FROM pg_namespace WHERE nspname = 'fresh'")
        .is_empty());
    assert!(!ws.root().join("target/revise/fleet-last.json").exists());
    let human = run(&ws, &env, &["up", "--fleet", "stores", "--plan"]).success();
    assert!(
        human.stdout_text().contains("would run 2: a1, a2"),
        "{}",
        human.stdout_text()
    );

    // Without `create_schema`, a missing schema makes its tenant unreachable.
    ws.append_manifest(
        "[workspace.metadata.revise.fleet.strict]\nurl = \"env:TENANTS_URL\"\nschemas = [\"absent\"]\n",
    );
    let out = run(&ws, &env, &["up", "--fleet", "strict"]).code(1);
    assert_eq!(statuses(&summary(&ws))["absent"], "unreachable");
    assert!(
        out.stdout_text()
            .contains("schema \"absent\" does not exist"),
        "{}",
        out.stdout_text()
    );
}

/// A MariaDB user with a password, dropped when the test ends.
struct MariaUser {
    admin: TestDb,
    name: String,
}

impl Drop for MariaUser {
    fn drop(&mut self) {
        self.admin
            .execute(&format!("DROP USER IF EXISTS '{}'@'%'", self.name));
    }
}

#[test]
fn passwords_appear_in_no_output() {
    if !mysql_available("passwords_appear_in_no_output") {
        return;
    }
    let suffix = format!("{:08x}", std::process::id() ^ 0x5eed_f00d);
    let right = format!("Right{suffix}pw");
    let wrong = format!("Wrong{suffix}pw");
    let target = TestDb::mysql();
    let user = MariaUser {
        name: format!("revise_pw_{suffix}"),
        admin: target.clone(),
    };
    let database = target.name().expect("a name").to_owned();
    target.execute(&format!(
        "CREATE USER '{0}'@'%' IDENTIFIED BY '{right}'; GRANT ALL ON `{database}`.* TO '{0}'@'%';",
        user.name
    ));
    // A PostgreSQL URL carrying a password too (the local server trusts it: it connects).
    let pg = TestDb::postgres();
    let pg_url = pg.server_url(&format!("postgres:{right}"), pg.name().expect("a name"));
    let ws = workspace(&["a1"]);
    ws.append_manifest(
        "[workspace.metadata.revise.fleet.secret]\nentries = [\n  { id = \"wrong\", url = \"env:WRONG_URL\" },\n  { id = \"right\", url = \"env:RIGHT_URL\" },\n  { id = \"pg\", url = \"env:PG_URL\" },\n]\n",
    );
    let wrong_url = target.server_url(&format!("{}:{wrong}", user.name), &database);
    let right_url = target.server_url(&format!("{}:{right}", user.name), &database);
    let env = [
        ("WRONG_URL", wrong_url.as_str()),
        ("RIGHT_URL", right_url.as_str()),
        ("PG_URL", pg_url.as_str()),
    ];
    let mut seen = String::new();
    for format in ["human", "json", "jsonl"] {
        let out = run(
            &ws,
            &env,
            &[
                "up", "--fleet", "secret", "--canary", "0", "--format", format,
            ],
        )
        .code(1);
        seen.push_str(&out.stdout_text());
        seen.push_str(&out.stderr_text());
        seen.push_str(
            &std::fs::read_to_string(ws.root().join("target/revise/fleet-last.json"))
                .expect("summary"),
        );
    }
    for args in [
        vec!["fleet", "list", "secret"],
        vec!["fleet", "list", "--format", "json"],
        vec!["current", "--fleet", "secret"],
        vec!["check", "--fleet", "secret", "--format", "json"],
    ] {
        let out = run(&ws, &env, &args);
        seen.push_str(&out.stdout_text());
        seen.push_str(&out.stderr_text());
    }
    let status = statuses(&summary(&ws));
    assert_eq!(status["wrong"], "unreachable", "{seen}");
    assert_eq!(status["right"], "up_to_date", "{seen}");
    assert!(
        seen.contains("Access denied"),
        "the database's reason is shown: {seen}"
    );
    assert!(seen.contains(":***@"), "URLs are shown masked: {seen}");
    for password in [&right, &wrong] {
        assert!(
            !seen.contains(password.as_str()),
            "{password} was printed:\n{seen}"
        );
    }
}

#[test]
fn bad_fleet_declarations_are_refused_before_anything_runs() {
    let ws = workspace(&["a1"]);
    let stores = sqlite_files(&ws, "s", 2);
    ws.append_manifest(
        "[workspace.metadata.revise.fleet.stores]\nsqlite_glob = \"data/*.db\"\n\n\
         [workspace.metadata.revise.fleet.literal]\nurl = \"postgres://app:hunter2hunter2@db.example/app\"\ndatabases = [\"x\"]\n\n\
         [workspace.metadata.revise.fleet.unset]\nurl = \"env:FLEET_TEST_NEVER_SET\"\ndatabases = [\"x\"]\n\n\
         [workspace.metadata.revise.fleet.twice]\nentries = [{ id = \"s000\", url = \"sqlite://data/s000.db\" }]\n",
    );
    let refused = |args: &[&str], expected: &str| {
        let out = run(&ws, &[], args).code(2);
        let stderr = out.stderr_text();
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
        assert!(out.stdout_text().is_empty(), "{}", out.stdout_text());
    };
    refused(
        &["up", "--fleet", "stores", "--fleet", "literal"],
        "fleet `literal`: `url` holds a literal password",
    );
    refused(&["up", "--fleet", "unset"], "FLEET_TEST_NEVER_SET");
    refused(
        &["up", "--fleet", "stores", "--fleet", "twice"],
        "`s000` appears twice",
    );
    refused(&["up", "--fleet", "nowhere"], "no fleet named `nowhere`");
    refused(&["down", "--fleet", "stores"], "needs an explicit TARGET");
    refused(&["up", "--plan"], "--plan applies to fleet runs only");
    refused(
        &["up", "--fleet", "stores", "--partition", "hash:3/2"],
        "hash:3/2",
    );
    for store in &stores {
        assert!(store.untouched());
    }
    // A selection that keeps nothing runs nothing, and says so.
    let empty = run(&ws, &[], &["up", "--fleet", "stores", "--db", "nothing*"]).success();
    assert!(
        empty.stderr_text().contains("no database to run on"),
        "{}",
        empty.stderr_text()
    );
    // The partitions of a fleet cover it exactly once.
    let mut seen = Vec::new();
    for share in ["hash:1/2", "hash:2/2"] {
        let out = run(
            &ws,
            &[],
            &[
                "current",
                "--fleet",
                "stores",
                "--partition",
                share,
                "--format",
                "json",
            ],
        );
        seen.extend(statuses(&json(&out)).into_keys());
    }
    seen.sort();
    assert_eq!(seen, ["s000", "s001"]);
}

/// A monorepo: each service's database gets only its own member's revisions, and a
/// `Depends On` that leaves an entry's members is refused naming both files.
#[test]
fn entries_with_packages_run_only_their_members() {
    let ws = Workspace::with_backend(&["users", "billing"], Backend::Sqlite);
    ws.chain("users", &["u1", "u2"]);
    ws.chain("billing", &["b1", "b2"]);
    ws.append_manifest(
        "[workspace.metadata.revise.fleet.services]\nentries = [\n  { id = \"users\", url = \"sqlite://users.db\", packages = [\"users\"] },\n  { id = \"billing\", url = \"sqlite://billing.db\", packages = [\"billing\"] },\n]\n",
    );
    let out = run(&ws, &[], &["up", "--fleet", "services"]).success();
    let users = TestDb::sqlite(ws.root().join("users.db"));
    let billing = TestDb::sqlite(ws.root().join("billing.db"));
    assert_eq!(users.version_rows(), ["u2"], "{}", out.stdout_text());
    assert_eq!(users.tables(), ["alembic_version", "u1", "u2"]);
    assert_eq!(billing.tables(), ["alembic_version", "b1", "b2"]);
    let listed = run(&ws, &[], &["fleet", "list", "services"]).success();
    assert!(
        listed.stdout_text().contains("[packages: users]"),
        "{}",
        listed.stdout_text()
    );

    let file = ws.revision("billing", &Rev::table("b3").revises("b2").depends_on("u2"));
    let out = run(&ws, &[], &["up", "--fleet", "services"]).code(2);
    let stderr = out.stderr_text();
    assert!(
        stderr.contains(&file) && stderr.contains("users/migrations/u2_create_u2.sql"),
        "{stderr}"
    );
}

/// `down` (with its required target), `stamp`, `current` and `check` over a fleet, and
/// `--db` picking databases by pattern.
#[test]
fn down_stamp_current_and_check_run_over_a_fleet() {
    let ws = workspace(&["a1", "a2", "a3"]);
    let stores = sqlite_files(&ws, "s", 3);
    let tenants = TestDb::postgres();
    tenants.execute("CREATE SCHEMA t1;");
    ws.append_manifest(
        "[workspace.metadata.revise.fleet.stores]\nsqlite_glob = \"data/*.db\"\n\n\
         [workspace.metadata.revise.fleet.tenants]\nurl = \"env:TENANTS_URL\"\nschemas = [\"t1\"]\n",
    );
    let url = tenants.url();
    let env = [("TENANTS_URL", url.as_str())];
    let both = ["--fleet", "stores", "--fleet", "tenants"];
    let go = |command: &[&str]| {
        let mut list: Vec<&str> = command.to_vec();
        list.extend(both);
        run(&ws, &env, &list)
    };
    go(&["up"]).success();
    go(&["down", "a1"]).success();
    let document = summary(&ws);
    assert_eq!(document["command"], "down");
    assert_eq!(document["totals"]["migrated"], 4);
    for db in &stores {
        assert_eq!(db.version_rows(), ["a1"]);
        assert_eq!(db.tables(), ["a1", "alembic_version"]);
    }
    assert_eq!(schema_rows(&tenants, "t1"), ["a1"]);
    assert_eq!(
        schema_tables(&tenants, "t1"),
        ["a1", "alembic_version", "revise_log"]
    );

    go(&["stamp", "a2"]).success();
    assert_eq!(summary(&ws)["command"], "stamp");
    assert!(stores.iter().all(|db| db.version_rows() == ["a2"]));
    assert_eq!(schema_rows(&tenants, "t1"), ["a2"]);

    let current = go(&["current"]).code(1);
    assert!(
        current
            .stdout_text()
            .contains("behind  1 pending (a3)  at a2"),
        "{}",
        current.stdout_text()
    );
    let checked = go(&["check", "--format", "json"]).code(1);
    assert_eq!(json(&checked)["totals"]["behind"], 4);

    let picked = run(
        &ws,
        &env,
        &["up", "--db", "s00[02]", "--db", "t1", "--format", "json"],
    )
    .success();
    let status = statuses(&json(&picked));
    assert_eq!(
        status.into_keys().collect::<Vec<_>>(),
        ["s000", "s002", "t1"]
    );
    assert_eq!(stores[0].version_rows(), ["a3"]);
    assert_eq!(stores[1].version_rows(), ["a2"]);
    assert_eq!(schema_rows(&tenants, "t1"), ["a3"]);
}

/// Durations vary from run to run; the rest of the report is pinned.
fn without_durations(text: &str) -> String {
    text.lines()
        .map(|line| {
            line.split(' ')
                .map(|word| {
                    let number = word.strip_suffix('s').unwrap_or("");
                    if !number.is_empty() && number.parse::<f64>().is_ok() {
                        "[T]"
                    } else {
                        word
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_report_off_a_terminal_is_one_line_per_database_and_a_summary() {
    let ws = workspace(&["a1", "a2"]);
    let stores = sqlite_files(&ws, "store_", 4);
    stores[2].execute("CREATE TABLE a2 (x INTEGER);");
    ws.append_manifest("[workspace.metadata.revise.fleet.stores]\nsqlite_glob = \"data/*.db\"\n");
    let out = run(&ws, &[], &["up", "--fleet", "stores", "--jobs", "1"]).code(1);
    insta::assert_snapshot!(
        "up_report_off_a_terminal",
        without_durations(&out.stdout_text())
    );
    let listed = run(&ws, &[], &["fleet", "list"]).success();
    insta::assert_snapshot!("fleet_list", ws.redact(&listed.stdout_text()));
}

/// A `sql` fleet whose catalog is a MariaDB table: columns are read by name, a number cast
/// to text; each row names a database on the fleet's server.
#[test]
fn a_sql_fleet_on_a_mariadb_catalog_lists_its_databases() {
    if !mysql_available("a_sql_fleet_on_a_mariadb_catalog_lists_its_databases") {
        return;
    }
    let ws = workspace(&["a1", "a2"]);
    let catalog = TestDb::mysql();
    let shards: Vec<TestDb> = (0..3).map(|_| TestDb::mysql()).collect();
    let mut setup =
        String::from("CREATE TABLE shards (n INTEGER, name VARCHAR(64), live INTEGER);");
    for (i, shard) in shards.iter().enumerate() {
        setup.push_str(&format!(
            "INSERT INTO shards VALUES ({i}, '{}', 1);",
            shard.name().expect("a name")
        ));
    }
    setup.push_str("INSERT INTO shards VALUES (9, 'retired_shard', 0);");
    catalog.execute(&setup);
    ws.append_manifest(
        "[workspace.metadata.revise.fleet.shards]\nurl = \"env:SHARD_SERVER\"\ncatalog_url = \"env:CATALOG_URL\"\n\
         sql = \"SELECT CONCAT('shard_', CAST(n AS CHAR)) AS id, name AS `database` FROM shards WHERE live = 1 ORDER BY n\"\n",
    );
    let server = server_url(&catalog, "mysql");
    let catalog_url = catalog.url();
    let env = [
        ("SHARD_SERVER", server.as_str()),
        ("CATALOG_URL", catalog_url.as_str()),
    ];
    let out = run(&ws, &env, &["up", "--fleet", "shards", "--format", "json"]).success();
    let document = json(&out);
    assert_eq!(
        statuses(&document).into_keys().collect::<Vec<_>>(),
        ["shard_0", "shard_1", "shard_2"]
    );
    for shard in &shards {
        assert_eq!(shard.version_rows(), ["a2"]);
    }
    assert!(catalog.untouched());
}

/// `file = "-"`: the entries come from standard input (a list another tool produced).
#[test]
fn a_fleet_file_may_come_from_standard_input() {
    let ws = workspace(&["a1"]);
    ws.append_manifest("[workspace.metadata.revise.fleet.piped]\nfile = \"-\"\n");
    let list = "[[entries]]\nid = \"one\"\nurl = \"sqlite://one.db\"\n\n[[entries]]\nid = \"two\"\nurl = \"sqlite://two.db\"\n";
    let out = ws
        .command()
        .args(["up", "--fleet", "piped", "--format", "json"])
        .write_stdin(list)
        .assert()
        .success();
    assert_eq!(json(&out)["totals"]["migrated"], 2);
    for name in ["one", "two"] {
        assert_eq!(
            TestDb::sqlite(ws.root().join(format!("{name}.db"))).version_rows(),
            ["a1"]
        );
    }
}

/// A server that accepts the connection and never answers (a listening socket nobody
/// serves) makes its database unreachable after `--connect-timeout`, for PostgreSQL and
/// MariaDB alike, instead of stalling the run.
#[test]
fn a_server_that_never_answers_is_unreachable_after_the_connect_timeout() {
    let ws = workspace(&["a1"]);
    let stores = sqlite_files(&ws, "s", 2);
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = silent.local_addr().expect("an address").port();
    ws.append_manifest(
        "[workspace.metadata.revise.fleet.mixed]\nentries = [\n  { id = \"pg_silent\", url = \"env:PG_SILENT\" },\n  { id = \"maria_silent\", url = \"env:MARIA_SILENT\" },\n  { id = \"s000\", url = \"sqlite://data/s000.db\" },\n  { id = \"s001\", url = \"sqlite://data/s001.db\" },\n]\n",
    );
    let pg = format!("postgres://postgres@127.0.0.1:{port}/x");
    let maria = format!("mysql://root@127.0.0.1:{port}/x");
    let mut ids = vec!["pg_silent"];
    if mysql_available("the MariaDB half of the connect timeout") {
        ids.push("maria_silent");
    }
    let mut args = vec![
        "up",
        "--fleet",
        "mixed",
        "--connect-timeout",
        "1",
        "--canary",
        "0",
    ];
    for id in &ids {
        args.extend(["--db", id]);
    }
    args.extend(["--db", "s00*"]);
    let env = [("PG_SILENT", pg.as_str()), ("MARIA_SILENT", maria.as_str())];
    let out = run(&ws, &env, &args).code(1);
    let status = statuses(&summary(&ws));
    for id in &ids {
        assert_eq!(status[*id], "unreachable", "{}", out.stdout_text());
    }
    let stdout = out.stdout_text();
    assert!(
        stdout.contains("timeout expired"),
        "libpq's own timeout: {stdout}"
    );
    if ids.contains(&"maria_silent") {
        assert!(stdout.contains("no answer within 1 s"), "{stdout}");
    }
    assert!(stores.iter().all(|db| db.version_rows() == ["a1"]));
    drop(silent);
}
