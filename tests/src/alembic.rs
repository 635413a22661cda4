//! Differential testing against real Alembic, the oracle of SPEC section 6.
//!
//! A [`Case`] is a random revision [`Graph`] (several members, branch points, merges,
//! `Depends On`) and a random list of [`Command`]s. [`run_cases`] writes each graph twice, as
//! a Cargo workspace for `cargo revise` and as an Alembic project for `tests/alembic/driver.py`,
//! runs the commands through both on separate SQLite files, and records the state after every
//! step: success or failure, the `alembic_version` rows, the tables, and which revision
//! functions ran. [`Outcome::divergence`] compares them; [`Outcome::report`] writes a
//! divergence up so that a person can replay it.
//!
//! Alembic runs in a virtual environment that [`venv`] creates once in `target/alembic-venv`
//! from `tests/alembic/requirements.txt`; all cases of a batch run in one Python process.

use std::collections::{BTreeSet, HashMap};
use std::fmt::{self, Write as _};
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use diesel::sql_types::Text;
use diesel::sqlite::SqliteConnection;
use diesel::{sql_query, Connection, QueryableByName, RunQueryDsl};
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use serde_json::json;

use crate::cargo_revise;

/// The table each revision's functions log into, one `+ID` or `-ID` entry per run.
pub const LOG_TABLE: &str = "parity_log";

/// The branch labels that random graphs put on revisions besides the members' own.
const EXTRA_LABELS: &[&str] = &["x0", "x1"];

/// Words that Alembic reads as targets, never generated as ids.
const RESERVED: &[&str] = &["head", "heads", "base"];

// ---------------------------------------------------------------------------------------------
// The graph

/// One revision of a generated graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    /// `Revision ID`.
    pub id: String,
    /// Index into [`Graph::members`].
    pub member: usize,
    /// `Revises`: empty for the member's root, else ids of the same member.
    pub revises: Vec<String>,
    /// `Depends On`: ids of any member.
    pub depends_on: Vec<String>,
    /// `Branch Labels` besides the member's own label.
    pub labels: Vec<String>,
}

/// A revision graph: the members (their package names are their labels) and the revisions,
/// parents before children.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Graph {
    /// Member names, which are also their branch labels (`m0`, `m1`, ...).
    pub members: Vec<String>,
    /// The revisions, in an order where every parent and dependency comes first.
    pub revisions: Vec<Revision>,
}

/// Whether a random graph may list a redundant parent (a parent or dependency that is already
/// an ancestor of another parent or dependency of the same revision).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redundancy {
    /// Never: the graphs on which Alembic keeps the rows maximal.
    Avoid,
    /// Always at least one: the graphs where Alembic departs from that (ALEMBIC.md).
    Require,
}

impl Graph {
    /// A hand-written graph: the members, then `(member, id, revises, depends_on)` per
    /// revision, parents first.
    pub fn from_spec(members: &[&str], revisions: &[(&str, &str, &[&str], &[&str])]) -> Self {
        let members: Vec<String> = members.iter().map(|m| (*m).to_owned()).collect();
        let revisions = revisions
            .iter()
            .map(|(member, id, revises, depends_on)| Revision {
                id: (*id).to_owned(),
                member: members
                    .iter()
                    .position(|m| m == member)
                    .expect("the revision's member is listed"),
                revises: revises.iter().map(|r| (*r).to_owned()).collect(),
                depends_on: depends_on.iter().map(|r| (*r).to_owned()).collect(),
                labels: Vec::new(),
            })
            .collect();
        Self { members, revisions }
    }

    /// A random graph: 1 to 3 members, 2 to 8 revisions, each member with one root; later
    /// revisions revise one or two earlier revisions of their member and may depend on earlier
    /// revisions of any member; sometimes an extra branch label.
    pub fn random(rng: &mut StdRng, redundancy: Redundancy) -> Self {
        loop {
            let graph = Self::generate(rng, redundancy);
            let redundant = !graph.redundant_parents().is_empty();
            if redundant == (redundancy == Redundancy::Require) {
                return graph;
            }
        }
    }

    fn generate(rng: &mut StdRng, redundancy: Redundancy) -> Self {
        let size = rng.random_range(2..=8);
        let member_count = rng.random_range(1..=size.min(3));
        let members: Vec<String> = (0..member_count).map(|m| format!("m{m}")).collect();
        // Every member at least once; the first revision of a member is its root.
        let mut owners: Vec<usize> = (0..member_count).collect();
        owners.extend((member_count..size).map(|_| rng.random_range(0..member_count)));
        owners.shuffle(rng);

        // A small alphabet makes short prefixes ambiguous more often.
        let alphabet: &[u8] = if rng.random_bool(0.5) {
            b"abc0123"
        } else {
            b"abcdefghijklmnopqrstuvwxyz0123456789"
        };
        // Ids never equal a label (Alembic would refuse the project).
        let mut taken: BTreeSet<String> = members.iter().cloned().collect();
        taken.extend(EXTRA_LABELS.iter().map(|l| (*l).to_owned()));
        let mut graph = Self {
            members,
            revisions: Vec::new(),
        };
        let (merge_chance, depends_chance) = match redundancy {
            Redundancy::Avoid => (0.5, 0.35),
            Redundancy::Require => (0.5, 0.6),
        };
        for member in owners {
            let id = random_id(rng, alphabet, &taken);
            taken.insert(id.clone());
            let same: Vec<String> = graph
                .revisions
                .iter()
                .filter(|r| r.member == member)
                .map(|r| r.id.clone())
                .collect();
            let all: Vec<String> = graph.revisions.iter().map(|r| r.id.clone()).collect();
            let mut revision = Revision {
                id,
                member,
                revises: Vec::new(),
                depends_on: Vec::new(),
                labels: Vec::new(),
            };
            // Merges: two parents of the member; without redundancy, two that are not each
            // other's ancestors (a pair on two branches).
            let pairs: Vec<[String; 2]> = same
                .iter()
                .enumerate()
                .flat_map(|(i, x)| same[i + 1..].iter().map(move |y| [x.clone(), y.clone()]))
                .filter(|[x, y]| {
                    redundancy == Redundancy::Require
                        || (!graph.ancestors(x).contains(y) && !graph.ancestors(y).contains(x))
                })
                .collect();
            for _attempt in 0..20 {
                revision.revises.clear();
                revision.depends_on.clear();
                if !pairs.is_empty() && rng.random_bool(merge_chance) {
                    revision.revises = pairs.choose(rng).expect("pairs").to_vec();
                } else if let Some(parent) = same.choose(rng) {
                    revision.revises = vec![parent.clone()];
                }
                if rng.random_bool(depends_chance) {
                    // Sometimes a revision of the same member (on another branch), mostly
                    // one of another member.
                    let allowed: Vec<&String> = all
                        .iter()
                        .filter(|id| !revision.revises.contains(id))
                        .filter(|id| {
                            redundancy == Redundancy::Require
                                || graph
                                    .redundant_among(&revision.revises, &[(*id).clone()])
                                    .is_none()
                        })
                        .collect();
                    let (within, across): (Vec<&String>, Vec<&String>) =
                        allowed.into_iter().partition(|id| same.contains(id));
                    let candidates = if !within.is_empty() && rng.random_bool(0.4) {
                        within
                    } else {
                        across
                    };
                    let count = if rng.random_bool(0.25) { 2 } else { 1 };
                    revision.depends_on = candidates
                        .choose_multiple(rng, count)
                        .map(|id| (*id).clone())
                        .collect();
                }
                if redundancy == Redundancy::Require
                    || graph
                        .redundant_among(&revision.revises, &revision.depends_on)
                        .is_none()
                {
                    break;
                }
            }
            if redundancy == Redundancy::Avoid
                && graph
                    .redundant_among(&revision.revises, &revision.depends_on)
                    .is_some()
            {
                revision.revises.truncate(1);
                revision.depends_on.clear();
            }
            graph.revisions.push(revision);
        }
        if rng.random_bool(0.15) {
            let count = rng.random_range(1..=EXTRA_LABELS.len());
            for label in &EXTRA_LABELS[..count] {
                let index = rng.random_range(0..graph.revisions.len());
                graph.revisions[index].labels.push((*label).to_owned());
            }
        }
        graph
    }

