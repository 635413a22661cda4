//! Small pieces of SQL text handling the schema code shares: quoting identifiers per
//! dialect, and reading table definitions as the databases write them back.

use crate::backend::Dialect;

use super::model::TableName;

/// `name` quoted for `dialect` (`"x"`, or `` `x` `` on MySQL), inner quotes doubled.
pub fn quote(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
        Dialect::Postgres | Dialect::Sqlite => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// A table's name quoted for `dialect`, with its schema when it has one.
pub fn quote_table(dialect: Dialect, table: &TableName) -> String {
    match &table.schema {
        Some(schema) => format!("{}.{}", quote(dialect, schema), quote(dialect, &table.name)),
        None => quote(dialect, &table.name),
    }
}

/// Splits `text` at commas that are outside parentheses, quotes and comments.
pub fn split_top_level(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            current.push(c);
            if c == q {
                if chars.peek() == Some(&q) {
                    current.push(q);
                    chars.next();
                } else {
                    quote = None;
                }
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => {
                quote = Some(c);
                current.push(c);
            }
            '[' => {
                quote = Some(']');
                current.push(c);
            }
            '-' if chars.peek() == Some(&'-') => {
                // A comment runs to the end of the line.
                for c in chars.by_ref() {
                    if c == '\n' {
                        current.push('\n');
                        break;
                    }
                }
            }
            '(' => {
                depth += 1;
                current.push(c);
            }
            ')' => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            ',' if depth == 0 => items.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        items.push(current);
    }
    items
}

/// Reads the identifier at the start of `text` (plain, `"quoted"`, `` `quoted` `` or
/// `[quoted]`): its name and the rest of the text.
pub fn unquote_identifier(text: &str) -> Option<(String, &str)> {
    let text = text.trim_start();
    let mut chars = text.char_indices();
    let (_, first) = chars.next()?;
    let close = match first {
        '"' => '"',
        '`' => '`',
        '[' => ']',
        _ => {
            let end = text
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
                .unwrap_or(text.len());
            if end == 0 {
                return None;
            }
            return Some((text[..end].to_owned(), &text[end..]));
        }
    };
    let mut name = String::new();
    let mut rest = text[1..].char_indices().peekable();
    while let Some((i, c)) = rest.next() {
        if c == close {
            if close != ']' && rest.peek().map(|(_, n)| *n) == Some(close) {
                name.push(c);
                rest.next();
                continue;
            }
            return Some((name, &text[i + 2..]));
        }
        name.push(c);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_only_at_top_level_commas() {
        let items = split_top_level("a INT, b NUMERIC(10, 2) DEFAULT 'x,y', -- c, d\n e TEXT");
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(items[1].trim(), "b NUMERIC(10, 2) DEFAULT 'x,y'");
    }

    #[test]
    fn reads_quoted_and_plain_identifiers() {
        assert_eq!(
            unquote_identifier("\"a \"\"b\"\"\" INT"),
            Some(("a \"b\"".to_owned(), " INT"))
        );
        assert_eq!(
            unquote_identifier("`x` int"),
            Some(("x".to_owned(), " int"))
        );
        assert_eq!(
            unquote_identifier("plain TEXT"),
            Some(("plain".to_owned(), " TEXT"))
        );
        assert_eq!(quote(Dialect::Mysql, "a`b"), "`a``b`");
    }
}
