//! The malformed-input corpus: every file in `tests/corpus/malformed/*.yaml` must be rejected
//! with the message its `# expect:` line gives (and at the line its `# expect-line:` gives), and
//! the command line must exit with status 2 naming the file. Nothing may panic.

use kubesim::input::scenario;
use std::path::PathBuf;
use std::process::Command;

fn corpus() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("tests/corpus/malformed")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    assert!(v.len() >= 20, "the corpus should have at least 20 cases");
    v
}

fn expectations(text: &str) -> (Vec<String>, Option<u64>) {
    let mut msgs = Vec::new();
    let mut line = None;
    for l in text.lines() {
        if let Some(m) = l.strip_prefix("# expect: ") {
            msgs.push(m.to_string());
        } else if let Some(n) = l.strip_prefix("# expect-line: ") {
            line = Some(n.trim().parse().expect("expect-line is a number"));
        }
    }
    (msgs, line)
}

#[test]
fn every_malformed_scenario_is_rejected_with_its_message_and_position() {
    for path in corpus() {
        let text = std::fs::read_to_string(&path).unwrap();
        let (msgs, line) = expectations(&text);
        assert!(!msgs.is_empty() || line.is_some(), "{}: no expectation", path.display());
        let err = match scenario::load(&path, &[]) {
            Ok(_) => panic!("{}: was accepted", path.display()),
            Err(e) => e,
        };
        let shown = err.to_string();
        for m in &msgs {
            assert!(shown.contains(m.as_str()), "{}: expected {m:?} in {shown:?}", path.display());
        }
        if let Some(l) = line {
            assert_eq!(err.line, Some(l), "{}: {shown}", path.display());
            assert!(err.column.is_some(), "{}: no column in {shown}", path.display());
        }
        assert!(shown.contains(".yaml"), "{}: the message does not name a file: {shown}", path.display());
    }
}

#[test]
fn the_command_line_exits_with_status_2_and_names_the_file() {
    let exe = env!("CARGO_BIN_EXE_kubesim");
    for path in corpus().into_iter().take(6) {
        for cmd in ["validate", "run"] {
            let mut c = Command::new(exe);
            c.arg(cmd).arg(&path);
            if cmd == "run" {
                c.arg("--out").arg(std::env::temp_dir().join("kubesim-never-written"));
            }
            let out = c.output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{cmd} {}: {stderr}", path.display());
            assert!(stderr.starts_with("error: "), "{stderr}");
            assert!(stderr.contains(".yaml"), "the message names no file: {stderr}");
        }
    }
}

#[test]
fn a_bad_set_override_is_an_input_error() {
    let exe = env!("CARGO_BIN_EXE_kubesim");
    let out = Command::new(exe)
        .args(["validate", "scenarios/quickstart.yaml", "--set", "cluster.nodePools[9].count=1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("index 9 is out of range"));
    let out = Command::new(exe).args(["validate", "scenarios/quickstart.yaml", "--set", "seed"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected path=value"));
}

// Arbitrary and mutated inputs for every loader (this scenario loader included): tests/no_panic.rs.

#[test]
fn a_limit_is_raised_or_lowered_by_its_environment_variable() {
    let exe = env!("CARGO_BIN_EXE_kubesim");
    let out = Command::new(exe)
        .args(["validate", "scenarios/quickstart.yaml"])
        .env("KUBESIM_MAX_NODES", "2")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("exceed the limit of 2 (KUBESIM_MAX_NODES; set that environment variable"), "{stderr}");
    let out = Command::new(exe)
        .args(["validate", "tests/corpus/malformed/too-many-samples.yaml"])
        .env("KUBESIM_MAX_SAMPLES", "10000000000")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_events_flag_keeps_the_trace_digest() {
    let exe = env!("CARGO_BIN_EXE_kubesim");
    let mut digests = Vec::new();
    for mode in ["full", "summary", "none"] {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(exe)
            .args(["run", "scenarios/quickstart.yaml", "-q", "--events", mode, "--out"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
        digests.push(summary["trace_digest"].as_str().unwrap().to_string());
        let has = |f: &str| dir.path().join(f).exists();
        match mode {
            "full" => assert!(has("events.jsonl") && !has("event_counts.json")),
            "summary" => assert!(has("events.jsonl") && has("event_counts.json")),
            _ => assert!(!has("events.jsonl") && !has("event_counts.json")),
        }
    }
    assert!(digests.iter().all(|d| d == &digests[0]), "{digests:?}");
}
