//! Property tests of the planner and the version-row rules on random graphs: several
//! members, branch points, merges and dependencies, as SPEC section 6 describes them.

use std::collections::BTreeSet;
use std::path::Path;

use proptest::prelude::*;
use revise_runtime::graph::{Node, NodeSet, RevisionGraph};
use revise_runtime::parse::parse_revision;
use revise_runtime::plan::{self, Plan};
use revise_runtime::version_rows::Direction;
use revise_runtime::Target;

/// One revision of a generated graph: its member, parents and dependencies (indices of
/// earlier revisions, so the graph is acyclic by construction).
#[derive(Clone, Debug)]
struct Spec {
    member: usize,
    revises: Vec<usize>,
    depends_on: Vec<usize>,
}

/// Random graphs of 1-3 members and 1-10 revisions. The first revision of a member is its
/// root; later ones revise one or two earlier revisions of the same member (two make a merge
/// point), and may depend on up to two earlier revisions of any member.
fn graphs() -> impl Strategy<Value = Vec<Spec>> {
    (1usize..=3, 1usize..=10).prop_flat_map(|(members, count)| {
        proptest::collection::vec((0..members, any::<u64>(), any::<u64>(), 0usize..3), count)
            .prop_map(move |raw| {
                let mut specs: Vec<Spec> = Vec::new();
                for (member, pick, dep_pick, dep_count) in raw {
                    let own: Vec<usize> = (0..specs.len())
                        .filter(|&i| specs[i].member == member)
                        .collect();
                    let revises = match own.len() {
                        0 => Vec::new(),
                        1 => vec![own[0]],
                        n => {
                            let first = own[(pick % n as u64) as usize];
                            let second = own[((pick >> 16) % n as u64) as usize];
                            if pick & 1 == 1 && first != second {
                                vec![first, second]
                            } else {
                                vec![first]
                            }
                        }
                    };
                    let mut depends_on = Vec::new();
                    let earlier = specs.len();
                    for k in 0..dep_count.min(earlier) {
                        let d = ((dep_pick >> (k * 16)) % earlier as u64) as usize;
                        if !depends_on.contains(&d) && !revises.contains(&d) {
                            depends_on.push(d);
                        }
                    }
                    specs.push(Spec {
                        member,
                        revises,
                        depends_on,
                    });
                }
                specs
            })
    })
}

fn id(i: usize) -> String {
    format!("r{i}")
}

fn build(specs: &[Spec]) -> RevisionGraph {
    let revisions = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let join = |v: &[usize]| v.iter().map(|&j| id(j)).collect::<Vec<_>>().join(", ");
            let text = format!(
                "-- revision {i}\n-- Revision ID: {}\n-- Revises: {}\n-- Depends On: {}\n-- revise:up\nCREATE TABLE t{i} (x INTEGER);\n-- revise:down\nDROP TABLE t{i};\n",
                id(i),
                join(&spec.revises),
                join(&spec.depends_on)
            );
            let member = format!("m{}", spec.member);
            parse_revision(Path::new(&format!("{member}/{i}.sql")), &member, text.as_bytes()).expect("generated text parses")
        })
        .collect();
    RevisionGraph::build(revisions).expect("generated graphs are valid")
}

/// A revision that lists a parent or dependency already reached through another: Alembic
/// keeps non-maximal rows for some of these (ALEMBIC.md), so the maximality property is only
/// asserted without them.
fn has_redundant_parent(graph: &RevisionGraph) -> bool {
    (0..graph.len()).any(|n| {
        let links: Vec<Node> = graph
            .revises(n)
            .iter()
            .chain(graph.depends_on(n))
            .copied()
            .collect();
        links.iter().any(|&a| {
            links
                .iter()
                .any(|&b| a != b && graph.ancestors_inclusive([b]).contains(&a))
        })
    })
}

fn up(graph: &RevisionGraph, rows: &NodeSet, target: &str) -> Result<Plan, plan::PlanError> {
    let parsed = Target::parse(target)?;
    let goal = plan::upgrade_goal(graph, rows, &parsed, target)?;
    Ok(plan::plan_upgrade(graph, rows, &goal))
}

