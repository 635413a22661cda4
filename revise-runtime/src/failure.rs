//! What a failed revision tells its user: the database's own words (message, detail, hint,
//! error code) and which statement of the section failed, as lines of the file.
//!
//! Plain data. The backends fill it (`backend/locate.rs`), the migrator passes it on in
//! [`MigrateError::StepFailed`](crate::MigrateError::StepFailed) and
//! [`RunEvent::Failed`](crate::RunEvent::Failed), and the CLI renders it.

use std::fmt;

/// Why a revision's SQL failed, and where.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SqlFailure {
    /// The database's message (PostgreSQL's primary message), on one line.
    pub message: String,
    /// PostgreSQL's DETAIL (the duplicate key of a unique violation, say).
    pub detail: Option<String>,
    /// PostgreSQL's HINT.
    pub hint: Option<String>,
    /// The error's code, where the driver lets it be had: MySQL/MariaDB's error number
    /// and SQLSTATE (`1146 (42S02)`); for SQLite the constraint code diesel reports (its
    /// other extended codes are not exposed without unsafe code); none on PostgreSQL.
    pub code: Option<String>,
    /// The statement that failed, when it could be told.
    pub statement: Option<FailedStatement>,
}

/// The statement of a section that failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedStatement {
    /// Its place among the section's statements, from 1.
    pub number: usize,
    /// How many statements the section has.
    pub count: usize,
    /// The line of the file on which it starts.
    pub line: usize,
    /// Its text, as sent (without the final `;`).
    pub text: String,
    /// Where in it the database says the error is (PostgreSQL's error position), as a line
    /// of the file and a column (in characters, from 1) of `text`'s lines.
    pub error_at: Option<TextPosition>,
}

/// A place in a revision file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextPosition {
    /// The line, from 1.
    pub line: usize,
    /// The column in characters, from 1.
    pub column: usize,
}

impl SqlFailure {
    /// A failure that says only `message`.
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Self::default()
        }
    }
}

impl fmt::Display for SqlFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(code) = &self.code {
            write!(f, " [{code}]")?;
        }
        if let Some(detail) = &self.detail {
            write!(f, "; detail: {detail}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "; hint: {hint}")?;
        }
        Ok(())
    }
}

impl FailedStatement {
    /// The first `n` lines of the statement, each with its line number in the file.
    pub fn first_lines(&self, n: usize) -> impl Iterator<Item = (usize, &str)> {
        self.text
            .split('\n')
            .take(n)
            .enumerate()
            .map(|(i, text)| (self.line + i, text))
    }

    /// The statement's line `line` of the file, if the statement covers it.
    pub fn line_text(&self, line: usize) -> Option<&str> {
        self.text.split('\n').nth(line.checked_sub(self.line)?)
    }

    /// How many lines the statement spans.
    pub fn line_count(&self) -> usize {
        self.text.split('\n').count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_one_line_form_carries_what_the_database_added() {
        let failure = SqlFailure {
            message: "duplicate key value violates unique constraint \"t_pkey\"".into(),
            detail: Some("Key (a)=(1) already exists.".into()),
            hint: Some("remove the duplicate".into()),
            code: None,
            statement: None,
        };
        assert_eq!(
            failure.to_string(),
            "duplicate key value violates unique constraint \"t_pkey\"; detail: Key (a)=(1) already exists.; hint: remove the duplicate"
        );
        let mysql = SqlFailure {
            code: Some("MySQL error 1146 (SQLSTATE 42S02)".into()),
            ..SqlFailure::message("Table 'x.t' doesn't exist")
        };
        assert_eq!(
            mysql.to_string(),
            "Table 'x.t' doesn't exist [MySQL error 1146 (SQLSTATE 42S02)]"
        );
    }

    #[test]
    fn a_statement_knows_its_lines() {
        let statement = FailedStatement {
            number: 3,
            count: 10,
            line: 12,
            text: "INSERT INTO t\nVALUES (1)".into(),
            error_at: None,
        };
        assert_eq!(
            statement.first_lines(5).collect::<Vec<_>>(),
            [(12, "INSERT INTO t"), (13, "VALUES (1)")]
        );
        assert_eq!(statement.line_text(13), Some("VALUES (1)"));
        assert_eq!(statement.line_text(11), None);
        assert_eq!(statement.line_count(), 2);
    }
}
