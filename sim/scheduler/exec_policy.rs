//! Out-of-process policies (`--policy exec:COMMAND`): a child process that places pods, speaking
//! JSON lines on its stdin / stdout (the protocol is documented in `docs/policy-protocol.md`).
//!
//! The simulator writes one JSON object per line and reads one answer per line:
//! 1. `{"type":"hello","protocol":1,"seed":S,...}`, answered by `{"type":"ready"}` (optionally
//!    with `"filters":true` to receive filter verdicts, and `"group_label":"KEY"` to receive the
//!    pods sharing that label's value together, as a gang);
//! 2. per decision `{"type":"schedule","seq":K,"time_us":T,"pods":[...],"nodes":[...]}`, answered
//!    by `{"node":"n1"}`, `{"nodes":["n1","n2"]}` (one per pod, in order) or
//!    `{"unschedulable":"reason"}`;
//! 3. at the end of the run stdin is closed; the process should exit.
//!
//! The child is started without a shell: COMMAND is split into words as a POSIX shell would
//! (quotes and backslashes), the first word is the program. A child that exits, closes its
//! stdout, answers garbage, or does not answer within the timeout ends the run with an error that
//! quotes the last lines of its stderr; the child is killed. The timeout only aborts: no wall
//! clock reading ever changes a simulation result. Reads and writes run on helper threads, so a
//! child that stops reading cannot block the simulator either.

use crate::cluster::{ClusterState, NodeId, NodeState, PodId};
use crate::model::pod::Pod;
use crate::scheduler::Profile;
use crate::scheduler::policy::{Decision, Policy, PolicyContext};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The protocol version sent in `hello`.
pub const PROTOCOL_VERSION: u32 = 1;
/// How long the simulator waits for each answer unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest answer line accepted.
pub const MAX_LINE_BYTES: usize = 16 << 20;
/// How many of the child's last stderr lines an error quotes.
const STDERR_TAIL_LINES: usize = 20;
/// The prefix that selects an out-of-process policy.
pub const EXEC_PREFIX: &str = "exec:";

/// How to start an out-of-process policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecSpec {
    /// The command line (without the `exec:` prefix).
    pub command: String,
    /// Working directory of the child (`None`: the current directory).
    pub working_dir: Option<PathBuf>,
    /// Longest wait for one answer (wall clock; only ever aborts the run).
    pub timeout: Duration,
    /// The built-in scheduler whose profile gives the filter verdicts (when the scenario has no
    /// KubeSchedulerConfiguration).
    pub base_scheduler: String,
}

impl ExecSpec {
    /// Reads `exec:COMMAND`; `None` when `policy` does not start with `exec:`.
    pub fn parse(policy: &str) -> Option<Result<ExecSpec, String>> {
        let command = policy.strip_prefix(EXEC_PREFIX)?.trim();
        Some(match shlex::split(command) {
            Some(words) if !words.is_empty() => Ok(ExecSpec {
                command: command.to_string(),
                working_dir: None,
                timeout: DEFAULT_TIMEOUT,
                base_scheduler: "default".into(),
            }),
            Some(_) => Err("exec: needs a command, e.g. exec:python3 examples/policy.py".into()),
            None => Err(format!("exec:{command}: unbalanced quotes")),
        })
    }
}

enum Line {
    Text(String),
    Eof,
    TooLong,
    Failed(String),
}

struct Proc {
    child: Child,
    to_child: Option<Sender<String>>,
    lines: Receiver<Line>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    stderr_done: Receiver<()>,
}

/// An out-of-process policy (see the module documentation).
pub struct ExecPolicy {
    spec: ExecSpec,
    scenario: String,
    scheduler: String,
    proc: Option<Proc>,
    filters: bool,
    group_label: Option<String>,
    seq: u64,
}

impl std::fmt::Debug for ExecPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecPolicy").field("spec", &self.spec).finish()
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_string();
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

impl ExecPolicy {
    /// A policy that will start `spec` when the run starts; `scenario` and `scheduler` (the
    /// scenario's scheduler label) are sent in `hello`.
    pub fn new(spec: ExecSpec, scenario: &str, scheduler: &str) -> Self {
        ExecPolicy {
            spec,
            scenario: scenario.to_string(),
            scheduler: scheduler.to_string(),
            proc: None,
            filters: false,
            group_label: None,
            seq: 0,
        }
    }