    /// The revisions that no other revision lists in `Revises` or `Depends On`.
    pub fn leaves(&self) -> Vec<String> {
        self.revisions
            .iter()
            .filter(|r| {
                !self
                    .revisions
                    .iter()
                    .any(|o| o.revises.contains(&r.id) || o.depends_on.contains(&r.id))
            })
            .map(|r| r.id.clone())
            .collect()
    }

    /// The graph without the revision `id`, which nothing may list; a member left without
    /// revisions goes too.
    pub fn without(&self, id: &str) -> Self {
        let mut graph = self.clone();
        graph.revisions.retain(|r| r.id != id);
        let used: BTreeSet<usize> = graph.revisions.iter().map(|r| r.member).collect();
        if used.len() < graph.members.len() {
            // Renumber the members that are left, keeping their names.
            let keep: Vec<usize> = used.into_iter().collect();
            for r in &mut graph.revisions {
                r.member = keep
                    .iter()
                    .position(|m| *m == r.member)
                    .expect("a used member");
            }
            graph.members = keep.iter().map(|m| self.members[*m].clone()).collect();
        }
        graph
    }

    /// The revision with this id.
    pub fn revision(&self, id: &str) -> &Revision {
        self.revisions
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("no revision {id} in the graph"))
    }

    /// Every branch label of `revision` as a file declares it: the member's label on the
    /// member's root, plus the extra ones.
    pub fn declared_labels(&self, revision: &Revision) -> Vec<String> {
        let mut labels = Vec::new();
        if revision.revises.is_empty() {
            labels.push(self.members[revision.member].clone());
        }
        labels.extend(revision.labels.iter().cloned());
        labels
    }

    /// All branch labels of the graph.
    pub fn labels(&self) -> Vec<String> {
        let mut labels = self.members.clone();
        for revision in &self.revisions {
            labels.extend(revision.labels.iter().cloned());
        }
        labels
    }

    /// The strict ancestors of `id`, through `Revises` and `Depends On`.
    pub fn ancestors(&self, id: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![id.to_owned()];
        while let Some(next) = stack.pop() {
            let revision = self.revision(&next);
            for parent in revision.revises.iter().chain(&revision.depends_on) {
                if seen.insert(parent.clone()) {
                    stack.push(parent.clone());
                }
            }
        }
        seen
    }

    /// `(x, y)` where x, listed among `revises` and `depends_on`, is an ancestor of y,
    /// also listed.
    fn redundant_among(
        &self,
        revises: &[String],
        depends_on: &[String],
    ) -> Option<(String, String)> {
        let listed: Vec<&String> = revises.iter().chain(depends_on).collect();
        for y in &listed {
            let ancestors = self.ancestors(y);
            if let Some(x) = listed.iter().find(|x| ancestors.contains(x.as_str())) {
                return Some(((*x).clone(), (*y).clone()));
            }
        }
        None
    }

    /// Every redundant parent: `(revision, parent, the other parent it is an ancestor of)`.
    pub fn redundant_parents(&self) -> Vec<(String, String, String)> {
        self.revisions
            .iter()
            .filter_map(|r| {
                self.redundant_among(&r.revises, &r.depends_on)
                    .map(|(x, y)| (r.id.clone(), x, y))
            })
            .collect()
    }

    /// Writes the graph as a Cargo workspace at `root`: a virtual manifest, and each member a
    /// tiny library crate with its revision files in `migrations/`.
    pub fn write_workspace(&self, root: &Path) {
        let quoted: Vec<String> = self.members.iter().map(|m| format!("\"{m}\"")).collect();
        write(
            &root.join("Cargo.toml"),
            &format!(
                "[workspace]\nresolver = \"2\"\nmembers = [{}]\n",
                quoted.join(", ")
            ),
        );
        for member in &self.members {
            write(
                &root.join(member).join("Cargo.toml"),
                &format!(
                    "[package]\nname = \"{member}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"
                ),
            );
            write(&root.join(member).join("src/lib.rs"), "");
        }
        for revision in &self.revisions {
            let mut text = format!(
                "-- revision {id}\n--\n-- Revision ID: {id}\n-- Revises: {}\n",
                revision.revises.join(", "),
                id = revision.id
            );
            if !revision.depends_on.is_empty() {
                let _ = writeln!(text, "-- Depends On: {}", revision.depends_on.join(", "));
            }
            if !revision.labels.is_empty() {
                let _ = writeln!(text, "-- Branch Labels: {}", revision.labels.join(", "));
            }
            let _ = write!(
                text,
                "\n-- revise:up\n{};\n\n-- revise:down\n{};\n",
                up_sql(&revision.id).join(";\n"),
                down_sql(&revision.id).join(";\n")
            );
            let member = &self.members[revision.member];
            write(
                &root
                    .join(member)
                    .join("migrations")
                    .join(format!("{}_revision_{}.sql", revision.id, revision.id)),
                &text,
            );
        }
    }

    /// The graph as the driver's `revisions` list.
    fn driver_revisions(&self) -> serde_json::Value {
        self.revisions
            .iter()
            .map(|r| {
                json!({
                    "id": r.id,
                    "revises": r.revises,
                    "depends_on": r.depends_on,
                    "branch_labels": self.declared_labels(r),
                    "up": up_sql(&r.id),
                    "down": down_sql(&r.id),
                })
            })
            .collect()
    }
}

