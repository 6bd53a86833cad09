//! The input error: every problem with a scenario, manifest or trace names the file, the line
//! and column when known, the field, and what was expected. The binary exits with status 2.

use std::fmt;

/// An error in an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The file (as given on the command line, or relative to the scenario).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<u64>,
    /// 1-based column, when known.
    pub column: Option<u64>,
    /// The field path (`cluster.nodePools[0].count`), when known.
    pub field: Option<String>,
    /// What was wrong and what was expected.
    pub message: String,
}

impl InputError {
    /// An error about a whole file.
    pub fn file(file: impl Into<String>, message: impl Into<String>) -> Self {
        InputError { file: file.into(), line: None, column: None, field: None, message: message.into() }
    }

    /// An error at a position, about a field.
    pub fn at(
        file: impl Into<String>,
        line: u64,
        column: u64,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let field = field.into();
        InputError {
            file: file.into(),
            line: Some(line),
            column: Some(column),
            field: if field.is_empty() { None } else { Some(field) },
            message: message.into(),
        }
    }

    /// Sets the field path.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for InputError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_file_line_column_and_field() {
        let e = InputError::at("s.yaml", 3, 7, "seed", "expected an integer");
        assert_eq!(e.to_string(), "s.yaml:3:7: field `seed`: expected an integer");
        assert_eq!(InputError::file("x.yaml", "no such file").to_string(), "x.yaml: no such file");
    }
}
