//! `rebase` (SPEC section 10): a member with two heads made one line again without a merge
//! revision, by re-parenting the branch the database has not applied onto the other head.
//!
//! Only the `Revises` of the moved branch's first revisions change (those whose parents are
//! outside the branch); [`rewrite_revises`] rewrites that one header line and keeps every
//! other byte of the file.

use crate::graph::{Node, NodeSet, RevisionGraph};

/// What `rebase` will do: move `moved` onto `onto`, rewriting the `Revises` of `rewrites`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RebasePlan {
    /// The member's label.
    pub member: String,
    /// The head the branch is moved onto.
    pub onto: Node,
    /// The head of the branch that moves.
    pub moved_head: Node,
    /// Every revision of the moving branch, in graph order.
    pub moved: Vec<Node>,
    /// The revisions whose `Revises` change, with their new `Revises` ids.
    pub rewrites: Vec<(Node, Vec<String>)>,
}

/// Why a member cannot be rebased.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RebaseError {
    /// The member has one head (or none): nothing to do.
    #[error("member `{0}` has a single head: there is nothing to rebase")]
    OneHead(String),
    /// More than two heads: which goes onto which is not clear.
    #[error("member `{member}` has {} heads ({}); rebase joins two: merge or rebase the others first", .heads.len(), .heads.join(", "))]
    ManyHeads {
        /// The member.
        member: String,
        /// Its heads.
        heads: Vec<String>,
    },
    /// Both heads are applied: the database already has both lines.
    #[error("both heads of member `{member}` ({}, {}) are applied to the database, so neither line can move; join them with `cargo revise merge`", .heads[0], .heads[1])]
    BothApplied {
        /// The member.
        member: String,
        /// Its two heads.
        heads: [String; 2],
    },
    /// A revision that would move is applied.
    #[error("revision {revision} of member `{member}` would move, but the database has applied it (and {other} on the other line): moving an applied revision would make the database disagree with the files; join the lines with `cargo revise merge`")]
    MovesApplied {
        /// The member.
        member: String,
        /// The applied revision that would move.
        revision: String,
        /// An applied revision of the other line.
        other: String,
    },
}

/// Plans a rebase of the member labelled `member`, given the revisions the database has
/// applied (`applied`, ancestors included).
pub fn plan_rebase(
    graph: &RevisionGraph,
    member: &str,
    applied: &NodeSet,
) -> Result<RebasePlan, RebaseError> {
    let heads = member_heads(graph, member);
    let (first, second) = match heads.as_slice() {
        [first, second] => (*first, *second),
        [] | [_] => return Err(RebaseError::OneHead(member.to_owned())),
        many => {
            return Err(RebaseError::ManyHeads {
                member: member.to_owned(),
                heads: many.iter().map(|&n| graph.id(n).to_owned()).collect(),
            })
        }
    };
    let line_of = |head: Node, other: Node| -> Vec<Node> {
        let own = graph.revises_ancestors_inclusive([head]);
        let shared = graph.revises_ancestors_inclusive([other]);
        graph
            .order()
            .iter()
            .copied()
            .filter(|n| own.contains(n) && !shared.contains(n))
            .collect()
    };
    let lines = [line_of(first, second), line_of(second, first)];
    let applied_in = |line: &[Node]| line.iter().copied().find(|n| applied.contains(n));
    if applied.contains(&first) && applied.contains(&second) {
        return Err(RebaseError::BothApplied {
            member: member.to_owned(),
            heads: [graph.id(first).to_owned(), graph.id(second).to_owned()],
        });
    }
    let moving = match (applied_in(&lines[0]), applied_in(&lines[1])) {
        (Some(a), Some(b)) => {
            return Err(RebaseError::MovesApplied {
                member: member.to_owned(),
                revision: graph.id(a).to_owned(),
                other: graph.id(b).to_owned(),
            })
        }
        (Some(_), None) => 1,
        (None, Some(_)) => 0,
        // Neither is applied: the line whose first revision came later moves, as a
        // feature branch goes onto what was there before it.
        (None, None) => {
            let position = |line: &[Node]| {
                line.first()
                    .and_then(|n| graph.order().iter().position(|o| o == n))
            };
            if position(&lines[0]) > position(&lines[1]) {
                0
            } else {
                1
            }
        }
    };
    let (moved_head, onto) = if moving == 0 {
        (first, second)
    } else {
        (second, first)
    };
    let moved = lines[moving].clone();
    let onto_id = graph.id(onto).to_owned();
    let rewrites = moved
        .iter()
        .filter_map(|&node| {
            let parents = graph.revises(node);
            if parents.iter().all(|p| moved.contains(p)) {
                return None;
            }
            let mut new: Vec<String> = Vec::new();
            for &parent in parents {
                let id = if moved.contains(&parent) {
                    graph.id(parent).to_owned()
                } else {
                    onto_id.clone()
                };
                if !new.contains(&id) {
                    new.push(id);
                }
            }
            Some((node, new))
        })
        .collect();
    Ok(RebasePlan {
        member: member.to_owned(),
        onto,
        moved_head,
        moved,
        rewrites,
    })
}

