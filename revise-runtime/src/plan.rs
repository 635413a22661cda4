//! What an `up`, `down` or `stamp` runs, in which order, and the row changes of each step.
//!
//! Alembic's counterparts are `RevisionMap.iterate_revisions` with
//! `_collect_upgrade_revisions` / `_collect_downgrade_revisions` and
//! `ScriptDirectory._stamp_revs`. Planning executes nothing.

use crate::graph::{Node, NodeSet, RevisionGraph};
use crate::target::{self, Target, TargetError};
use crate::version_rows::{self, Direction, RowChange};

/// Why a command cannot be planned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The target is malformed or names nothing usable.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// Two upgrade targets where one is an ancestor of the other.
    #[error("Requested revision {target} overlaps with other requested revisions {others}")]
    Overlap {
        /// The target that is an ancestor.
        target: String,
        /// The targets it is an ancestor of.
        others: String,
    },
    /// The downgrade target is not below the current rows.
    #[error("Destination {0} is not a valid downgrade target from current head(s)")]
    NotADowngradeTarget(String),
    /// Stamp destinations that Alembic's rules cannot apply one after the other.
    #[error(
        "cannot stamp these revisions together: {0}; stamp them one at a time, or use --purge"
    )]
    StampConflict(String),
    /// A single step that cannot run in the database's state.
    #[error("cannot run revision {0}")]
    NotApplicable(String),
    /// A revision on the way down has no `-- revise:down` section.
    #[error("revision {id} ({path}) has no `-- revise:down` section, so it cannot be reverted; nothing was changed")]
    Irreversible {
        /// The revision.
        id: String,
        /// Its file.
        path: String,
    },
}

/// One revision to apply or revert, with the version-table changes that go with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The revision.
    pub node: Node,
    /// Apply or revert.
    pub direction: Direction,
    /// The version-table changes, committed together with the revision's SQL.
    pub changes: Vec<RowChange>,
}

/// The steps of one command, with the rows expected before and after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The rows the plan starts from.
    pub rows_before: NodeSet,
    /// The steps in order.
    pub steps: Vec<Step>,
    /// The rows once every step has run.
    pub rows_after: NodeSet,
}

/// An upgrade target resolved against the rows it was written for: the revisions that must be
/// applied (with their ancestors). Re-planning with it after another process moved the rows
/// never walks a relative step twice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpgradeGoal {
    targets: Vec<Node>,
}

/// A downgrade target resolved against the rows: what to keep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DowngradeGoal {
    /// The revision to go down to; `None` is the base.
    target: Option<Node>,
    /// Alembic's branch label of the downgrade: a label (`LABEL@...`), or the revision a
    /// `-N` walk started from when it reached the base. Only consulted when the downgrade
    /// has several roots, as in Alembic, so an unknown label is an error only then.
    branch: Option<String>,
    /// The text the user wrote, for messages.
    written: String,
}

/// Resolves an upgrade target (Alembic: `_parse_upgrade_target`).
pub fn upgrade_goal(
    graph: &RevisionGraph,
    rows: &NodeSet,
    target: &Target,
    written: &str,
) -> Result<UpgradeGoal, PlanError> {
    let targets: Vec<Node> = match target {
        Target::Heads => graph.real_heads(),
        Target::Labeled { label, inner } => {
            let owner = target::label_owner(graph, label)?;
            upgrade_nodes(graph, rows, inner, Some(owner), written)?
        }
        other => upgrade_nodes(graph, rows, other, None, written)?,
    };
    check_overlap(graph, &targets)?;
    check_overlap(graph, &rows.iter().copied().collect::<Vec<_>>())?;
    Ok(UpgradeGoal { targets })
}