impl fmt::Display for Graph {
    /// One line per revision: `member  id  revises ... ; depends on ... ; labels ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.revisions {
            let mut line = format!("  {:<3} {:<7}", self.members[r.member], r.id);
            if r.revises.is_empty() {
                line.push_str(" root");
            } else {
                let _ = write!(line, " revises {}", r.revises.join(", "));
            }
            if !r.depends_on.is_empty() {
                let _ = write!(line, "; depends on {}", r.depends_on.join(", "));
            }
            let labels = self.declared_labels(r);
            if !labels.is_empty() {
                let _ = write!(line, "; labels {}", labels.join(", "));
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

fn random_id(rng: &mut StdRng, alphabet: &[u8], taken: &BTreeSet<String>) -> String {
    loop {
        let len = match rng.random_range(0..100) {
            0..5 => 1,
            5..25 => 2,
            _ => rng.random_range(3..=6),
        };
        let id: String = (0..len)
            .map(|_| char::from(*alphabet.choose(rng).expect("a non-empty alphabet")))
            .collect();
        if !taken.contains(&id) && !RESERVED.contains(&id.as_str()) {
            return id;
        }
    }
}

/// What revision `id` runs on upgrade: it logs `+id` and creates `t_<id>`. The statements are
/// idempotent, so that a database stamped out of step with its tables never fails on SQL and
/// the order in which independent branches run cannot matter.
pub fn up_sql(id: &str) -> Vec<String> {
    vec![
        format!("CREATE TABLE IF NOT EXISTS {LOG_TABLE} (entry TEXT NOT NULL)"),
        format!("INSERT INTO {LOG_TABLE} (entry) VALUES ('+{id}')"),
        format!("CREATE TABLE IF NOT EXISTS t_{id} (id INTEGER)"),
    ]
}

/// What revision `id` runs on downgrade: it logs `-id` and drops `t_<id>`.
pub fn down_sql(id: &str) -> Vec<String> {
    vec![
        format!("CREATE TABLE IF NOT EXISTS {LOG_TABLE} (entry TEXT NOT NULL)"),
        format!("INSERT INTO {LOG_TABLE} (entry) VALUES ('-{id}')"),
        format!("DROP TABLE IF EXISTS t_{id}"),
    ]
}

fn write(path: &Path, contents: &str) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap_or_else(|e| panic!("creating {}: {e}", parent.display()));
    }
    fs::write(path, contents).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

// ---------------------------------------------------------------------------------------------
// Commands

/// One command, run as `cargo revise ...` and as `alembic.command.*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `up [TARGET]`; Alembic's `upgrade` needs a target, `heads` when there is none.
    Up(Option<String>),
    /// `down [TARGET]`; Alembic's `downgrade` gets `-1` when there is none.
    Down(Option<String>),
    /// `stamp [--purge] REV...`.
    Stamp {
        /// The destinations.
        revisions: Vec<String>,
        /// `--purge`.
        purge: bool,
    },
}

impl Command {
    /// `up TARGET`.
    pub fn up(target: &str) -> Self {
        Self::Up(Some(target.to_owned()))
    }

    /// `down TARGET`.
    pub fn down(target: &str) -> Self {
        Self::Down(Some(target.to_owned()))
    }

    /// The arguments after the global options of `cargo revise`.
    pub fn cargo_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        match self {
            Self::Up(target) => {
                args.push("up".to_owned());
                args.extend(target.iter().cloned());
            }
            Self::Down(target) => {
                args.push("down".to_owned());
                args.extend(target.iter().cloned());
            }
            Self::Stamp { revisions, purge } => {
                args.push("stamp".to_owned());
                if *purge {
                    args.push("--purge".to_owned());
                }
                args.extend(revisions.iter().cloned());
            }
        }
        args
    }

    /// `down -N` (or `down`, which is `down -1`): Alembic walks from whichever row comes
    /// first when there are several, cargo revise refuses (SPEC section 6).
    pub fn is_plain_relative_down(&self) -> bool {
        match self {
            Self::Down(None) => true,
            Self::Down(Some(target)) => {
                target.len() > 1
                    && target.starts_with('-')
                    && target[1..].bytes().all(|b| b.is_ascii_digit())
            }
            _ => false,
        }
    }

    fn driver_json(&self) -> serde_json::Value {
        match self {
            Self::Up(target) => json!({
                "op": "upgrade",
                "target": target.as_deref().unwrap_or("heads"),
            }),
            Self::Down(target) => json!({
                "op": "downgrade",
                "target": target.as_deref().unwrap_or("-1"),
                "skip_when_several_rows": self.is_plain_relative_down(),
            }),
            Self::Stamp { revisions, purge } => json!({
                "op": "stamp",
                "revisions": revisions,
                "purge": purge,
            }),
        }
    }

    /// A random list of 3 to 10 commands over `graph`'s ids, prefixes and labels.
    pub fn random_sequence(rng: &mut StdRng, graph: &Graph) -> Vec<Self> {
        let count = rng.random_range(3..=10);
        (0..count)
            .map(|i| {
                // Start with an upgrade more often than not: downgrading nothing is dull.
                let roll = if i == 0 && rng.random_bool(0.7) {
                    0
                } else {
                    rng.random_range(0..100)
                };
                match roll {
                    0..45 => Self::Up(random_up_target(rng, graph)),
                    45..80 => Self::Down(random_down_target(rng, graph)),
                    _ => random_stamp(rng, graph),
                }
            })
            .collect()
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.cargo_args().join(" "))
    }
}

fn any_id(rng: &mut StdRng, graph: &Graph) -> String {
    graph
        .revisions
        .choose(rng)
        .expect("a graph has revisions")
        .id
        .clone()
}

fn any_label(rng: &mut StdRng, graph: &Graph) -> String {
    graph
        .labels()
        .choose(rng)
        .expect("a graph has labels")
        .clone()
}

/// A prefix of 1 to 3 characters of some id (the id itself when it is that short).
fn any_prefix(rng: &mut StdRng, graph: &Graph) -> String {
    let id = any_id(rng, graph);
    let len = rng.random_range(1..=id.len().clamp(1, 3));
    id[..len].to_owned()
}

fn steps(rng: &mut StdRng) -> usize {
    if rng.random_bool(0.7) {
        1
    } else {
        rng.random_range(2..=3)
    }
}