/// The heads of one member: its revisions that no revision of it revises.
pub fn member_heads(graph: &RevisionGraph, member: &str) -> Vec<Node> {
    graph
        .order()
        .iter()
        .copied()
        .filter(|&n| &*graph.revision(n).origin.member == member && graph.children(n).is_empty())
        .collect()
}

/// Why a file's `Revises` line could not be rewritten.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line} is not the `Revises:` header line it was when the file was read; read the files again")]
pub struct RewriteError {
    /// The line expected to hold `Revises:`.
    pub line: usize,
}

/// `bytes` (a revision file) with the value of its `Revises:` header line (at 1-based
/// `line`) replaced by `ids`; every other byte, the line's ending and the space after the
/// colon included, stays as it was.
pub fn rewrite_revises(bytes: &[u8], line: usize, ids: &[String]) -> Result<Vec<u8>, RewriteError> {
    let error = || RewriteError { line };
    let mut start = 0;
    for _ in 1..line {
        start += bytes[start..]
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(error)?
            + 1;
    }
    let end = bytes[start..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(bytes.len(), |at| start + at);
    let text = std::str::from_utf8(&bytes[start..end]).map_err(|_| error())?;
    let colon = text.find(':').ok_or_else(error)?;
    let key = text[..colon]
        .trim_start_matches(['-', ' ', '\u{feff}'])
        .trim();
    if !key.eq_ignore_ascii_case("revises") {
        return Err(error());
    }
    let after = &text[colon + 1..];
    let spaces = after.len() - after.trim_start().len();
    let value_start = start + colon + 1 + spaces;
    let mut out = Vec::with_capacity(bytes.len() + 32);
    out.extend_from_slice(&bytes[..value_start]);
    out.extend_from_slice(ids.join(", ").as_bytes());
    out.extend_from_slice(&bytes[end..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::rev;

    /// m: a → b → c and a → d → e (two heads, c and e).
    fn forked() -> RevisionGraph {
        RevisionGraph::build(vec![
            rev("m", "a", &[], &[]),
            rev("m", "b", &["a"], &[]),
            rev("m", "c", &["b"], &[]),
            rev("m", "d", &["a"], &[]),
            rev("m", "e", &["d"], &[]),
        ])
        .expect("valid")
    }

    fn applied(graph: &RevisionGraph, ids: &[&str]) -> NodeSet {
        graph.ancestors_inclusive(ids.iter().map(|id| graph.node(id).expect("known")))
    }

    /// The plan as text: onto, moved, and each rewrite as `id: new revises`.
    fn summary(graph: &RevisionGraph, plan: &RebasePlan) -> (String, Vec<String>, Vec<String>) {
        (
            graph.id(plan.onto).to_owned(),
            plan.moved.iter().map(|&n| graph.id(n).to_owned()).collect(),
            plan.rewrites
                .iter()
                .map(|(n, ids)| format!("{}: {}", graph.id(*n), ids.join(", ")))
                .collect(),
        )
    }

    #[test]
    fn the_unapplied_line_moves_onto_the_other_head() {
        let graph = forked();
        let plan = plan_rebase(&graph, "m", &applied(&graph, &["c"])).expect("possible");
        assert_eq!(
            summary(&graph, &plan),
            (
                "c".to_owned(),
                vec!["d".to_owned(), "e".to_owned()],
                vec!["d: c".to_owned()]
            )
        );
        let plan = plan_rebase(&graph, "m", &applied(&graph, &["d"])).expect("possible");
        assert_eq!(summary(&graph, &plan).0, "e");
    }

    #[test]
    fn applied_lines_are_never_moved() {
        let graph = forked();
        assert!(matches!(
            plan_rebase(&graph, "m", &applied(&graph, &["c", "e"])),
            Err(RebaseError::BothApplied { .. })
        ));
        assert!(matches!(
            plan_rebase(&graph, "m", &applied(&graph, &["b", "d"])),
            Err(RebaseError::MovesApplied { .. })
        ));
        let linear =
            RevisionGraph::build(vec![rev("m", "a", &[], &[]), rev("m", "b", &["a"], &[])])
                .expect("valid");
        assert_eq!(
            plan_rebase(&linear, "m", &NodeSet::new()),
            Err(RebaseError::OneHead("m".to_owned()))
        );
    }

    #[test]
    fn only_the_revises_value_changes() {
        let file = b"-- Add d\r\n--\r\n-- Revision ID: d\r\n-- revises:   a\r\n\r\n-- revise:up\r\nSELECT 1;\r\n";
        let out = rewrite_revises(file, 4, &["c".to_owned()]).expect("rewritten");
        assert_eq!(
            out,
            b"-- Add d\r\n--\r\n-- Revision ID: d\r\n-- revises:   c\r\n\r\n-- revise:up\r\nSELECT 1;\r\n"
        );
        assert_eq!(
            rewrite_revises(file, 3, &["c".to_owned()]),
            Err(RewriteError { line: 3 })
        );
    }
}