fn upgrade_nodes(
    graph: &RevisionGraph,
    rows: &NodeSet,
    target: &Target,
    owner: Option<Node>,
    written: &str,
) -> Result<Vec<Node>, PlanError> {
    let node = match target {
        Target::Heads => return Ok(graph.real_heads()),
        Target::Base => None,
        Target::Head => target::single_head(graph, owner, written)?,
        Target::Relative(steps) if *steps > 0 => {
            let start = single_row(graph, rows, owner, "upgrade", '+', written)?;
            target::walk(graph, start, *steps, owner, written)?
        }
        Target::Relative(_) => {
            return Err(TargetError::WrongDirection {
                target: written.to_owned(),
                direction: "upgrade",
            }
            .into())
        }
        Target::Revision { reference, .. } => {
            let (node, offset) = target::resolve_with_offset(graph, reference)?;
            check_lineage(graph, node, owner, written)?;
            target::walk(graph, Some(node), offset, owner, written)?
        }
        Target::Labeled { .. } => return Err(TargetError::Malformed(written.to_owned()).into()),
    };
    Ok(node.into_iter().collect())
}

/// The revision a relative step of a branch starts from (Alembic's `_parse_upgrade_target`
/// / `_parse_downgrade_target`): the branch's row, or, when no row is in the branch's
/// lineage, the branch's revision that is applied only because a row depends on it.
fn single_row(
    graph: &RevisionGraph,
    rows: &NodeSet,
    owner: Option<Node>,
    direction: &'static str,
    sign: char,
    written: &str,
) -> Result<Option<Node>, PlanError> {
    let rows: Vec<Node> = rows.iter().copied().collect();
    let mut mine = target::in_lineage(graph, &rows, owner);
    if mine.is_empty() && owner.is_some() {
        mine = if sign == '+' {
            // Alembic backtracks to the tips of the applied revisions in the branch.
            let applied: Vec<Node> = graph
                .ancestors_inclusive(rows.iter().copied())
                .into_iter()
                .collect();
            let active = target::in_lineage(graph, &applied, owner);
            let below: NodeSet = active
                .iter()
                .flat_map(|&n| graph.parents(n).iter().copied())
                .collect();
            active.into_iter().filter(|n| !below.contains(n)).collect()
        } else {
            let current = graph.applied_branch_heads(rows.iter().copied());
            target::in_lineage(graph, &current, owner)
        };
    }
    match mine.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        many => Err(TargetError::RelativeFromSeveral {
            direction,
            rows: many.iter().map(|&n| graph.id(n).to_owned()).collect(),
            suggestions: many
                .iter()
                .map(|&n| format!("'{}@{sign}1'", graph.revision(n).origin.member))
                .collect(),
        }
        .into()),
    }
    .and_then(|row| match (row, sign) {
        (None, '-') => Err(TargetError::RelativeFromNothing(written.to_owned()).into()),
        _ => Ok(row),
    })
}

fn check_lineage(
    graph: &RevisionGraph,
    node: Node,
    owner: Option<Node>,
    written: &str,
) -> Result<(), PlanError> {
    match owner {
        Some(owner) if !graph.shares_lineage(node, owner, false) => Err(TargetError::NotInBranch {
            id: graph.id(node).to_owned(),
            label: written.split('@').next().unwrap_or(written).to_owned(),
        }
        .into()),
        _ => Ok(()),
    }
}

/// Alembic's `check=True` ancestry walk: no requested revision (target or current row) may
/// be an ancestor of another.
fn check_overlap(graph: &RevisionGraph, requested: &[Node]) -> Result<(), PlanError> {
    for &t in requested {
        let below: Vec<&str> = requested
            .iter()
            .copied()
            .filter(|&o| o != t && graph.is_ancestor(o, t))
            .map(|o| graph.id(o))
            .collect();
        if !below.is_empty() {
            return Err(PlanError::Overlap {
                target: graph.id(t).to_owned(),
                others: below.join(", "),
            });
        }
    }
    Ok(())
}