fn random_up_target(rng: &mut StdRng, graph: &Graph) -> Option<String> {
    let target = match rng.random_range(0..100) {
        0..5 => return None,
        5..22 => "heads".to_owned(),
        22..28 => "head".to_owned(),
        28..45 => any_id(rng, graph),
        45..53 => any_prefix(rng, graph),
        53..62 => format!("+{}", steps(rng)),
        62..73 => format!("{}@head", any_label(rng, graph)),
        73..80 => format!("{}@{}", any_label(rng, graph), any_id(rng, graph)),
        80..86 => format!("{}@+{}", any_label(rng, graph), steps(rng)),
        86..93 => format!("{}+{}", any_id(rng, graph), steps(rng)),
        _ => any_label(rng, graph),
    };
    Some(target)
}

fn random_down_target(rng: &mut StdRng, graph: &Graph) -> Option<String> {
    let target = match rng.random_range(0..100) {
        0..6 => return None,
        6..20 => "base".to_owned(),
        20..36 => format!("-{}", steps(rng)),
        36..52 => any_id(rng, graph),
        52..58 => any_prefix(rng, graph),
        58..70 => format!("{}@base", any_label(rng, graph)),
        70..84 => format!("{}@-{}", any_label(rng, graph), steps(rng)),
        84..92 => format!("{}-{}", any_id(rng, graph), steps(rng)),
        _ => format!("{}@{}", any_label(rng, graph), any_id(rng, graph)),
    };
    Some(target)
}

fn random_stamp(rng: &mut StdRng, graph: &Graph) -> Command {
    let revisions = match rng.random_range(0..100) {
        0..40 => vec![any_id(rng, graph)],
        40..55 => vec!["heads".to_owned()],
        55..67 => vec!["base".to_owned()],
        67..85 => {
            let mut two = vec![any_id(rng, graph), any_id(rng, graph)];
            two.dedup();
            two
        }
        85..93 => vec![format!("{}@head", any_label(rng, graph))],
        96..100 => vec!["head".to_owned()],
        _ => vec![any_prefix(rng, graph)],
    };
    Command::Stamp {
        revisions,
        purge: rng.random_bool(0.25),
    }
}

// ---------------------------------------------------------------------------------------------
// Cases and their outcome

/// One graph and the commands run on it.
#[derive(Clone, Debug)]
pub struct Case {
    /// A name for reports, e.g. `seed 1234`.
    pub name: String,
    /// How to run this case again, for reports: a command line.
    pub replay: Option<String>,
    /// The graph and commands were reduced by [`shrink`] from the case `replay` runs.
    pub reduced: bool,
    /// The revisions.
    pub graph: Graph,
    /// The commands, in order, each on the state the previous one left.
    pub commands: Vec<Command>,
}

impl Case {
    /// The case generated from `seed`: the same seed always gives the same case.
    pub fn random(seed: u64, redundancy: Redundancy) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let graph = Graph::random(&mut rng, redundancy);
        let commands = Command::random_sequence(&mut rng, &graph);
        Self {
            name: format!("seed {seed}"),
            replay: None,
            reduced: false,
            graph,
            commands,
        }
    }

    /// A hand-written case.
    pub fn new(name: &str, graph: Graph, commands: Vec<Command>) -> Self {
        Self {
            name: name.to_owned(),
            replay: None,
            reduced: false,
            graph,
            commands,
        }
    }

    /// Sets [`Case::replay`].
    pub fn with_replay(mut self, replay: String) -> Self {
        self.replay = Some(replay);
        self
    }

    /// Smaller cases that may still diverge at `step`: the commands up to it, without one
    /// of the commands before it, or without one revision that nothing else lists.
    fn reductions(&self, step: usize) -> Vec<Self> {
        let mut smaller = Vec::new();
        let reduced = |graph: Graph, commands: Vec<Command>| Self {
            name: self.name.clone(),
            replay: self.replay.clone(),
            reduced: true,
            graph,
            commands,
        };
        let kept = &self.commands[..=step];
        for skip in 0..step {
            let mut commands = kept.to_vec();
            commands.remove(skip);
            smaller.push(reduced(self.graph.clone(), commands));
        }
        for leaf in self.graph.leaves() {
            smaller.push(reduced(self.graph.without(&leaf), kept.to_vec()));
        }
        smaller
    }
}

/// Reduces divergent outcomes to smaller cases that diverge in the same way, greedily: each
/// round runs every reduction of every outcome not yet minimal (one driver process for all)
/// and keeps the first that still diverges alike. Outcomes that do not diverge come back
/// as they are.
pub fn shrink(outcomes: &[Outcome], work: &Path, max_rounds: usize) -> Vec<Outcome> {
    let mut current: Vec<Outcome> = outcomes.to_vec();
    let mut minimal: Vec<bool> = current.iter().map(|o| o.divergence().is_none()).collect();
    for round in 0..max_rounds {
        let mut owners = Vec::new();
        let mut candidates = Vec::new();
        for (i, outcome) in current.iter().enumerate() {
            if minimal[i] {
                continue;
            }
            let step = outcome.divergence().map_or(0, |d| d.step);
            for case in outcome.case.reductions(step) {
                owners.push(i);
                candidates.push(case);
            }
        }
        if candidates.is_empty() {
            break;
        }
        let results = run_cases(&candidates, &work.join(format!("shrink-{round}")));
        let mut improved = vec![false; current.len()];
        for (i, result) in owners.into_iter().zip(results) {
            let kind = |o: &Outcome| o.divergence().map(|d| d.kind);
            if !improved[i] && kind(&result).is_some() && kind(&result) == kind(&current[i]) {
                current[i] = result;
                improved[i] = true;
            }
        }
        for (i, better) in improved.into_iter().enumerate() {
            if !better {
                minimal[i] = true;
            }
        }
    }
    current
}

/// What a database holds: the whole observable state that both tools must agree on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct State {
    /// The `alembic_version` rows, sorted (empty when there is no table).
    pub rows: Vec<String>,
    /// The tables other than `alembic_version`, sorted.
    pub tables: Vec<String>,
    /// The entries of [`LOG_TABLE`], sorted: `+id` for every upgrade function that ran,
    /// `-id` for every downgrade function.
    pub log: Vec<String>,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tables: Vec<&str> = self
            .tables
            .iter()
            .filter(|t| *t != LOG_TABLE)
            .map(String::as_str)
            .collect();
        write!(
            f,
            "rows [{}]  tables [{}]  ran [{}]",
            self.rows.join(", "),
            tables.join(", "),
            self.log.join(" ")
        )
    }
}

