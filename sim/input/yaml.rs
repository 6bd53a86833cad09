//! YAML loading with positions: documents are split on their `---` markers, each is
//! deserialised with serde-saphyr under budgets (depth, aliases, size), the field path of an
//! error is tracked, and fields a type does not model are collected instead of failing.

use crate::input::error::InputError;
use crate::limits;
use serde::de::DeserializeOwned;
use std::collections::BTreeSet;

/// One YAML document of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document<'a> {
    /// Lines before the document's first line (add to the parser's 1-based line numbers).
    pub line_offset: u64,
    /// The document's text (its `---` marker blanked out, so columns are unchanged).
    pub text: std::borrow::Cow<'a, str>,
}

fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker).is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
}

fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t.starts_with('%')
    })
}

/// Splits a multi-document YAML stream on lines that start with `---` or `...` (which YAML
/// forbids inside any scalar, so the split is exact). Documents that hold nothing but blank
/// lines and comments are dropped.
pub fn split_documents<'a>(text: &'a str) -> Vec<Document<'a>> {
    let mut docs = Vec::new();
    let mut start_byte = 0usize;
    let mut start_line = 0u64;
    let mut blank_first = false;
    let mut pos = 0usize;
    let push = |docs: &mut Vec<Document<'a>>, from: usize, to: usize, line: u64, blank: bool| {
        let slice = &text[from..to];
        if is_blank(if blank { slice.get(3..).unwrap_or("") } else { slice }) {
            return;
        }
        let text = if blank {
            let mut s = String::with_capacity(slice.len());
            s.push_str("   ");
            s.push_str(&slice[3..]);
            std::borrow::Cow::Owned(s)
        } else {
            std::borrow::Cow::Borrowed(slice)
        };
        docs.push(Document { line_offset: line, text });
    };
    for (line_no, line) in text.split_inclusive('\n').enumerate() {
        let line_no = line_no as u64;
        let bare = line.trim_end_matches(['\n', '\r']);
        if is_marker(bare, "---") {
            push(&mut docs, start_byte, pos, start_line, blank_first);
            start_byte = pos;
            start_line = line_no;
            blank_first = true;
        } else if is_marker(bare, "...") {
            push(&mut docs, start_byte, pos, start_line, blank_first);
            start_byte = pos + line.len();
            start_line = line_no + 1;
            blank_first = false;
        }
        pos += line.len();
    }
    push(&mut docs, start_byte, text.len(), start_line, blank_first);
    docs
}

/// The parser options used for every input: serde-saphyr's budgets tightened to the limits of
/// [`crate::limits`] (depth, aliases, nodes, size), so an alias bomb or a pathological file is
/// an error, not an out-of-memory.
pub fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    let size = |l: limits::Limit| usize::try_from(l.value()).unwrap_or(usize::MAX);
    budget.max_depth = size(limits::YAML_DEPTH);
    budget.max_aliases = size(limits::YAML_ALIASES);
    budget.max_nodes = size(limits::YAML_NODES);
    budget.max_total_scalar_bytes = size(limits::INPUT_BYTES);
    budget.max_events = size(limits::YAML_NODES);
    let mut opts = serde_saphyr::Options::default();
    opts.budget = Some(budget);
    opts.with_snippet = false;
    opts
}

/// A value deserialised from one document, with the fields that were not modelled.
#[derive(Debug)]
pub struct Parsed<T> {
    /// The value.
    pub value: T,
    /// Paths of fields that were present but ignored (`spec.containers[].livenessProbe`).
    pub ignored: BTreeSet<String>,
}

