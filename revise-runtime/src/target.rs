//! The target grammar of `up`, `down` and `stamp`, and its resolution to revisions.
//!
//! Follows Alembic: `heads`, `head`, `base`, ids and unique prefixes (branch labels take part),
//! `+N`/`-N` from the current rows, `ID+N`, `ID-N`, and `LABEL@` in front of any of them.
//! Errors list the candidates, because "can't locate" alone leaves a user stuck.

use crate::graph::{Node, NodeSet, RevisionGraph};

/// A parsed target, not yet resolved against the graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `heads`: every head, through dependencies too.
    Heads,
    /// `head`: the single head (an error when there are several).
    Head,
    /// `base`: before the first revision.
    Base,
    /// `+N` / `-N` from the current revision.
    Relative(i64),
    /// An id, prefix or label, optionally with `+N` / `-N`.
    Revision {
        /// What names the revision.
        reference: String,
        /// Steps to walk from it (0 for none).
        offset: i64,
    },
    /// `LABEL@...`: the same, restricted to the lineage of a branch label.
    Labeled {
        /// The branch label.
        label: String,
        /// The target inside that branch; never `Labeled` or `Heads`.
        inner: Box<Target>,
    },
}

/// Why a target cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The text does not follow the grammar.
    #[error("`{0}` is not a valid target; use `heads`, `head`, `base`, a revision id or prefix, `+N`, `-N`, `ID+N`, `ID-N` or `LABEL@...`")]
    Malformed(String),
    /// Nothing is called that.
    #[error(
        "Can't locate revision identified by '{0}'; `cargo revise history` lists the revisions (a prefix must match a single id or label of at least four characters)"
    )]
    Unknown(String),
    /// A prefix of several revisions or labels.
    #[error("'{prefix}' is ambiguous; it could be any of: {}", candidates.join(", "))]
    Ambiguous {
        /// The prefix.
        prefix: String,
        /// Every revision id or label it matches.
        candidates: Vec<String>,
    },
    /// No such branch label.
    #[error("no branch label '{label}'; the labels are: {}", known.join(", "))]
    UnknownLabel {
        /// The label asked for.
        label: String,
        /// The labels that exist.
        known: Vec<String>,
    },
    /// `head` where there are several heads.
    #[error("Multiple head revisions are present for given argument '{target}': {}; please specify a specific target revision, '<branchname>@head' to narrow to a specific head, or 'heads' for all heads", heads.join(", "))]
    MultipleHeads {
        /// The target as written.
        target: String,
        /// The heads it could mean.
        heads: Vec<String>,
    },
    /// A revision outside the label's lineage.
    #[error("revision '{id}' is not in the lineage of branch label '{label}'")]
    NotInBranch {
        /// The revision.
        id: String,
        /// The label.
        label: String,
    },
    /// A relative step from several current revisions.
    #[error("Ambiguous {direction} from multiple current revisions: {}; name a branch instead, for example {}", rows.join(", "), suggestions.join(" or "))]
    RelativeFromSeveral {
        /// `upgrade` or `downgrade`.
        direction: &'static str,
        /// The current rows.
        rows: Vec<String>,
        /// Targets that would work, such as `users@-1`.
        suggestions: Vec<String>,
    },
    /// A relative step with nothing to step from.
    #[error("relative target '{0}' needs a current revision, but none of its branch is applied")]
    RelativeFromNothing(String),
    /// A walk that meets a branch point, a merge point or several bases.
    #[error("Ambiguous walk for '{target}': from {from} the next step could be any of {}; name one of them instead", candidates.join(", "))]
    AmbiguousWalk {
        /// The target as written.
        target: String,
        /// Where the walk stood.
        from: String,
        /// The revisions it could step to.
        candidates: Vec<String>,
    },
    /// A walk past a head or below the base.
    #[error("Relative revision '{target}' didn't produce {steps} migrations: {from} is {end}")]
    OverWalk {
        /// The target as written.
        target: String,
        /// The number of steps asked for.
        steps: u64,
        /// Where the walk stopped.
        from: String,
        /// `a head` or `the base`.
        end: &'static str,
    },
    /// A target form that makes no sense in this direction.
    #[error("'{target}' is not a valid {direction} target")]
    WrongDirection {
        /// The target as written.
        target: String,
        /// `upgrade`, `downgrade` or `stamp`.
        direction: &'static str,
    },
}