/// The state of an existing SQLite file (all empty when the file does not exist).
pub fn read_state(db: &Path) -> State {
    if !db.exists() {
        return State::default();
    }
    let path = db.to_str().expect("temporary paths are UTF-8");
    let mut conn =
        SqliteConnection::establish(path).unwrap_or_else(|e| panic!("opening {path}: {e}"));
    let mut names = |query: &str| -> Vec<String> {
        sql_query(query)
            .load::<Name>(&mut conn)
            .unwrap_or_else(|e| panic!("{query}: {e}"))
            .into_iter()
            .map(|row| row.name)
            .collect()
    };
    let all = names(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' ORDER BY name",
    );
    let mut state = State::default();
    if all.iter().any(|t| t == "alembic_version") {
        state.rows = names("SELECT version_num AS name FROM alembic_version ORDER BY version_num");
    }
    if all.iter().any(|t| t == LOG_TABLE) {
        state.log = names(&format!("SELECT entry AS name FROM {LOG_TABLE}"));
        state.log.sort();
    }
    state.tables = all.into_iter().filter(|t| t != "alembic_version").collect();
    state
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// One command's result in Alembic, as the driver recorded it.
#[derive(Clone, Debug, Deserialize)]
pub struct AlembicStep {
    /// `ok`, `error` (an exception), or `skipped` (see [`Command::is_plain_relative_down`]).
    pub status: String,
    /// The exception, as `Type: message`.
    pub error: Option<String>,
    /// Warnings Alembic issued.
    pub warnings: Vec<String>,
    /// The state afterwards.
    #[serde(flatten)]
    pub state: State,
    /// What `alembic current` printed afterwards, line by line (when the case asked).
    #[serde(default)]
    pub current: Option<Vec<String>>,
    /// What `alembic current -v` printed, on the last step of a case (when the case asked).
    #[serde(default)]
    pub current_verbose: Option<Vec<String>>,
    /// What `alembic history -i` printed, on the last step of a case (when the case asked).
    #[serde(default)]
    pub history: Option<History>,
}

/// What `history -i` and `history -i -r current:` printed, line by line (or one line
/// `error: ...`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct History {
    /// `history -i`.
    pub indicate: Vec<String>,
    /// `history -i -r current:`.
    pub from_current: Vec<String>,
}

impl History {
    /// The ids `history -i` marks `(current)`, sorted.
    pub fn marked_current(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .indicate
            .iter()
            .filter(|l| l.contains(" (current)"))
            .map(|l| history_line_id(l))
            .collect();
        ids.sort();
        ids
    }
}

/// The revision id of a `history` line, `parents (deps) -> ID (labels) markers, message`;
/// an error line as it is.
fn history_line_id(line: &str) -> String {
    if line.starts_with("error: ") {
        return line.to_owned();
    }
    let after = line.split_once(" -> ").map_or(line, |(_, rest)| rest);
    after
        .split([' ', ','])
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The ids a `history` listing names, sorted.
fn history_ids(lines: &[String]) -> Vec<String> {
    let mut ids: Vec<String> = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| history_line_id(l))
        .collect();
    ids.sort();
    ids
}

/// Whether `cargo revise history` agrees with Alembic's on what the database has: the same
/// revisions marked `(current)`, and the same revisions in `-r current:`. Lines are compared
/// by id only: the two tools order independent branches differently and write branch labels
/// differently (Alembic spreads a label over the revisions around the one that declares it).
/// Where Alembic itself fails on the range (it refuses rows of which one needs another with
/// "overlaps with other requested revisions"), there is nothing to compare.
pub fn history_agrees(alembic: &History, cargo: &History) -> bool {
    let from_current_agrees = alembic
        .from_current
        .first()
        .is_some_and(|l| l.starts_with("error: "))
        || history_ids(&alembic.from_current) == history_ids(&cargo.from_current);
    alembic.marked_current() == cargo.marked_current() && from_current_agrees
}

/// One command's result in `cargo revise`.
#[derive(Clone, Debug)]
pub struct CargoStep {
    /// The exit status; `None` when a signal ended it.
    pub exit: Option<i32>,
    /// What it printed on standard error.
    pub stderr: String,
    /// The state afterwards.
    pub state: State,
    /// What `cargo revise current` printed afterwards, line by line.
    pub current: Vec<String>,
    /// What `cargo revise -v current` printed, on the last step of a case.
    pub current_verbose: Option<Vec<String>>,
    /// What `cargo revise history -i` printed, on the last step of a case.
    pub history: Option<History>,
}

impl CargoStep {
    fn ok(&self) -> bool {
        self.exit == Some(0)
    }
}

/// How the two tools first disagreed on a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DivergenceKind {
    /// `cargo revise` died (a panic, a signal): never acceptable.
    CargoCrashed,
    /// Alembic failed, `cargo revise` succeeded.
    OnlyAlembicFailed,
    /// `cargo revise` failed, Alembic succeeded.
    OnlyCargoFailed,
    /// Alembic crashed with a `KeyError` (its bookkeeping on redundant parents).
    AlembicKeyError,
    /// `down -N` from several rows, which cargo revise must refuse (and leave the database
    /// as it was), succeeded or changed something.
    AmbiguousDownNotRefused,
    /// Both failed, but Alembic changed the database before it failed (it runs SQLite
    /// without a transaction around the whole command) or `cargo revise` did.
    BothFailedStatesDiffer,
    /// Both succeeded but the version rows differ.
    RowsDiffer,
    /// Both succeeded with the same rows, but the tables or the revision functions that ran
    /// differ.
    TablesDiffer,
    /// The databases agree, but `cargo revise current` (or `-v current`) does not print what
    /// `alembic current` prints.
    CurrentDiffers,
    /// The databases agree after the last command, but `history -i` marks other revisions
    /// `(current)` than Alembic's, or `-r current:` lists others.
    HistoryDiffers,
}

/// The first step at which a case diverged.
#[derive(Clone, Debug)]
pub struct Divergence {
    /// Index into the case's commands.
    pub step: usize,
    /// How.
    pub kind: DivergenceKind,
}

/// A case with both tools' results.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The case.
    pub case: Case,
    /// Alembic's results, one per command.
    pub alembic: Vec<AlembicStep>,
    /// `cargo revise`'s results, one per command.
    pub cargo: Vec<CargoStep>,
}