fn down(graph: &RevisionGraph, rows: &NodeSet, target: &str) -> Result<Plan, plan::PlanError> {
    let parsed = Target::parse(target)?;
    let goal = plan::downgrade_goal(graph, rows, &parsed, target)?;
    plan::plan_downgrade(graph, rows, &goal)
}

/// Checks that every step runs after what it needs (up) or after what needs it (down), and
/// returns the applied set at the end.
fn check_order(graph: &RevisionGraph, rows: &NodeSet, plan: &Plan) -> NodeSet {
    let mut applied = graph.ancestors_inclusive(rows.iter().copied());
    for step in &plan.steps {
        let rev = step.node;
        match step.direction {
            Direction::Up => {
                for &need in graph.revises(rev).iter().chain(graph.depends_on(rev)) {
                    assert!(
                        applied.contains(&need),
                        "{} ran before {}",
                        graph.id(rev),
                        graph.id(need)
                    );
                }
                assert!(applied.insert(rev), "{} ran twice", graph.id(rev));
            }
            Direction::Down => {
                for &child in graph.all_children(rev) {
                    assert!(
                        !applied.contains(&child),
                        "{} reverted before {}",
                        graph.id(rev),
                        graph.id(child)
                    );
                }
                assert!(
                    applied.remove(&rev),
                    "{} reverted while not applied",
                    graph.id(rev)
                );
            }
        }
    }
    applied
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn up_heads_then_down_base_round_trips(specs in graphs()) {
        let graph = build(&specs);
        let empty = NodeSet::new();
        let plan = up(&graph, &empty, "heads").expect("heads always plans");
        let applied = check_order(&graph, &empty, &plan);
        prop_assert_eq!(applied.len(), graph.len());
        prop_assert_eq!(graph.ancestors_inclusive(plan.rows_after.iter().copied()), applied.clone());
        if !has_redundant_parent(&graph) {
            prop_assert_eq!(&plan.rows_after, &graph.maximal(&applied));
        }
        // Planning is deterministic, and nothing runs twice.
        prop_assert_eq!(&up(&graph, &empty, "heads").expect("plans"), &plan);
        prop_assert!(up(&graph, &plan.rows_after, "heads").expect("plans").steps.is_empty());
        // Down to base leaves nothing.
        let back = down(&graph, &plan.rows_after, "base").expect("base always plans");
        let left = check_order(&graph, &plan.rows_after, &back);
        prop_assert!(left.is_empty());
        prop_assert!(back.rows_after.is_empty());
    }

    #[test]
    fn random_walks_keep_rows_maximal(specs in graphs(), moves in proptest::collection::vec((any::<bool>(), any::<usize>()), 1..12)) {
        let graph = build(&specs);
        let redundant = has_redundant_parent(&graph);
        let mut rows = NodeSet::new();
        for (upward, pick) in moves {
            let target = id(pick % graph.len());
            let result = if upward { up(&graph, &rows, &target) } else { down(&graph, &rows, &target) };
            let Ok(plan) = result else { continue };
            let before: BTreeSet<Node> = graph.ancestors_inclusive(rows.iter().copied());
            let applied = check_order(&graph, &rows, &plan);
            prop_assert_eq!(graph.ancestors_inclusive(plan.rows_after.iter().copied()), applied.clone());
            let node = graph.node(&target).expect("generated id");
            if upward {
                // Exactly the target's ancestors that were missing were applied.
                let expected: NodeSet = before.union(&graph.ancestors_inclusive([node])).copied().collect();
                prop_assert_eq!(&applied, &expected);
            } else {
                // A downgrade to X keeps X and reverts everything built on X's children.
                prop_assert!(applied.contains(&node));
                let above = graph.descendants_inclusive(graph.children(node).iter().copied());
                prop_assert!(applied.is_disjoint(&above));
            }
            if !redundant {
                prop_assert_eq!(&plan.rows_after, &graph.maximal(&applied));
            }
            rows = plan.rows_after;
        }
    }
}