impl Target {
    /// Parses target text. Ids and labels are checked later, against the graph.
    pub fn parse(text: &str) -> Result<Self, TargetError> {
        let text = text.trim();
        let malformed = || TargetError::Malformed(text.to_owned());
        if let Some((label, rest)) = text.split_once('@') {
            if label.is_empty() || rest.is_empty() || rest.contains('@') {
                return Err(malformed());
            }
            let inner = Self::parse_unlabeled(rest).ok_or_else(malformed)?;
            if inner == Self::Heads {
                return Err(malformed());
            }
            return Ok(Self::Labeled {
                label: label.to_owned(),
                inner: Box::new(inner),
            });
        }
        Self::parse_unlabeled(text).ok_or_else(malformed)
    }

    fn parse_unlabeled(text: &str) -> Option<Self> {
        match text {
            "" => None,
            "heads" => Some(Self::Heads),
            "head" => Some(Self::Head),
            "base" => Some(Self::Base),
            _ => {
                if text.starts_with(['+', '-']) {
                    return parse_offset(text).map(Self::Relative);
                }
                // Ids, labels and prefixes, optionally followed by `+N` / `-N`.
                let valid = text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '.'));
                if !valid {
                    return None;
                }
                Some(Self::Revision {
                    reference: text.to_owned(),
                    offset: 0,
                })
            }
        }
    }
}

/// `+N` or `-N` with N >= 1.
fn parse_offset(text: &str) -> Option<i64> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    (n > 0).then_some(sign * n)
}

/// Splits `ref+N` / `ref-N`. Only used when `ref+N` as a whole names nothing, because labels
/// (package names) may contain `-`.
fn split_offset(text: &str) -> Option<(&str, i64)> {
    let at = text.rfind(['+', '-'])?;
    let offset = parse_offset(&text[at..])?;
    (at > 0).then(|| (&text[..at], offset))
}

/// Resolves an id, a label or a unique prefix of either to a revision.
///
/// An exact id wins, then an exact label (naming the revision that declares it, as in
/// Alembic), then a prefix of exactly one id or label. As in Alembic's
/// `_revision_for_ident`, only ids and labels longer than three characters take part in
/// prefix matching, so a short id is never reached by accident.
pub fn resolve_reference(graph: &RevisionGraph, text: &str) -> Result<Node, TargetError> {
    if let Some(node) = graph.node(text).or_else(|| graph.label_owner(text)) {
        return Ok(node);
    }
    let long_enough = |name: &str| name.chars().count() > 3 && name.starts_with(text);
    let mut candidates: Vec<(String, Node)> = graph
        .revisions()
        .iter()
        .enumerate()
        .filter(|(_, r)| long_enough(r.id.as_str()))
        .map(|(n, r)| (r.id.to_string(), n))
        .collect();
    candidates.extend(
        graph
            .labels()
            .filter(|(l, _)| long_enough(l))
            .map(|(l, n)| (format!("{l}@ ({})", graph.id(n)), n)),
    );
    let distinct: NodeSet = candidates.iter().map(|(_, n)| *n).collect();
    match distinct.len() {
        1 => Ok(candidates[0].1),
        0 => Err(TargetError::Unknown(text.to_owned())),
        _ => Err(TargetError::Ambiguous {
            prefix: text.to_owned(),
            candidates: candidates.into_iter().map(|(c, _)| c).collect(),
        }),
    }
}

/// Resolves text that names exactly one revision: an id, prefix or label, `head`, `heads`
/// when there is a single head (as Alembic's `get_revision`), `LABEL@head` or `LABEL@ID`
/// (for `show`, `--head`, `--depends-on`, `merge`).
pub fn resolve_single(graph: &RevisionGraph, text: &str) -> Result<Node, TargetError> {
    let target = Target::parse(text)?;
    let (owner, inner) = match &target {
        Target::Labeled { label, inner } => (Some(label_owner(graph, label)?), &**inner),
        other => (None, other),
    };
    let node = match inner {
        Target::Head => single_head(graph, owner, text)?,
        // `heads` names the heads through dependencies too (Alembic's `_real_heads`).
        Target::Heads => match graph.real_heads().as_slice() {
            [] => return Err(TargetError::Unknown(text.to_owned())),
            [one] => Some(*one),
            many => {
                return Err(TargetError::MultipleHeads {
                    target: text.to_owned(),
                    heads: many.iter().map(|&n| graph.id(n).to_owned()).collect(),
                })
            }
        },
        Target::Revision {
            reference,
            offset: 0,
        } => {
            let (node, offset) = resolve_with_offset(graph, reference)?;
            walk(graph, Some(node), offset, owner, text)?
        }
        _ => None,
    };
    node.ok_or_else(|| TargetError::Malformed(text.to_owned()))
}

