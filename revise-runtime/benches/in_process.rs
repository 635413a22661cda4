//! In-process figures for issue 6: parsing, graph building and planning, without the disk,
//! the process start or the database that `benches/run.py` measures around them.
//!
//! The revision sets are the ones `benches/generate.py` writes (same ids, headers, SQL and
//! shapes), built in memory so the bench needs no generated files:
//!
//! ```text
//! cargo bench -p revise-runtime --bench in_process
//! ```
//!
//! Results are written down in BENCHMARKS.md ("In process").

use std::path::{Path, PathBuf};

use divan::Bencher;
use revise_runtime::parse::{parse_revision, parse_revision_without_sql, ParseError};
use revise_runtime::plan::{downgrade_goal, plan_downgrade, plan_upgrade, upgrade_goal, Plan};
use revise_runtime::{NodeSet, Revision, RevisionGraph, Target};

fn main() {
    divan::main();
}

/// Issue 6's revision sets: three sizes, two shapes.
const CASES: &[Case] = &[
    Case::new(Shape::Linear, 100),
    Case::new(Shape::Linear, 1_000),
    Case::new(Shape::Linear, 10_000),
    Case::new(Shape::Members, 100),
    Case::new(Shape::Members, 1_000),
    Case::new(Shape::Members, 10_000),
];

/// One revision set, shown as `linear-1000` in divan's table.
#[derive(Clone, Copy, Debug)]
struct Case {
    shape: Shape,
    size: usize,
}

impl Case {
    const fn new(shape: Shape, size: usize) -> Self {
        Self { shape, size }
    }

    fn files(self) -> Vec<GeneratedFile> {
        generate(self.size, self.shape)
    }

    fn items(self) -> divan::counter::ItemsCount {
        divan::counter::ItemsCount::new(self.size)
    }
}

impl std::fmt::Display for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shape = match self.shape {
            Shape::Linear => "linear",
            Shape::Members => "members",
        };
        write!(f, "{shape}-{}", self.size)
    }
}

/// One revision file as `benches/generate.py` writes it.
struct GeneratedFile {
    member: String,
    path: PathBuf,
    text: String,
}

/// The graph shapes of `benches/generate.py`.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// One member, one chain.
    Linear,
    /// Four members; revision i belongs to member i % 4 and revises that member's previous
    /// revision; every tenth also depends on the revision just before it (another member).
    Members,
}

impl Shape {
    fn member_count(self) -> usize {
        match self {
            Self::Linear => 1,
            Self::Members => 4,
        }
    }
}

fn generate(n: usize, shape: Shape) -> Vec<GeneratedFile> {
    let members = shape.member_count();
    let mut last: Vec<Option<String>> = vec![None; members];
    let mut previous: Option<String> = None;
    let mut files = Vec::with_capacity(n);
    for i in 0..n {
        let member = i % members;
        let id = format!("r{i:05}");
        let revises = last[member].clone().unwrap_or_default();
        let mut header = format!("-- step {i}\n-- Revision ID: {id}\n-- Revises: {revises}\n");
        if matches!(shape, Shape::Members) && i >= members && i % 10 == 0 {
            if let Some(before) = &previous {
                header.push_str(&format!("-- Depends On: {before}\n"));
            }
        }
        let text = format!(
            "{header}\n-- revise:up\nCREATE TABLE t{i} (id INTEGER PRIMARY KEY, v INTEGER);\n\n\
             -- revise:down\nDROP TABLE t{i};\n"
        );
        files.push(GeneratedFile {
            member: format!("m{member}"),
            path: PathBuf::from(format!("m{member}/migrations/{id}_step.sql")),
            text,
        });
        last[member] = Some(id.clone());
        previous = Some(id);
    }
    // In the order `cargo revise` loads them: member by member, each folder's files by name.
    files.sort_by(|a, b| (&a.member, &a.path).cmp(&(&b.member, &b.path)));
    files
}

/// A parser of one file: [`parse_revision`] or [`parse_revision_without_sql`].
type Parser = fn(&Path, &str, &[u8]) -> Result<Revision, ParseError>;

fn parse_all(files: &[GeneratedFile], parse: Parser) -> Vec<Revision> {
    files
        .iter()
        .map(|f| parse(&f.path, &f.member, f.text.as_bytes()).expect("generated file"))
        .collect()
}

fn graph_of(case: Case) -> RevisionGraph {
    RevisionGraph::build(parse_all(&case.files(), parse_revision)).expect("generated graph")
}

/// Plans `up` to the heads from `rows`.
fn plan_to_heads(graph: &RevisionGraph, rows: &NodeSet) -> Plan {
    let goal = upgrade_goal(graph, rows, &Target::Heads, "heads").expect("goal");
    plan_upgrade(graph, rows, &goal)
}

/// Parsing every file of the set, SQL kept (what `up` and embedding do).
#[divan::bench(args = CASES)]
fn parse_with_sql(bencher: Bencher, case: Case) {
    let files = case.files();
    bencher
        .counter(case.items())
        .bench(|| parse_all(&files, parse_revision));
}

/// Parsing every file without keeping the SQL (the read commands: heads, history, current).
#[divan::bench(args = CASES)]
fn parse_headers(bencher: Bencher, case: Case) {
    let files = case.files();
    bencher
        .counter(case.items())
        .bench(|| parse_all(&files, parse_revision_without_sql));
}

/// Building and validating the graph from parsed revisions (ids, parents, labels, cycles,
/// the topological order).
#[divan::bench(args = CASES)]
fn build_graph(bencher: Bencher, case: Case) {
    let revisions = parse_all(&case.files(), parse_revision);
    bencher
        .counter(case.items())
        .with_inputs(|| revisions.clone())
        .bench_values(|revisions| RevisionGraph::build(revisions).expect("generated graph"));
}

/// Planning `up` to the heads on an empty database: every revision is a step.
#[divan::bench(args = CASES)]
fn plan_from_empty(bencher: Bencher, case: Case) {
    let graph = graph_of(case);
    let rows = NodeSet::new();
    bencher
        .counter(case.items())
        .bench(|| plan_to_heads(&graph, &rows));
}

/// Planning `up` on an up-to-date database (the database stands at every head): what
/// `check` does, with nothing to run.
#[divan::bench(args = CASES)]
fn plan_up_to_date(bencher: Bencher, case: Case) {
    let graph = graph_of(case);
    let rows: NodeSet = graph.real_heads().into_iter().collect();
    bencher.counter(case.items()).bench(|| {
        let plan = plan_to_heads(&graph, &rows);
        assert!(
            plan.steps.is_empty(),
            "an up-to-date database has nothing to run"
        );
        plan
    });
}

/// Planning `down base` from the heads: every revision is a step, children first.
#[divan::bench(args = CASES)]
fn plan_down_to_base(bencher: Bencher, case: Case) {
    let graph = graph_of(case);
    let rows: NodeSet = graph.real_heads().into_iter().collect();
    bencher.counter(case.items()).bench(|| {
        let goal = downgrade_goal(&graph, &rows, &Target::Base, "base").expect("goal");
        plan_downgrade(&graph, &rows, &goal).expect("plan")
    });
}