/// Normalises a serde path (`a.b.0.c`, `a.b[0].c`) to `a.b[].c` for "ignored field" lists.
fn generic_path(path: &str) -> String {
    let mut out = String::new();
    for seg in path.split('.') {
        if seg.chars().all(|c| c.is_ascii_digit()) && !seg.is_empty() {
            out.push_str("[]");
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
    }
    out
}

/// Fields read through serde-saphyr's `Spanned` wrapper, whose own inner field `value` must not
/// show in an error's field path.
const SPANNED_FIELDS: &[&str] =
    &["apiVersion", "kind", "duration", "at", "samplePeriod", "deletePod", "failNode", "recoverNode"];

/// Rewrites `a.b.0.c` as `a.b[0].c` (and drops the `.value` of a `Spanned` field).
fn display_path(path: &str) -> String {
    let path = match path.strip_suffix(".value") {
        Some(rest) if SPANNED_FIELDS.iter().any(|f| rest == *f || rest.ends_with(&format!(".{f}"))) => rest,
        _ => path,
    };
    let mut out = String::new();
    for seg in path.split('.') {
        if seg.chars().all(|c| c.is_ascii_digit()) && !seg.is_empty() {
            out.push('[');
            out.push_str(seg);
            out.push(']');
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
    }
    out
}

/// Strips serde-saphyr's own " at line X, column Y" suffix from a message.
fn bare_message(err: &serde_saphyr::Error) -> String {
    let msg = err.without_snippet().to_string();
    let msg = match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    };
    match limits::yaml_budget_limit(&msg) {
        Some(l) => format!(
            "{msg} (the limit is {} {}: {}; set that environment variable to raise it)",
            l.value(),
            l.what,
            l.env
        ),
        None => msg,
    }
}

/// Deserialises one document into `T`, naming `file` and the absolute line in errors.
pub fn parse_document<T: DeserializeOwned>(doc: &Document<'_>, file: &str) -> Result<Parsed<T>, InputError> {
    if let Err(m) = limits::INPUT_BYTES.check(doc.text.len() as u64) {
        return Err(InputError::file(file, format!("the document is too large: {m}")));
    }
    let mut ignored = BTreeSet::new();
    let mut failed_at = String::new();
    let result = serde_saphyr::with_deserializer_from_str_with_options(&doc.text, options(), |de| {
        let mut note = |p: serde_ignored::Path<'_>| {
            let path = p.to_string();
            // serde-saphyr's `Spanned` wrapper reads its value through a private marker field.
            if !path.contains("__serde_saphyr_private") {
                ignored.insert(generic_path(&path));
            }
        };
        let ig = serde_ignored::Deserializer::new(de, &mut note);
        serde_path_to_error::deserialize::<_, T>(ig).map_err(|e| {
            failed_at = e.path().to_string();
            e.into_inner()
        })
    });
    let to_input_error = |path: String, err: &serde_saphyr::Error| {
        let field = display_path(&path);
        let field = if field == "?" || field == "." { String::new() } else { field };
        match err.location() {
            Some(loc) => InputError::at(file, loc.line() + doc.line_offset, loc.column(), field, bare_message(err)),
            None => {
                let mut e = InputError::file(file, bare_message(err));
                if !field.is_empty() {
                    e = e.with_field(field);
                }
                e
            }
        }
    };
    match result {
        Ok(value) => Ok(Parsed { value, ignored }),
        Err(e) => Err(to_input_error(failed_at, &e)),
    }
}

/// Reads a file as UTF-8, with the size limit checked first.
pub fn read_file(path: &std::path::Path, shown_as: &str) -> Result<String, InputError> {
    let meta = std::fs::metadata(path).map_err(|e| InputError::file(shown_as, format!("cannot read the file: {e}")))?;
    if let Err(m) = limits::INPUT_BYTES.check(meta.len()) {
        return Err(InputError::file(shown_as, format!("the file is too large: {m}")));
    }
    let bytes = std::fs::read(path).map_err(|e| InputError::file(shown_as, format!("cannot read the file: {e}")))?;
    String::from_utf8(bytes).map_err(|e| InputError::file(shown_as, format!("the file is not valid UTF-8: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_split_on_markers_and_keep_absolute_lines() {
        let text = "a: 1\n---\nb: 2\n--- # c\nc: 3\n...\n";
        let docs = split_documents(text);
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].line_offset, 0);
        assert_eq!(docs[1].line_offset, 1);
        assert!(docs[1].text.contains("b: 2"));
        assert_eq!(docs[2].line_offset, 3);
    }

    #[test]
    fn empty_documents_are_dropped() {
        assert_eq!(split_documents("---\n# nothing\n---\n").len(), 0);
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        #[allow(dead_code)]
        n: u32,
    }
    #[derive(serde::Deserialize, Debug)]
    struct Outer {
        #[allow(dead_code)]
        items: Vec<Inner>,
    }

    #[test]
    fn errors_carry_the_absolute_line_and_the_field_path() {
        let text = "items: []\n---\nitems:\n  - n: 1\n  - n: x\n";
        let docs = split_documents(text);
        let err = parse_document::<Outer>(&docs[1], "f.yaml").unwrap_err();
        assert_eq!(err.line, Some(5));
        assert_eq!(err.field.as_deref(), Some("items[1].n"));
        assert!(err.to_string().starts_with("f.yaml:5:8: field `items[1].n`: "), "{err}");
    }

    #[test]
    fn unmodelled_fields_are_listed_not_rejected() {
        let docs = split_documents("items: [{n: 1}]\nextra: {deep: 1}\n");
        let p = parse_document::<Outer>(&docs[0], "f.yaml").unwrap();
        assert_eq!(p.ignored.into_iter().collect::<Vec<_>>(), vec!["extra".to_string()]);
    }

    #[test]
    fn an_alias_bomb_is_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (i, c) in "bcdefghij".chars().enumerate() {
            let prev = (b'a' + i as u8) as char;
            text.push_str(&format!(
                "{c}: &{c} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        let docs = split_documents(&text);
        let r = parse_document::<serde_json::Value>(&docs[0], "bomb.yaml");
        assert!(r.is_err());
    }
}