    fn spawn(&mut self) -> Result<(), String> {
        let words = shlex::split(&self.spec.command).filter(|w| !w.is_empty()).unwrap_or_default();
        let Some((program, args)) = words.split_first() else {
            return Err("the command is empty".into());
        };
        let mut cmd = Command::new(program);
        cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        if let Some(d) = &self.spec.working_dir {
            cmd.current_dir(d);
        }
        let mut child = cmd.spawn().map_err(|e| {
            let dir = self.spec.working_dir.as_ref().map(|d| format!(" in {}", d.display())).unwrap_or_default();
            format!("cannot start {program:?}{dir}: {e}")
        })?;
        let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err("cannot open the child's standard streams".into());
        };
        let (to_child, writer_rx) = mpsc::channel::<String>();
        std::thread::spawn(move || writer(stdin, writer_rx));
        let (line_tx, lines) = mpsc::channel();
        std::thread::spawn(move || reader(stdout, line_tx));
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let (done_tx, stderr_done) = mpsc::channel();
        let t = tail.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Ok(mut q) = t.lock() {
                    if q.len() == STDERR_TAIL_LINES {
                        q.pop_front();
                    }
                    q.push_back(truncate(&line, 500));
                }
            }
            let _ = done_tx.send(());
        });
        self.proc = Some(Proc { child, to_child: Some(to_child), lines, stderr: tail, stderr_done });
        Ok(())
    }

    /// Kills the child and returns `msg` with its exit status and the tail of its stderr.
    fn fail(&mut self, msg: String) -> String {
        let Some(mut p) = self.proc.take() else { return msg };
        p.to_child = None;
        let _ = p.child.kill();
        let status = p.child.wait().ok();
        // The stderr reader ends when the pipe closes; do not wait on a grandchild holding it.
        let _ = p.stderr_done.recv_timeout(Duration::from_millis(500));
        let mut out = msg;
        if let Some(s) = status
            && let Some(code) = s.code()
        {
            out.push_str(&format!(" (exit status {code})"));
        }
        let tail: Vec<String> = p.stderr.lock().map(|q| q.iter().cloned().collect()).unwrap_or_default();
        if !tail.is_empty() {
            out.push_str("; its stderr ended with:\n  ");
            out.push_str(&tail.join("\n  "));
        }
        out
    }

    fn send(&mut self, msg: &Value) -> Result<(), String> {
        let Some(p) = &self.proc else { return Err("the policy process is not running".into()) };
        let line = format!("{msg}\n");
        match &p.to_child {
            Some(tx) if tx.send(line).is_ok() => Ok(()),
            _ => Err(self.fail("the policy process stopped reading its input".into())),
        }
    }

    fn receive(&mut self, what: &str) -> Result<Value, String> {
        let timeout = self.spec.timeout;
        loop {
            let Some(p) = &self.proc else { return Err("the policy process is not running".into()) };
            let got = p.lines.recv_timeout(timeout);
            let line = match got {
                Ok(Line::Text(t)) if t.trim().is_empty() => continue,
                Ok(Line::Text(t)) => t,
                Ok(Line::Eof) | Err(RecvTimeoutError::Disconnected) => {
                    return Err(self.fail(format!("the policy process exited or closed its output before {what}")));
                }
                Ok(Line::TooLong) => {
                    return Err(self.fail(format!("the answer to {what} is longer than {MAX_LINE_BYTES} bytes")));
                }
                Ok(Line::Failed(e)) => return Err(self.fail(format!("cannot read the answer to {what}: {e}"))),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(self.fail(format!(
                        "the policy process did not answer {what} within {} (raise --policy-timeout / scheduler.policyTimeout)",
                        crate::engine::time::SimDuration(timeout.as_micros().min(u64::MAX as u128) as u64)
                    )));
                }
            };
            return match serde_json::from_str::<Value>(&line) {
                Ok(v) if v.is_object() => Ok(v),
                _ => Err(self.fail(format!("the answer to {what} is not a JSON object: {:?}", truncate(&line, 200)))),
            };
        }
    }

    fn node_json(n: &NodeState) -> Value {
        json!({
            "name": n.node.name,
            "ready": n.ready,
            "unschedulable": n.node.unschedulable,
            "labels": n.node.labels,
            "taints": n.node.taints,
            "allocatable": n.node.allocatable,
            "requested": n.requested,
            "pod_count": n.pods.len(),
        })
    }

    fn pod_json(id: PodId, pod: &Pod) -> Value {
        json!({
            "id": id.0,
            "namespace": pod.namespace,
            "name": pod.name,
            "labels": pod.labels,
            "priority": pod.priority,
            "scheduler_name": pod.scheduler_name,
            "requests": pod.requests,
            "node_selector": pod.node_selector,
            "owner": pod.owner.as_ref().map(|o| json!({"kind": o.kind, "name": o.name})),
        })
    }

    /// The `schedule` message for `pods`.
    fn schedule_message(&self, ctx: &PolicyContext<'_>, pods: &[PodId]) -> Value {
        let cluster: &ClusterState = ctx.cluster;
        let nodes: Vec<Value> = cluster.node_order().iter().map(|n| Self::node_json(cluster.node(*n))).collect();
        let pods: Vec<Value> = pods
            .iter()
            .map(|id| {
                let mut v = Self::pod_json(*id, ctx.pod(*id));
                if self.filters {
                    let verdicts = ctx.filter(*id);
                    let feasible: Vec<&str> = verdicts
                        .iter()
                        .filter(|x| x.status.is_success())
                        .map(|x| cluster.node(x.node).node.name.as_str())
                        .collect();
                    let reasons: serde_json::Map<String, Value> = verdicts
                        .iter()
                        .filter(|x| !x.status.is_success())
                        .map(|x| (cluster.node(x.node).node.name.clone(), json!(x.status.reasons)))
                        .collect();
                    v["feasible"] = json!(feasible);
                    v["reasons"] = Value::Object(reasons);
                }
                v
            })
            .collect();
        json!({"type": "schedule", "seq": self.seq, "time_us": ctx.now.0, "pods": pods, "nodes": nodes})
    }

    fn node_by_name(&mut self, cluster: &ClusterState, v: &Value, line: &Value) -> Result<NodeId, String> {
        let Some(name) = v.as_str() else {
            return Err(self.fail(format!(
                "a node must be a name (string), got {} in {}",
                v,
                truncate(&line.to_string(), 200)
            )));
        };
        match cluster.node_id(name) {
            Some(id) => Ok(id),
            None => Err(self.fail(format!("the policy process answered node {name:?}, which is not in the cluster"))),
        }
    }
}