/// Plans an upgrade: every ancestor of the goal that is not applied, parents first.
pub fn plan_upgrade(graph: &RevisionGraph, rows: &NodeSet, goal: &UpgradeGoal) -> Plan {
    let required = graph.ancestor_flags(goal.targets.iter().copied());
    let applied = graph.ancestor_flags(rows.iter().copied());
    let needed: Vec<Node> = graph
        .order()
        .iter()
        .copied()
        .filter(|&n| required[n] && !applied[n])
        .collect();
    build_plan(graph, rows, needed, Direction::Up)
}

/// Resolves a downgrade target (Alembic: `_parse_downgrade_target`).
pub fn downgrade_goal(
    graph: &RevisionGraph,
    rows: &NodeSet,
    target: &Target,
    written: &str,
) -> Result<DowngradeGoal, PlanError> {
    let (label, inner) = match target {
        Target::Labeled { label, inner } => (Some(label.as_str()), &**inner),
        other => (None, other),
    };
    let wrong = || {
        PlanError::from(TargetError::WrongDirection {
            target: written.to_owned(),
            direction: "downgrade",
        })
    };
    let mut branch = label.map(str::to_owned);
    let node = match inner {
        Target::Base => None,
        Target::Heads => return Err(wrong()),
        Target::Head => {
            let owner = label.map(|l| target::label_owner(graph, l)).transpose()?;
            target::single_head(graph, owner, written)?
        }
        Target::Relative(steps) if *steps < 0 => {
            let owner = label.map(|l| target::label_owner(graph, l)).transpose()?;
            let start = single_row(graph, rows, owner, "downgrade", '-', written)?;
            if branch.is_none() {
                // Alembic restricts a relative downgrade to the branch of the revision it
                // walks from (`branch_label = symbol` in `_parse_downgrade_target`).
                branch = start.map(|s| graph.id(s).to_owned());
            }
            target::walk(graph, start, *steps, owner, written)?
        }
        Target::Relative(_) => return Err(wrong()),
        // Alembic resolves `LABEL@ID` by the id alone when going down.
        Target::Revision { reference, .. } => {
            let (node, offset) = target::resolve_with_offset(graph, reference)?;
            target::walk(graph, Some(node), offset, None, written)?
        }
        Target::Labeled { .. } => return Err(TargetError::Malformed(written.to_owned()).into()),
    };
    Ok(DowngradeGoal {
        target: node,
        branch,
        written: written.to_owned(),
    })
}

/// Plans a downgrade: every applied revision above the goal, children first.
pub fn plan_downgrade(
    graph: &RevisionGraph,
    rows: &NodeSet,
    goal: &DowngradeGoal,
) -> Result<Plan, PlanError> {
    let mut roots: Vec<Node> = match goal.target {
        None => graph.bases(),
        Some(target) => graph.children(target).to_vec(),
    };
    // Alembic (`_collect_downgrade_revisions`): with a branch and several roots, keep the
    // roots below the branch's revision; none left is an error.
    if let (Some(branch), true) = (&goal.branch, roots.len() > 1) {
        let anchor = target::resolve_reference(graph, branch)?;
        let lineage = graph.revises_ancestors_inclusive([anchor]);
        roots.retain(|r| lineage.contains(r));
        if roots.is_empty() {
            return Err(PlanError::NotADowngradeTarget(goal.written.clone()));
        }
    }
    let applied = graph.ancestor_flags(rows.iter().copied());
    let drop = graph.descendant_flags(roots);
    let mut dropped: Vec<Node> = graph
        .order()
        .iter()
        .copied()
        .filter(|&n| drop[n] && applied[n])
        .collect();
    dropped.reverse();
    if let Some(target) = goal.target {
        if dropped.is_empty() && !rows.contains(&target) {
            return Err(PlanError::NotADowngradeTarget(goal.written.clone()));
        }
    }
    if let Some(&irreversible) = dropped.iter().find(|&&n| graph.revision(n).down.is_none()) {
        let rev = graph.revision(irreversible);
        return Err(PlanError::Irreversible {
            id: rev.id.to_string(),
            path: rev.origin.path.display().to_string(),
        });
    }
    Ok(build_plan(graph, rows, dropped, Direction::Down))
}

