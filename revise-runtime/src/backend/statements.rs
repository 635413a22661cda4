//! Splits a `transaction=false` section into single statements.
//!
//! PostgreSQL runs a multi-statement string as one implicit transaction, which statements
//! such as `CREATE INDEX CONCURRENTLY` refuse, so such sections are sent one statement at a
//! time. Semicolons inside quotes, comments and dollar-quoted bodies do not split.

/// The statements of `sql`, trimmed, without empty ones.
pub fn split_statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut statements = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' | b'`' => i = skip_quoted(bytes, i),
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |p| i + p + 1)
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = find(bytes, i + 2, b"*/").map_or(bytes.len(), |p| p + 2)
            }
            b'$' => i = skip_dollar_quoted(bytes, i),
            b';' => {
                push_statement(&mut statements, &sql[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    push_statement(&mut statements, &sql[start..]);
    statements
}

fn push_statement<'a>(statements: &mut Vec<&'a str>, text: &'a str) {
    let trimmed = text.trim();
    if !is_only_comments(trimmed) {
        statements.push(trimmed);
    }
}

/// True for text that holds nothing but whitespace and comments.
fn is_only_comments(text: &str) -> bool {
    let mut rest = text.trim_start();
    loop {
        if rest.is_empty() {
            return true;
        }
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            return false;
        }
    }
}

/// Skips a quoted string whose quote is doubled to escape it ('it''s').
fn skip_quoted(bytes: &[u8], open: usize) -> usize {
    let quote = bytes[open];
    let mut i = open + 1;
    while i < bytes.len() {
        if bytes[i] == b'\\' && quote != b'"' {
            i += 2;
            continue;
        }
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// Skips `$tag$ ... $tag$` (PostgreSQL); a lone `$` (as in `$1`) is ordinary text.
fn skip_dollar_quoted(bytes: &[u8], open: usize) -> usize {
    let tag_end = bytes[open + 1..]
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .map(|p| open + 1 + p);
    match tag_end {
        Some(end)
            if bytes[end] == b'$'
                && !bytes[open + 1..end].first().is_some_and(u8::is_ascii_digit) =>
        {
            let tag = &bytes[open..=end];
            find(bytes, end + 1, tag).map_or(bytes.len(), |p| p + tag.len())
        }
        _ => open + 1,
    }
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::split_statements;

    #[test]
    fn splits_at_semicolons_outside_quotes_comments_and_dollar_bodies() {
        let sql = "CREATE TABLE t (a TEXT DEFAULT 'x;y');\n-- a comment; still a comment\nINSERT INTO t VALUES ('it''s; fine');\nCREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n/* block; comment */ SELECT $1;\n";
        let statements = split_statements(sql);
        assert_eq!(statements.len(), 4, "{statements:#?}");
        assert!(statements[2].ends_with("LANGUAGE sql"));
        assert_eq!(statements[3], "/* block; comment */ SELECT $1");
    }

    #[test]
    fn comments_and_blanks_alone_are_not_statements() {
        assert!(split_statements("  -- nothing\n/* at all */ ;; ").is_empty());
        assert_eq!(split_statements("SELECT 1"), vec!["SELECT 1"]);
        assert_eq!(
            split_statements("SELECT 'unterminated;"),
            vec!["SELECT 'unterminated;"]
        );
    }
}