impl Outcome {
    /// The first step where the tools disagree, if any.
    pub fn divergence(&self) -> Option<Divergence> {
        for (step, (a, c)) in self.alembic.iter().zip(&self.cargo).enumerate() {
            let alembic_key_error = a
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with("KeyError"));
            let kind = if !matches!(c.exit, Some(0..=2)) {
                Some(DivergenceKind::CargoCrashed)
            } else if a.status == "skipped" {
                (c.ok() || c.state != a.state).then_some(DivergenceKind::AmbiguousDownNotRefused)
            } else if a.status == "ok" && c.ok() {
                if a.state.rows != c.state.rows {
                    Some(DivergenceKind::RowsDiffer)
                } else {
                    (a.state != c.state).then_some(DivergenceKind::TablesDiffer)
                }
            } else if alembic_key_error && (c.ok() || a.state != c.state) {
                Some(DivergenceKind::AlembicKeyError)
            } else if a.status == "error" && c.ok() {
                Some(DivergenceKind::OnlyAlembicFailed)
            } else if a.status == "ok" {
                Some(DivergenceKind::OnlyCargoFailed)
            } else {
                (a.state != c.state).then_some(DivergenceKind::BothFailedStatesDiffer)
            };
            let kind = kind.or_else(|| {
                if a.state != c.state {
                    None
                } else if !current_agrees(a, &c.current, c.current_verbose.as_deref()) {
                    Some(DivergenceKind::CurrentDiffers)
                } else {
                    match (&a.history, &c.history) {
                        (Some(ah), Some(ch)) if !history_agrees(ah, ch) => {
                            Some(DivergenceKind::HistoryDiffers)
                        }
                        _ => None,
                    }
                }
            });
            let before = step.checked_sub(1).map(|i| &self.cargo[i].state);
            match kind {
                // After a deliberate departure the two databases differ by design, so
                // comparing further commands would only repeat it.
                Some(kind) if self.allowed_departure(step, kind, before) => return None,
                Some(kind) => return Some(Divergence { step, kind }),
                None => {}
            }
        }
        None
    }

    /// Departures from Alembic that are deliberate (documented in the README and the notes):
    /// on a failing `stamp`, Alembic has already committed part of it (the purge, or the steps
    /// before its `KeyError` on overlapping destinations), where `cargo revise` refuses before
    /// touching anything and leaves the table as it was.
    fn allowed_departure(&self, step: usize, kind: DivergenceKind, before: Option<&State>) -> bool {
        let c = &self.cargo[step];
        let unchanged = before.map_or(c.state.rows.is_empty(), |b| b.rows == c.state.rows);
        matches!(self.case.commands[step], Command::Stamp { .. })
            && !c.ok()
            && unchanged
            && matches!(
                kind,
                DivergenceKind::BothFailedStatesDiffer | DivergenceKind::AlembicKeyError
            )
    }

    /// The case, every command with both results up to the divergence, and how to replay it.
    pub fn report(&self) -> String {
        let divergence = self.divergence();
        let mut out = String::new();
        let _ = writeln!(out, "=== {} ===", self.case.name);
        if let Some(d) = &divergence {
            let _ = writeln!(out, "divergence: {:?} at command {}", d.kind, d.step + 1);
        }
        if let Some(replay) = &self.case.replay {
            let what = if self.case.reduced {
                "replay (the case before it was reduced to this one)"
            } else {
                "replay"
            };
            let _ = writeln!(out, "{what}: {replay}");
        }
        let _ = writeln!(out, "graph (member, id, parents; parents come first):");
        let _ = write!(out, "{}", self.case.graph);
        let redundant = self.case.graph.redundant_parents();
        for (revision, parent, other) in redundant {
            let _ = writeln!(
                out,
                "  (redundant parent: {revision} lists {parent}, an ancestor of {other})"
            );
        }
        let _ = writeln!(out, "commands:");
        let last = divergence
            .as_ref()
            .map_or(self.case.commands.len(), |d| d.step + 1);
        for (i, command) in self.case.commands.iter().enumerate().take(last) {
            let a = &self.alembic[i];
            let c = &self.cargo[i];
            let mark = if divergence.as_ref().is_some_and(|d| d.step == i) {
                ">>"
            } else {
                "  "
            };
            let _ = writeln!(out, "{mark}{:>3}. cargo revise {command}", i + 1);
            let alembic_result = match (a.status.as_str(), &a.error) {
                ("error", Some(e)) => format!("error {e}"),
                (status, _) => status.to_owned(),
            };
            let cargo_result = match c.exit {
                Some(0) => "ok".to_owned(),
                Some(code) => format!("exit {code}: {}", c.stderr.trim().replace('\n', " | ")),
                None => format!("killed: {}", c.stderr.trim().replace('\n', " | ")),
            };
            if !current_agrees(a, &c.current, c.current_verbose.as_deref()) {
                let _ = writeln!(out, "         alembic current: {:?}", a.current);
                let _ = writeln!(out, "         cargo current:   {:?}", c.current);
                let _ = writeln!(out, "         alembic current -v: {:?}", a.current_verbose);
                let _ = writeln!(out, "         cargo current -v:   {:?}", c.current_verbose);
            }
            if let (Some(ah), Some(ch)) = (&a.history, &c.history) {
                if !history_agrees(ah, ch) {
                    let _ = writeln!(out, "         alembic history -i: {:?}", ah.indicate);
                    let _ = writeln!(out, "         cargo history -i:   {:?}", ch.indicate);
                    let _ = writeln!(out, "         alembic -r current: {:?}", ah.from_current);
                    let _ = writeln!(out, "         cargo -r current:   {:?}", ch.from_current);
                }
            }
            if a.state == c.state && a.status == "ok" && c.ok() {
                let _ = writeln!(out, "         both ok: {}", a.state);
                continue;
            }
            let _ = writeln!(out, "         alembic: {alembic_result}");
            for warning in &a.warnings {
                let _ = writeln!(out, "                  (warning: {warning})");
            }
            let _ = writeln!(out, "                  {}", a.state);
            let _ = writeln!(out, "         cargo:   {cargo_result}");
            let _ = writeln!(out, "                  {}", c.state);
        }
        if last < self.case.commands.len() {
            let rest: Vec<String> = self.case.commands[last..]
                .iter()
                .map(|c| c.to_string())
                .collect();
            let _ = writeln!(out, "  (not compared after that: {})", rest.join("; "));
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Running both tools

/// Runs every case through Alembic (one driver process, in the background) and through
/// `cargo revise` (on worker threads), each on its own SQLite file under `work`.
pub fn run_cases(cases: &[Case], work: &Path) -> Vec<Outcome> {
    let venv = venv();
    let dirs: Vec<PathBuf> = (0..cases.len())
        .map(|i| work.join(format!("case-{i:04}")))
        .collect();
    let driver_cases: Vec<serde_json::Value> = cases
        .iter()
        .zip(&dirs)
        .map(|(case, dir)| {
            json!({
                "name": case.name,
                "dir": dir.join("alembic"),
                "db": dir.join("alembic.db"),
                "revisions": case.graph.driver_revisions(),
                "commands": case.commands.iter().map(Command::driver_json).collect::<Vec<_>>(),
                "current": true,
                "history": true,
            })
        })
        .collect();
    for (case, dir) in cases.iter().zip(&dirs) {
        case.graph.write_workspace(&dir.join("workspace"));
    }
    let binary = cargo_revise();

    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Vec<CargoStep>>>> = Mutex::new(vec![None; cases.len()]);
    let alembic = std::thread::scope(|scope| {
        let driver = scope.spawn(|| run_driver(venv, &driver_cases, work));
        let workers = std::thread::available_parallelism().map_or(2, |n| (2 * n.get()).min(8));
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                let steps = run_cargo_case(binary, case, &dirs[i]);
                results.lock().expect("no worker panicked")[i] = Some(steps);
            });
        }
        driver.join().expect("the driver thread does not panic")
    });
    let cargo = results.into_inner().expect("no worker panicked");
    cases
        .iter()
        .zip(alembic)
        .zip(cargo)
        .map(|((case, alembic), cargo)| Outcome {
            case: case.clone(),
            alembic,
            cargo: cargo.expect("every case ran"),
        })
        .collect()
}