fn build_plan(
    graph: &RevisionGraph,
    rows: &NodeSet,
    nodes: Vec<Node>,
    direction: Direction,
) -> Plan {
    let mut current = rows.clone();
    let steps = nodes
        .into_iter()
        .map(|node| {
            let changes = version_rows::transition(graph, &current, node, direction);
            version_rows::apply_changes(&mut current, &changes);
            Step {
                node,
                direction,
                changes,
            }
        })
        .collect();
    Plan {
        rows_before: rows.clone(),
        steps,
        rows_after: current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::{ids, rev, users_and_billing};

    fn chain() -> RevisionGraph {
        RevisionGraph::build(vec![
            rev("m", "r1", &[], &[]),
            rev("m", "r2", &["r1"], &[]),
            rev("m", "r3", &["r2"], &[]),
            rev("m", "r4", &["r3"], &[]),
        ])
        .expect("valid")
    }

    fn up(graph: &RevisionGraph, rows: &NodeSet, target: &str) -> Result<Plan, PlanError> {
        let t = Target::parse(target)?;
        let goal = upgrade_goal(graph, rows, &t, target)?;
        Ok(plan_upgrade(graph, rows, &goal))
    }

    fn down(graph: &RevisionGraph, rows: &NodeSet, target: &str) -> Result<Plan, PlanError> {
        let t = Target::parse(target)?;
        let goal = downgrade_goal(graph, rows, &t, target)?;
        plan_downgrade(graph, rows, &goal)
    }

    fn step_ids(graph: &RevisionGraph, plan: &Plan) -> Vec<String> {
        ids(graph, plan.steps.iter().map(|s| s.node))
    }

    #[test]
    fn linear_upgrades_and_downgrades() {
        let g = chain();
        let empty = NodeSet::new();
        let plan = up(&g, &empty, "heads").expect("plan");
        assert_eq!(step_ids(&g, &plan), ["r1", "r2", "r3", "r4"]);
        assert_eq!(ids(&g, plan.rows_after.clone()), ["r4"]);
        let at_r2: NodeSet = [1].into();
        assert_eq!(
            step_ids(&g, &up(&g, &at_r2, "head").expect("plan")),
            ["r3", "r4"]
        );
        assert_eq!(step_ids(&g, &up(&g, &at_r2, "+1").expect("plan")), ["r3"]);
        assert_eq!(
            step_ids(&g, &up(&g, &at_r2, "r4").expect("plan")),
            ["r3", "r4"]
        );
        assert!(up(&g, &[3].into(), "heads").expect("plan").steps.is_empty());
        let d = down(&g, &[3].into(), "-1").expect("plan");
        assert_eq!(step_ids(&g, &d), ["r4"]);
        assert_eq!(ids(&g, d.rows_after.clone()), ["r3"]);
        let d = down(&g, &[3].into(), "base").expect("plan");
        assert_eq!(step_ids(&g, &d), ["r4", "r3", "r2", "r1"]);
        assert!(d.rows_after.is_empty());
        assert_eq!(
            step_ids(&g, &down(&g, &[3].into(), "r2").expect("plan")),
            ["r4", "r3"]
        );
    }

    #[test]
    fn relative_steps_are_strict() {
        let g = chain();
        assert!(matches!(
            up(&g, &[3].into(), "+1"),
            Err(PlanError::Target(TargetError::OverWalk { .. }))
        ));
        assert!(matches!(
            up(&g, &NodeSet::new(), "r4+1"),
            Err(PlanError::Target(TargetError::OverWalk { .. }))
        ));
        assert!(matches!(
            down(&g, &NodeSet::new(), "-1"),
            Err(PlanError::Target(TargetError::RelativeFromNothing(_)))
        ));
        assert!(matches!(
            down(&g, &[1].into(), "r3"),
            Err(PlanError::NotADowngradeTarget(_))
        ));
        assert_eq!(
            step_ids(&g, &up(&g, &NodeSet::new(), "r1+2").expect("plan")),
            ["r1", "r2", "r3"]
        );
    }

    #[test]
    fn members_and_dependencies() {
        let g = users_and_billing();
        let plan = up(&g, &NodeSet::new(), "heads").expect("plan");
        assert_eq!(ids(&g, plan.rows_after.clone()), ["b2"]);
        assert!(matches!(
            up(&g, &NodeSet::new(), "head"),
            Err(PlanError::Target(TargetError::MultipleHeads { .. }))
        ));
        let plan = up(&g, &NodeSet::new(), "users@head").expect("plan");
        assert_eq!(step_ids(&g, &plan), ["u1", "u2"]);
        let d = down(&g, &[3].into(), "users@base").expect("plan");
        assert_eq!(step_ids(&g, &d), ["b2", "u2", "u1"]);
        assert_eq!(ids(&g, d.rows_after.clone()), ["b1"]);
        assert!(matches!(
            down(&g, &[1, 2].into(), "-1"),
            Err(PlanError::Target(TargetError::RelativeFromSeveral { .. }))
        ));
        assert_eq!(
            step_ids(&g, &down(&g, &[1, 2].into(), "billing@-1").expect("plan")),
            ["b1"]
        );
    }

    #[test]
    fn irreversible_revisions_stop_a_downgrade_before_it_starts() {
        let mut r2 = rev("m", "r2", &["r1"], &[]);
        r2.down = None;
        let g = RevisionGraph::build(vec![rev("m", "r1", &[], &[]), r2]).expect("valid");
        assert!(matches!(
            down(&g, &[1].into(), "base"),
            Err(PlanError::Irreversible { .. })
        ));
    }
}

/// A resolved `stamp` destination: a revision, or the base of every branch (or of one
/// label's branch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StampDestination {
    /// Stamp exactly this revision; `label_owner` is the revision declaring the label of
    /// `LABEL@...`, whose lineage also selects rows (Alembic's `filter_for_lineage`).
    Revision {
        /// The revision.
        node: Node,
        /// The revision declaring the label, if the target had one.
        label_owner: Option<Node>,
    },
    /// `base` (`label_owner` is `None`) or `LABEL@base`.
    Base {
        /// The revision declaring the label, for `LABEL@base`.
        label_owner: Option<Node>,
    },
}