fn writer(mut stdin: ChildStdin, rx: Receiver<String>) {
    for line in rx {
        if stdin.write_all(line.as_bytes()).and_then(|_| stdin.flush()).is_err() {
            break;
        }
    }
    // Dropping stdin closes the child's input: the end-of-run signal.
}

fn reader(stdout: impl Read, tx: Sender<Line>) {
    let mut r = BufReader::new(stdout);
    loop {
        let mut buf = Vec::new();
        match (&mut r).take(MAX_LINE_BYTES as u64 + 1).read_until(b'\n', &mut buf) {
            Ok(0) => {
                let _ = tx.send(Line::Eof);
                return;
            }
            Ok(_) => {
                if buf.last() != Some(&b'\n') && buf.len() > MAX_LINE_BYTES {
                    let _ = tx.send(Line::TooLong);
                    return;
                }
                let s = String::from_utf8_lossy(&buf).trim_end_matches(['\n', '\r']).to_string();
                if tx.send(Line::Text(s)).is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.send(Line::Failed(e.to_string()));
                return;
            }
        }
    }
}

impl Policy for ExecPolicy {
    fn name(&self) -> String {
        format!("{EXEC_PREFIX}{}", self.spec.command)
    }

    fn start(&mut self, seed: u64, profiles: &[Profile]) -> Result<(), String> {
        self.spawn()?;
        let profiles: Vec<Value> = profiles
            .iter()
            .map(|p| {
                json!({
                    "scheduler_name": p.scheduler_name,
                    "filters": p.filters.iter().map(|f| f.name()).collect::<Vec<_>>(),
                    "scores": p.scores.iter().map(|(s, w)| json!({"name": s.name(), "weight": w})).collect::<Vec<_>>(),
                })
            })
            .collect();
        let hello = json!({
            "type": "hello",
            "protocol": PROTOCOL_VERSION,
            "seed": seed,
            "scenario": self.scenario,
            "scheduler": self.scheduler,
            "profiles": profiles,
        });
        self.send(&hello)?;
        let v = self.receive("hello")?;
        if v.get("type").and_then(Value::as_str) != Some("ready") {
            return Err(self
                .fail(format!("expected {{\"type\":\"ready\"}} after hello, got {}", truncate(&v.to_string(), 200))));
        }
        match v.get("filters") {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) => self.filters = *b,
            Some(other) => return Err(self.fail(format!("\"filters\" must be true or false, got {other}"))),
        }
        match v.get("group_label") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if !s.is_empty() => self.group_label = Some(s.clone()),
            Some(other) => return Err(self.fail(format!("\"group_label\" must be a label key, got {other}"))),
        }
        Ok(())
    }

    fn group(&self, pod: &Pod) -> Option<String> {
        let key = self.group_label.as_ref()?;
        pod.labels.get(key).map(|v| format!("{}/{v}", pod.namespace))
    }

    fn place(&mut self, ctx: &mut PolicyContext<'_>, pods: &[PodId]) -> Result<Vec<Decision>, String> {
        self.seq += 1;
        let msg = self.schedule_message(ctx, pods);
        self.send(&msg)?;
        let what = format!("schedule message {} (pod {})", self.seq, ctx.pod(pods[0]).key());
        let v = self.receive(&what)?;
        if let Some(reason) = v.get("unschedulable") {
            let reason = match reason {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            return Ok(pods.iter().map(|p| Decision::Unschedulable { pod: *p, reason: reason.clone() }).collect());
        }
        let names: Vec<Value> = match (v.get("node"), v.get("nodes")) {
            (Some(n), None) => vec![n.clone()],
            (None, Some(Value::Array(ns))) => ns.clone(),
            _ => {
                return Err(self.fail(format!(
                    "expected {{\"node\":...}}, {{\"nodes\":[...]}} or {{\"unschedulable\":...}} in answer to {what}, got {}",
                    truncate(&v.to_string(), 200)
                )));
            }
        };
        if names.len() != pods.len() {
            return Err(self.fail(format!(
                "{} pod(s) were sent in {what} but the answer names {} node(s)",
                pods.len(),
                names.len()
            )));
        }
        let mut out = Vec::with_capacity(pods.len());
        for (pod, n) in pods.iter().zip(&names) {
            let node = self.node_by_name(ctx.cluster, n, &v)?;
            out.push(Decision::Bind { pod: *pod, node });
        }
        Ok(out)
    }
}

