//! Schema differences as the stairway test shows them: each object that differs, named,
//! with a unified diff of its two definitions (`similar`); or the same as JSON data.

use console::style;
use revise_runtime::snapshot::{Change, ObjectDifference};
use serde_json::{json, Value};
use similar::{ChangeTag, TextDiff};

/// How many lines of differences fit on a screen; `-v` shows them all.
pub const SCREENFUL: usize = 40;

/// How a comparison's two sides are named: "missing after the down", ...
#[derive(Clone, Copy, Debug)]
pub struct Wording {
    /// Said of an object only the first schema has.
    pub removed: &'static str,
    /// Said of an object only the second schema has.
    pub added: &'static str,
    /// Said of an object both have, defined differently.
    pub changed: &'static str,
}

/// The lines that show `differences`, at most `limit` of them (then a line saying how many
/// more there are).
pub fn lines(
    differences: &[ObjectDifference],
    wording: Wording,
    limit: Option<usize>,
) -> Vec<String> {
    let mut lines = Vec::new();
    for difference in differences {
        let said = match difference.change {
            Change::Removed => wording.removed,
            Change::Added => wording.added,
            Change::Changed => wording.changed,
        };
        lines.push(format!(
            "  {} {}: {said}",
            difference.kind,
            style(&difference.name).bold()
        ));
        lines.extend(
            diff_lines(difference)
                .into_iter()
                .map(|l| format!("    {l}")),
        );
    }
    match limit {
        Some(limit) if lines.len() > limit => {
            let more = lines.len() - limit;
            lines.truncate(limit);
            lines.push(format!(
                "  ... {more} more line(s); `cargo revise test -v` shows them all"
            ));
            lines
        }
        _ => lines,
    }
}

/// A difference's unified diff, one string per line, colored: `-` the first definition's
/// lines, `+` the second's. A hunk header only when lines were left out between hunks.
fn diff_lines(difference: &ObjectDifference) -> Vec<String> {
    let before = difference.before.as_deref().unwrap_or_default();
    let after = difference.after.as_deref().unwrap_or_default();
    let diff = TextDiff::from_lines(before, after);
    let groups = diff.grouped_ops(3);
    let whole = groups.len() == 1
        && groups[0]
            .first()
            .is_some_and(|op| op.old_range().start == 0 && op.new_range().start == 0)
        && groups[0].last().is_some_and(|op| {
            op.old_range().end == diff.old_slices().len()
                && op.new_range().end == diff.new_slices().len()
        });
    let mut lines = Vec::new();
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        if !whole {
            lines.push(style(hunk.header().to_string()).cyan().to_string());
        }
        for change in hunk.iter_changes() {
            let text = change.value().trim_end_matches('\n');
            lines.push(match change.tag() {
                ChangeTag::Delete => style(format!("-{text}")).red().to_string(),
                ChangeTag::Insert => style(format!("+{text}")).green().to_string(),
                ChangeTag::Equal => format!(" {text}"),
            });
        }
    }
    lines
}

/// The differences as data, for `--format json`.
pub fn json(differences: &[ObjectDifference]) -> Value {
    Value::Array(
        differences
            .iter()
            .map(|d| {
                let before = d.before.as_deref().unwrap_or_default();
                let after = d.after.as_deref().unwrap_or_default();
                json!({
                    "object": d.kind.name(),
                    "name": d.name,
                    "change": d.change.name(),
                    "before": d.before,
                    "after": d.after,
                    "diff": TextDiff::from_lines(before, after)
                        .unified_diff()
                        .context_radius(3)
                        .missing_newline_hint(false)
                        .to_string(),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use revise_runtime::snapshot::ObjectKind;

    use super::*;

    const WORDING: Wording = Wording {
        removed: "missing after the down",
        added: "left after the down",
        changed: "differs after the down",
    };

    fn difference(change: Change, before: Option<&str>, after: Option<&str>) -> ObjectDifference {
        ObjectDifference {
            kind: ObjectKind::View,
            name: "v".into(),
            change,
            before: before.map(Into::into),
            after: after.map(Into::into),
        }
    }

    #[test]
    fn each_object_is_named_with_its_two_versions() {
        console::set_colors_enabled(false);
        let shown = lines(
            &[
                difference(
                    Change::Changed,
                    Some("SELECT\n  1 AS t"),
                    Some("SELECT\n  2 AS t"),
                ),
                difference(Change::Removed, Some("SELECT 3"), None),
            ],
            WORDING,
            None,
        );
        assert_eq!(
            shown,
            [
                "  view v: differs after the down",
                "     SELECT",
                "    -  1 AS t",
                "    +  2 AS t",
                "  view v: missing after the down",
                "    -SELECT 3",
            ]
        );
    }

    #[test]
    fn long_definitions_show_hunks_and_long_lists_stop_at_the_limit() {
        console::set_colors_enabled(false);
        let before: Vec<String> = (0..20).map(|i| format!("line {i}")).collect();
        let mut after = before.clone();
        after[10] = "changed".into();
        let shown = lines(
            &[difference(
                Change::Changed,
                Some(&before.join("\n")),
                Some(&after.join("\n")),
            )],
            WORDING,
            Some(5),
        );
        assert_eq!(shown[1], "    @@ -8,7 +8,7 @@");
        assert_eq!(shown.len(), 6);
        assert!(shown[5].contains(" 5 more line(s)"), "{shown:#?}");
    }

    #[test]
    fn the_data_form_carries_both_versions_and_the_diff() {
        let value = json(&[difference(Change::Changed, Some("a"), Some("b"))]);
        assert_eq!(value[0]["object"], "view");
        assert_eq!(value[0]["change"], "changed");
        assert_eq!(value[0]["before"], "a");
        assert_eq!(value[0]["after"], "b");
        assert_eq!(value[0]["diff"], "@@ -1 +1 @@\n-a\n+b\n");
    }
}