/// Resolves `stamp` targets: absolute forms only, as in Alembic (`heads` may yield several).
pub fn stamp_destinations(
    graph: &RevisionGraph,
    target: &Target,
    written: &str,
) -> Result<Vec<StampDestination>, PlanError> {
    let (owner, inner) = match target {
        Target::Labeled { label, inner } => (Some(target::label_owner(graph, label)?), &**inner),
        other => (None, other),
    };
    let wrong = || {
        PlanError::from(TargetError::WrongDirection {
            target: written.to_owned(),
            direction: "stamp",
        })
    };
    Ok(match inner {
        Target::Heads => graph
            .real_heads()
            .into_iter()
            .map(|node| StampDestination::Revision {
                node,
                label_owner: None,
            })
            .collect(),
        Target::Base => vec![StampDestination::Base { label_owner: owner }],
        Target::Head => target::single_head(graph, owner, written)?
            .map(|node| StampDestination::Revision {
                node,
                label_owner: owner,
            })
            .into_iter()
            .collect(),
        Target::Relative(_) => return Err(wrong()),
        Target::Revision { reference, .. } => {
            let (node, offset) = target::resolve_with_offset(graph, reference)?;
            if offset != 0 {
                return Err(wrong());
            }
            check_lineage(graph, node, owner, written)?;
            vec![StampDestination::Revision {
                node,
                label_owner: owner,
            }]
        }
        Target::Labeled { .. } => return Err(TargetError::Malformed(written.to_owned()).into()),
    })
}