/// What a new revision's `Depends On` records for `text` (`new --depends-on`), as Alembic's
/// `revision --depends-on` writes it: a branch label stays the label, which names the
/// revision that declares it; every other form that names one revision (an id or a unique
/// prefix, `head`, `heads` when there is one, `LABEL@head`, `LABEL@ID`) becomes that
/// revision's full id, so the file never depends on a prefix that a later revision could
/// make ambiguous.
pub fn resolve_dependency(graph: &RevisionGraph, text: &str) -> Result<String, TargetError> {
    let text = text.trim();
    let node = resolve_single(graph, text)?;
    if graph.node(text).is_none() && graph.label_owner(text) == Some(node) {
        return Ok(text.to_owned());
    }
    Ok(graph.id(node).to_owned())
}

/// Resolves a reference that may carry `+N`/`-N`, returning the revision and the offset.
pub(crate) fn resolve_with_offset(
    graph: &RevisionGraph,
    reference: &str,
) -> Result<(Node, i64), TargetError> {
    match resolve_reference(graph, reference) {
        Ok(node) => Ok((node, 0)),
        Err(first) => match split_offset(reference) {
            Some((base, offset)) => resolve_reference(graph, base)
                .map(|node| (node, offset))
                .map_err(|_| first),
            None => Err(first),
        },
    }
}

/// The revision that declares `label`, or an error listing the labels.
pub(crate) fn label_owner(graph: &RevisionGraph, label: &str) -> Result<Node, TargetError> {
    graph
        .label_owner(label)
        .ok_or_else(|| TargetError::UnknownLabel {
            label: label.to_owned(),
            known: graph.labels().map(|(l, _)| l.to_owned()).collect(),
        })
}

/// Alembic's `filter_for_lineage` for one label: keeps what shares lineage (by `Revises`)
/// with the revision that declares the label.
pub(crate) fn in_lineage(graph: &RevisionGraph, nodes: &[Node], owner: Option<Node>) -> Vec<Node> {
    match owner {
        None => nodes.to_vec(),
        Some(owner) => nodes
            .iter()
            .copied()
            .filter(|&n| graph.shares_lineage(n, owner, false))
            .collect(),
    }
}

/// The single head of `head` / `LABEL@head`.
pub(crate) fn single_head(
    graph: &RevisionGraph,
    owner: Option<Node>,
    written: &str,
) -> Result<Option<Node>, TargetError> {
    let heads = in_lineage(graph, &graph.heads(), owner);
    match heads.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        many => Err(TargetError::MultipleHeads {
            target: written.to_owned(),
            heads: many.iter().map(|&n| graph.id(n).to_owned()).collect(),
        }),
    }
}