fn run_cargo_case(binary: &Path, case: &Case, dir: &Path) -> Vec<CargoStep> {
    let workspace = dir.join("workspace");
    let db = dir.join("cargo.db");
    let url = format!("sqlite://{}", db.display());
    let last = case.commands.len().saturating_sub(1);
    // `current` prints what the graph and the rows decide, so the same rows need not be
    // asked about twice in a case: that halves the processes it adds to a run.
    let mut current_for: HashMap<Vec<String>, Vec<String>> = HashMap::new();
    case.commands
        .iter()
        .enumerate()
        .map(|(i, command)| {
            let output = cargo_revise_on(binary, &workspace, &db, &command.cargo_args());
            let state = read_state(&db);
            let current = current_for
                .entry(state.rows.clone())
                .or_insert_with(|| cargo_current(binary, &workspace, &url, false))
                .clone();
            CargoStep {
                exit: output.status.code(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
                state,
                current,
                current_verbose: (i == last).then(|| cargo_current(binary, &workspace, &url, true)),
                history: (i == last).then(|| cargo_history(binary, &workspace, &url)),
            }
        })
        .collect()
}

/// `cargo revise history -i`, and with `-r current:`, on the database at `url`.
pub fn cargo_history(binary: &Path, workspace: &Path, url: &str) -> History {
    History {
        indicate: cargo_lines(binary, workspace, url, &["history", "-i"]),
        from_current: cargo_lines(binary, workspace, url, &["history", "-i", "-r", "current:"]),
    }
}

/// The lines `cargo revise current` (with `-v`: `verbose`) prints for the database at `url`,
/// or one line `error: ...` when it fails.
pub fn cargo_current(binary: &Path, workspace: &Path, url: &str, verbose: bool) -> Vec<String> {
    let args: &[&str] = if verbose {
        &["-v", "current"]
    } else {
        &["current"]
    };
    cargo_lines(binary, workspace, url, args)
}

/// The lines `cargo revise ARGS` prints on the workspace at `workspace` for the database at
/// `url`, or one line `error: ...` when it fails.
fn cargo_lines(binary: &Path, workspace: &Path, url: &str, args: &[&str]) -> Vec<String> {
    let output = cargo_revise_at(binary, workspace, url, args);
    if output.status.success() {
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    } else {
        vec![format!(
            "error: {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )]
    }
}

/// Whether `cargo revise current` printed what `alembic current` printed (always true when
/// Alembic was not asked). Without `-v` the lines must be the same; Alembic prints them in
/// the order of a Python set of objects hashed by address, an order with no meaning, so they
/// are compared sorted. With `-v` (where both were recorded) both start with
/// `Current revision(s) for URL:` and write a paragraph (`Rev: ID markers`, parents, path,
/// message) for the same revisions; the paragraphs differ in their other lines as
/// `history -v`'s do (`cargo revise` adds the member and children, and shows the path of a
/// `.sql` file).
pub fn current_agrees(
    alembic: &AlembicStep,
    current: &[String],
    current_verbose: Option<&[String]>,
) -> bool {
    let Some(plain) = &alembic.current else {
        return true;
    };
    let sorted = |lines: &[String]| {
        let mut lines = lines.to_vec();
        lines.sort();
        lines
    };
    if sorted(plain) != sorted(current) {
        return false;
    }
    let (Some(verbose), Some(current_verbose)) = (&alembic.current_verbose, current_verbose) else {
        return true;
    };
    const HEADER: &str = "Current revision(s) for ";
    // The id of every `Rev: ID markers` line, sorted.
    let entries = |lines: &[String]| {
        let mut ids: Vec<String> = lines
            .iter()
            .filter_map(|l| l.strip_prefix("Rev: "))
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .collect();
        ids.sort();
        ids
    };
    match (verbose.split_first(), current_verbose.split_first()) {
        (Some((a_header, a_rest)), Some((c_header, c_rest))) => {
            a_header.starts_with(HEADER)
                && c_header.starts_with(HEADER)
                && entries(a_rest) == entries(c_rest)
        }
        (a, c) => a.is_none() && c.is_none(),
    }
}

/// Runs `cargo revise ARGS` on the workspace at `workspace` against the database at `url`,
/// without `--quiet`.
pub fn cargo_revise_at(
    binary: &Path,
    workspace: &Path,
    url: &str,
    args: &[&str],
) -> std::process::Output {
    Process::new(binary)
        .current_dir(workspace)
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .arg("--database-url")
        .arg(url)
        .args(["--color", "never"])
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("cargo-revise can be started")
}

/// Runs `cargo revise ARGS` on the workspace at `workspace` against the SQLite file `db`.
pub fn cargo_revise_on(
    binary: &Path,
    workspace: &Path,
    db: &Path,
    args: &[String],
) -> std::process::Output {
    Process::new(binary)
        .current_dir(workspace)
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .arg("--database-url")
        .arg(format!("sqlite://{}", db.display()))
        .args(["--quiet", "--color", "never"])
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("cargo-revise can be started")
}

/// One run of the driver on one database, for tests that drive Alembic directly.
#[derive(Clone, Debug)]
pub struct AlembicJob<'a> {
    /// The graph whose Alembic project runs.
    pub graph: &'a Graph,
    /// Where the project goes (`env.py`, `alembic.ini`, `versions/`).
    pub dir: PathBuf,
    /// The SQLite file; the project's `alembic.ini` names it (unless `url` is given).
    pub db: PathBuf,
    /// A server database instead of the SQLite file, as `cargo revise` spells its URL
    /// (`postgres://...`, `mysql://...`); it must exist, and is never started afresh.
    pub url: Option<String>,
    /// The commands.
    pub commands: Vec<Command>,
    /// Run on the file as it is instead of starting afresh.
    pub keep_db: bool,
}

/// SQLAlchemy's spelling of a server database's URL, with the drivers that
/// `tests/alembic/requirements.txt` installs: `postgresql+psycopg2://`, `mysql+pymysql://`.
pub fn sqlalchemy_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let driver = match scheme {
        "postgres" | "postgresql" => "postgresql+psycopg2",
        "mysql" | "mariadb" => "mysql+pymysql",
        "sqlite" => return format!("sqlite:///{}", rest.trim_start_matches('/')),
        other => panic!("no SQLAlchemy driver for the scheme {other}"),
    };
    format!("{driver}://{rest}")
}

/// Runs the jobs in one driver process (in order) and returns one result per command of each,
/// with what `alembic current` printed after every command and `alembic history -i` after the
/// last.
pub fn alembic_batch(jobs: &[AlembicJob<'_>], work: &Path) -> Vec<Vec<AlembicStep>> {
    let cases: Vec<serde_json::Value> = jobs
        .iter()
        .enumerate()
        .map(|(i, job)| {
            json!({
                "name": format!("job {i}"),
                "dir": job.dir,
                "db": job.db,
                "url": job.url.as_deref().map(sqlalchemy_url),
                "keep_db": job.keep_db,
                "revisions": job.graph.driver_revisions(),
                "commands": job.commands.iter().map(Command::driver_json).collect::<Vec<_>>(),
                "current": true,
                "history": true,
            })
        })
        .collect();
    fs::create_dir_all(work).unwrap_or_else(|e| panic!("creating {}: {e}", work.display()));
    run_driver(venv(), &cases, work)
}

fn run_driver(venv: &Venv, cases: &[serde_json::Value], work: &Path) -> Vec<Vec<AlembicStep>> {
    #[derive(Deserialize)]
    struct Output {
        cases: Vec<CaseOutput>,
    }
    #[derive(Deserialize)]
    struct CaseOutput {
        steps: Vec<AlembicStep>,
    }
    let input = work.join("driver-input.json");
    let output = work.join("driver-output.json");
    write(
        &input,
        &serde_json::to_string(&json!({ "cases": cases })).expect("JSON"),
    );
    let run = Process::new(venv.python())
        .arg(repository_root().join("tests/alembic/driver.py"))
        .arg(&input)
        .arg(&output)
        .env("PYTHONHASHSEED", "0")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("the virtual environment's python can be started");
    assert!(
        run.status.success(),
        "the Alembic driver failed ({}):\n{}{}",
        run.status,
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    eprint!("{}", String::from_utf8_lossy(&run.stderr));
    let text = fs::read_to_string(&output).expect("the driver wrote its output");
    let parsed: Output = serde_json::from_str(&text).expect("the driver's output is valid");
    assert_eq!(parsed.cases.len(), cases.len(), "one result per case");
    parsed.cases.into_iter().map(|c| c.steps).collect()
}

// ---------------------------------------------------------------------------------------------
// The virtual environment

/// The virtual environment with real Alembic in it.
#[derive(Debug)]
pub struct Venv {
    dir: PathBuf,
}

impl Venv {
    fn bin(&self, name: &str) -> PathBuf {
        if cfg!(windows) {
            self.dir.join("Scripts").join(format!("{name}.exe"))
        } else {
            self.dir.join("bin").join(name)
        }
    }

    /// Its Python interpreter.
    pub fn python(&self) -> PathBuf {
        self.bin("python")
    }

    /// Its `alembic` command.
    pub fn alembic(&self) -> PathBuf {
        self.bin("alembic")
    }
}

/// The virtual environment in `target/alembic-venv`, created (`python3 -m venv`, then
/// `pip install -r tests/alembic/requirements.txt`) by the first test process that needs it
/// while the others wait on a lock; rebuilt when the requirements change.
///
/// Panics with pip's output when the installation fails: the parity tests never skip.
pub fn venv() -> &'static Venv {
    static VENV: OnceLock<Venv> = OnceLock::new();
    VENV.get_or_init(create_venv)
}

fn create_venv() -> Venv {
    let target = target_dir();
    let dir = target.join("alembic-venv");
    let requirements_path = repository_root().join("tests/alembic/requirements.txt");
    let requirements = fs::read_to_string(&requirements_path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", requirements_path.display()));
    let ready = dir.join("revise-requirements.txt");
    let venv = Venv { dir: dir.clone() };
    let is_ready =
        || fs::read_to_string(&ready).is_ok_and(|r| r == requirements) && venv.python().exists();
    if is_ready() {
        return venv;
    }
    let _lock = DirLock::acquire(&target.join("alembic-venv.lock"));
    if is_ready() {
        return venv;
    }
    if dir.exists() {
        fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("removing {}: {e}", dir.display()));
    }
    let python = std::env::var_os("PYTHON").unwrap_or_else(|| "python3".into());
    let started = Instant::now();
    let made = Process::new(&python)
        .args(["-m", "venv"])
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "starting {}: {e} (Python 3 is needed)",
                python.to_string_lossy()
            )
        });
    assert!(
        made.status.success(),
        "`{} -m venv {}` failed ({}):\n{}{}",
        python.to_string_lossy(),
        dir.display(),
        made.status,
        String::from_utf8_lossy(&made.stdout),
        String::from_utf8_lossy(&made.stderr)
    );
    let pip = Process::new(venv.python())
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--quiet",
            "-r",
        ])
        .arg(&requirements_path)
        .output()
        .expect("the virtual environment's python can be started");
    assert!(
        pip.status.success(),
        "installing Alembic with pip failed ({}):\n{}{}",
        pip.status,
        String::from_utf8_lossy(&pip.stdout),
        String::from_utf8_lossy(&pip.stderr)
    );
    write(&ready, &requirements);
    eprintln!(
        "alembic parity: created {} in {:.1} s",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    venv
}

