//! New files: revision ids, slugs, and the revision and `.env` files rendered from the
//! templates kept in `template/scaffold/`.

use time::OffsetDateTime;

/// The revision file template (`template/scaffold/revision.sql.tmpl`).
const REVISION_TEMPLATE: &str = include_str!("../../template/scaffold/revision.sql.tmpl");

/// The `.env` template (`template/scaffold/env.tmpl`).
const ENV_TEMPLATE: &str = include_str!("../../template/scaffold/env.tmpl");

/// The slug's maximum length (SPEC section 3).
const MAX_SLUG: usize = 40;

/// What a new revision file says.
#[derive(Clone, Debug)]
pub struct NewRevision<'a> {
    /// The message (first header line).
    pub message: &'a str,
    /// The id.
    pub id: &'a str,
    /// The parents.
    pub revises: &'a [String],
    /// `Depends On` entries.
    pub depends_on: &'a [String],
    /// `Branch Labels` entries.
    pub branch_labels: &'a [String],
    /// `Create Date`, when it is not now (an imported migration keeps its own).
    pub create_date: Option<&'a str>,
}

/// A random 12-character hexadecimal id, like Alembic's.
pub fn random_id() -> String {
    format!("{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff)
}

/// The file-name slug of a message: lower case, words joined by `_`, at most 40 characters.
pub fn slug(message: &str) -> String {
    let mut slug = String::new();
    for word in message
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let extra = usize::from(!slug.is_empty()) + word.len();
        if slug.len() + extra > MAX_SLUG {
            if slug.is_empty() {
                slug.push_str(&word.to_ascii_lowercase()[..MAX_SLUG]);
            }
            break;
        }
        if !slug.is_empty() {
            slug.push('_');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    slug
}

/// The text of a new revision file, with empty sections for the user to fill in.
pub fn render_revision(new: &NewRevision<'_>) -> String {
    render_revision_with(new, "", "")
}

/// The text of a new revision file with the given up and down SQL (`new --autogenerate`).
pub fn render_revision_with(new: &NewRevision<'_>, up: &str, down: &str) -> String {
    let mut extra = String::new();
    if !new.depends_on.is_empty() {
        extra.push_str(&format!("-- Depends On: {}\n", new.depends_on.join(", ")));
    }
    if !new.branch_labels.is_empty() {
        extra.push_str(&format!(
            "-- Branch Labels: {}\n",
            new.branch_labels.join(", ")
        ));
    }
    let message: String = new.message.split_whitespace().collect::<Vec<_>>().join(" ");
    REVISION_TEMPLATE
        .replace("{message}", &message)
        .replace("{revision_id}", new.id)
        .replace("{revises}", &new.revises.join(", "))
        .replace(
            "{create_date}",
            &new.create_date.map_or_else(create_date, str::to_owned),
        )
        .replace("{extra_headers}\n", &extra)
        .replace("{up}", up.trim_end())
        .replace("{down}", down.trim_end())
}

/// The text of a new `.env` file.
pub fn render_env(database_url: &str) -> String {
    ENV_TEMPLATE.replace("{database_url}", database_url)
}

fn create_date() -> String {
    let now = OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.microsecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_short_lower_case_words() {
        assert_eq!(
            slug("Add priority column to examples"),
            "add_priority_column_to_examples"
        );
        assert_eq!(slug("  Drop 'legacy'-table!! "), "drop_legacy_table");
        assert_eq!(
            slug("a very long message that goes on and on and on forever"),
            "a_very_long_message_that_goes_on_and_on"
        );
        assert!(slug(&"x".repeat(100)).len() == 40);
        assert_eq!(slug("¿¡!"), "");
    }

    #[test]
    fn rendered_files_parse() {
        let text = render_revision(&NewRevision {
            message: "Add\nthings",
            id: "abc123",
            revises: &["p1".to_owned()],
            depends_on: &["other".to_owned()],
            branch_labels: &[],
            create_date: Some("2019-02-26 00:29:46.000000"),
        });
        let rev = revise_runtime::parse::parse_revision("x.sql".as_ref(), "m", text.as_bytes())
            .expect("parses");
        assert_eq!(&*rev.message, "Add things");
        assert_eq!(rev.revises[0].as_str(), "p1");
        assert_eq!(*rev.depends_on, ["other"]);
        assert!(rev.down.is_some());
        assert_eq!(
            rev.create_date.as_deref(),
            Some("2019-02-26 00:29:46.000000")
        );
    }

    #[test]
    fn random_ids_are_valid() {
        let id = random_id();
        assert_eq!(id.len(), 12);
        assert!(revise_runtime::RevisionId::new(&id).is_ok());
    }
}