impl Drop for ExecPolicy {
    fn drop(&mut self) {
        let Some(mut p) = self.proc.take() else { return };
        // Closing stdin asks the child to exit; give it a moment, then kill it.
        p.to_child = None;
        for _ in 0..100 {
            if let Ok(Some(_)) = p.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = p.child.kill();
        let _ = p.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_specs_split_like_a_shell_and_reject_empty_commands() {
        let s = ExecSpec::parse("exec:python3 'my policy.py' --x").unwrap().unwrap();
        assert_eq!(s.command, "python3 'my policy.py' --x");
        assert_eq!(shlex::split(&s.command).unwrap(), vec!["python3", "my policy.py", "--x"]);
        assert!(ExecSpec::parse("exec:  ").unwrap().is_err());
        assert!(ExecSpec::parse("exec:python3 'open").unwrap().unwrap_err().contains("unbalanced"));
        assert!(ExecSpec::parse("most-allocated").is_none());
    }

    #[test]
    fn a_missing_program_is_a_clear_error() {
        let spec = ExecSpec::parse("exec:/nonexistent/kubesim-policy").unwrap().unwrap();
        let mut p = ExecPolicy::new(spec, "s", "default");
        let e = p.start(1, &[]).unwrap_err();
        assert!(e.contains("cannot start \"/nonexistent/kubesim-policy\""), "{e}");
    }

    #[test]
    fn long_strings_are_truncated_on_a_char_boundary() {
        assert_eq!(truncate("héllo", 2), "h...");
        assert_eq!(truncate("abc", 5), "abc");
    }
}