/// A lock between test processes: a folder that exists while one process holds it, with the
/// holder's process id inside so that a lock left by a killed process is taken over.
struct DirLock {
    path: PathBuf,
}

impl DirLock {
    fn acquire(path: &Path) -> Self {
        let started = Instant::now();
        loop {
            match fs::create_dir(path) {
                Ok(()) => {
                    write(&path.join("pid"), &std::process::id().to_string());
                    return Self {
                        path: path.to_owned(),
                    };
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    if Self::is_stale(path) {
                        let _ = fs::remove_dir_all(path);
                        continue;
                    }
                    assert!(
                        started.elapsed() < Duration::from_secs(20 * 60),
                        "waited 20 minutes for {}; remove it if no test is running",
                        path.display()
                    );
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => panic!("creating {}: {e}", path.display()),
            }
        }
    }

    fn is_stale(path: &Path) -> bool {
        let pid = fs::read_to_string(path.join("pid")).ok();
        if let Some(pid) = pid.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            if Path::new("/proc/self").exists() {
                return !Path::new("/proc").join(pid).exists();
            }
        }
        // No process id (yet, or no /proc to check it): stale only when old.
        fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > Duration::from_secs(15 * 60))
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// The repository's root folder.
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .to_owned()
}

/// Cargo's target folder: the nearest folder above the test executable that carries cargo's
/// `CACHEDIR.TAG`.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    exe.ancestors()
        .skip(1)
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_owned)
        .unwrap_or_else(|| repository_root().join("target"))
}