/// Plans `stamp` (Alembic: `ScriptDirectory._stamp_revs` and `StampStep`): row changes only,
/// one group per destination, nothing to run.
///
/// Where Alembic's bookkeeping would touch a row that is not there (it then fails with a
/// `KeyError` after committing part of the stamp), the whole stamp is refused before
/// anything changes.
pub fn plan_stamp(
    graph: &RevisionGraph,
    rows: &NodeSet,
    destinations: &[StampDestination],
) -> Result<(Vec<RowChange>, NodeSet), PlanError> {
    // The rows that share lineage (dependencies included) with any destination, computed
    // once, as Alembic does; every step then moves all of them.
    let lineage_of = |node: Node| {
        graph
            .ancestors_inclusive([node])
            .union(&graph.descendants_inclusive([node]))
            .copied()
            .collect::<NodeSet>()
    };
    let mut filtered: Vec<Node> = Vec::new();
    for destination in destinations {
        let anchors: Vec<Node> = match *destination {
            StampDestination::Base { label_owner } => label_owner.into_iter().collect(),
            StampDestination::Revision { node, label_owner } => {
                std::iter::once(node).chain(label_owner).collect()
            }
        };
        let candidates: Vec<Node> = if anchors.is_empty() {
            rows.iter().copied().collect()
        } else {
            let lineage: NodeSet = anchors.iter().flat_map(|&a| lineage_of(a)).collect();
            rows.iter()
                .copied()
                .filter(|r| lineage.contains(r))
                .collect()
        };
        for row in candidates {
            if !filtered.contains(&row) {
                filtered.push(row);
            }
        }
    }
    let mut current = rows.clone();
    let mut changes = Vec::new();
    let mut conflict: Option<String> = None;
    let mut step =
        |from: &[Node], to: &[Node], is_upgrade: bool, branch_move: bool, current: &mut NodeSet| {
            let step_changes =
                version_rows::stamp_transition(current, from, to, is_upgrade, branch_move);
            if conflict.is_none() && !version_rows::touches_only_rows(current, &step_changes) {
                let ids = |nodes: &[Node]| {
                    nodes
                        .iter()
                        .map(|&n| graph.id(n))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                conflict = Some(format!(
                    "moving {} to {} would change rows an earlier destination already moved",
                    if from.is_empty() {
                        "<base>".to_owned()
                    } else {
                        ids(from)
                    },
                    if to.is_empty() {
                        "<base>".to_owned()
                    } else {
                        ids(to)
                    },
                ));
            }
            version_rows::apply_changes(current, &step_changes);
            changes.extend(step_changes);
        };
    for destination in destinations {
        match *destination {
            StampDestination::Base { .. } => {
                for &head in &filtered {
                    step(&[head], &[], false, true, &mut current);
                }
            }
            StampDestination::Revision { node: dest, .. } if filtered.contains(&dest) => {}
            StampDestination::Revision { node: dest, .. } => {
                let descendants = graph.descendants_inclusive([dest]);
                let ancestors = graph.ancestors_inclusive([dest]);
                let above = filtered.iter().any(|h| descendants.contains(h));
                if above && filtered.iter().any(|h| h != &dest && ancestors.contains(h)) {
                    // Rows on both sides of the destination: Alembic asserts here.
                    return Err(PlanError::StampConflict(format!(
                        "the version table holds revisions both above and below {}",
                        graph.id(dest)
                    )));
                }
                if above {
                    step(&filtered, &[dest], false, false, &mut current);
                } else if filtered.iter().any(|h| ancestors.contains(h)) {
                    step(&filtered, &[dest], true, false, &mut current);
                } else {
                    step(&[], &[dest], true, true, &mut current);
                }
            }
        }
    }
    match conflict {
        Some(reason) => Err(PlanError::StampConflict(reason)),
        None => Ok((changes, current)),
    }
}