/// Walks `steps` revisions up (positive) or down (negative) from `start` (`None` is the base)
/// along `Revises`, staying in the label's lineage. Every step must be unambiguous, and the
/// walk may not pass a head or go below the base (Alembic's `_walk` with `no_overwalk`).
pub(crate) fn walk(
    graph: &RevisionGraph,
    start: Option<Node>,
    steps: i64,
    owner: Option<Node>,
    written: &str,
) -> Result<Option<Node>, TargetError> {
    let mut at = start;
    for _ in 0..steps.unsigned_abs() {
        let next: Vec<Node> = match (at, steps > 0) {
            (None, true) => in_lineage(graph, &graph.bases(), owner),
            (Some(n), true) => in_lineage(graph, graph.children(n), owner),
            (Some(n), false) => graph.revises(n).to_vec(),
            (None, false) => Vec::new(),
        };
        let from = at.map_or_else(|| "base".to_owned(), |n| graph.id(n).to_owned());
        at = match next.as_slice() {
            [one] => Some(*one),
            [] if steps < 0 && at.is_some() => None,
            [] => {
                return Err(TargetError::OverWalk {
                    target: written.to_owned(),
                    steps: steps.unsigned_abs(),
                    from,
                    end: if steps > 0 { "a head" } else { "the base" },
                })
            }
            many => {
                return Err(TargetError::AmbiguousWalk {
                    target: written.to_owned(),
                    from,
                    candidates: many.iter().map(|&n| graph.id(n).to_owned()).collect(),
                })
            }
        };
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::rev;

    #[test]
    fn parses_every_form() {
        assert_eq!(Target::parse("heads"), Ok(Target::Heads));
        assert_eq!(Target::parse("+2"), Ok(Target::Relative(2)));
        assert_eq!(Target::parse("-1"), Ok(Target::Relative(-1)));
        assert_eq!(
            Target::parse("users@-1"),
            Ok(Target::Labeled {
                label: "users".into(),
                inner: Box::new(Target::Relative(-1))
            })
        );
        assert_eq!(
            Target::parse("ab12+3"),
            Ok(Target::Revision {
                reference: "ab12+3".into(),
                offset: 0
            })
        );
        for bad in [
            "", "@head", "a@", "a@b@c", "+0", "x y", "a@heads", "'; DROP",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    fn graph() -> RevisionGraph {
        RevisionGraph::build(vec![
            rev("users", "aa1x", &[], &[]),
            rev("users", "aa2x", &["aa1x"], &[]),
            rev("billing", "bb1x", &[], &[]),
        ])
        .expect("valid")
    }

    #[test]
    fn references_resolve_by_id_label_and_unique_prefix() {
        let g = graph();
        assert_eq!(resolve_reference(&g, "aa2x"), Ok(1));
        assert_eq!(resolve_reference(&g, "billing"), Ok(2));
        assert_eq!(resolve_reference(&g, "bb"), Ok(2));
        assert!(
            matches!(resolve_reference(&g, "aa"), Err(TargetError::Ambiguous { candidates, .. }) if candidates == ["aa1x", "aa2x"])
        );
        assert!(matches!(
            resolve_reference(&g, "zz"),
            Err(TargetError::Unknown(..))
        ));
        assert_eq!(resolve_with_offset(&g, "aa1x+1"), Ok((0, 1)));
        // Like Alembic, ids of three characters or fewer are only reached in full.
        let short = RevisionGraph::build(vec![rev("m", "abc", &[], &[])]).expect("valid");
        assert!(matches!(
            resolve_reference(&short, "ab"),
            Err(TargetError::Unknown(..))
        ));
        assert_eq!(resolve_reference(&short, "abc"), Ok(0));
    }

    #[test]
    fn dependencies_keep_labels_and_resolve_everything_else_to_full_ids() {
        let g = graph();
        // users: aa1x <- aa2x; billing: bb1x. The labels name their members' roots.
        assert_eq!(resolve_dependency(&g, "users").as_deref(), Ok("users"));
        assert_eq!(resolve_dependency(&g, "billing").as_deref(), Ok("billing"));
        assert_eq!(resolve_dependency(&g, "aa2x").as_deref(), Ok("aa2x"));
        assert_eq!(resolve_dependency(&g, "aa2").as_deref(), Ok("aa2x"));
        assert_eq!(resolve_dependency(&g, "users@head").as_deref(), Ok("aa2x"));
        assert_eq!(resolve_dependency(&g, "users@aa1x").as_deref(), Ok("aa1x"));
        // A prefix of a label is a prefix, not the label.
        assert_eq!(resolve_dependency(&g, "user").as_deref(), Ok("aa1x"));
        assert!(matches!(
            resolve_dependency(&g, "aa"),
            Err(TargetError::Ambiguous { candidates, .. }) if candidates == ["aa1x", "aa2x"]
        ));
        assert!(matches!(
            resolve_dependency(&g, "zz"),
            Err(TargetError::Unknown(..))
        ));
        assert!(matches!(
            resolve_dependency(&g, "heads"),
            Err(TargetError::MultipleHeads { heads, .. }) if heads == ["aa2x", "bb1x"]
        ));
        assert!(resolve_dependency(&g, "users@base").is_err());
    }

    #[test]
    fn heads_names_a_revision_only_when_there_is_one_head() {
        // bb1x depends on aa2x, so it is the only head through dependencies.
        let g = RevisionGraph::build(vec![
            rev("users", "aa1x", &[], &[]),
            rev("users", "aa2x", &["aa1x"], &[]),
            rev("billing", "bb1x", &[], &["aa2x"]),
        ])
        .expect("valid");
        assert_eq!(resolve_single(&g, "heads"), Ok(2));
        assert!(matches!(
            resolve_single(&g, "head"),
            Err(TargetError::MultipleHeads { .. })
        ));
    }

    #[test]
    fn walks_refuse_ambiguity_and_overwalk() {
        let g = graph();
        assert_eq!(walk(&g, Some(0), 1, None, "+1"), Ok(Some(1)));
        assert_eq!(walk(&g, Some(1), -2, None, "-2"), Ok(None));
        assert!(matches!(
            walk(&g, Some(1), 1, None, "+1"),
            Err(TargetError::OverWalk { .. })
        ));
        assert!(matches!(
            walk(&g, None, 1, None, "+1"),
            Err(TargetError::AmbiguousWalk { .. })
        ));
        assert_eq!(walk(&g, None, 1, Some(2), "billing@+1"), Ok(Some(2)));
        assert!(matches!(
            single_head(&g, None, "head"),
            Err(TargetError::MultipleHeads { .. })
        ));
        assert_eq!(single_head(&g, Some(0), "users@head"), Ok(Some(1)));
    }
}
