//! The event log of a run (`events.jsonl`) and its `--events none|summary|full` modes.
//!
//! Whatever the mode, every event line is fed to the SHA-256 behind `trace_digest`, so the digest
//! is that of the full event stream (the `events.jsonl` a `full` run writes) and does not depend
//! on the mode. `full` writes every line; `summary` writes only the rare kinds (node failures
//! and recoveries, preemptions, failures, deletions, ...: everything but the per-pod lifecycle
//! kinds of [`HIGH_VOLUME_KINDS`]) plus `event_counts.json` (lines per kind); `none` writes
//! neither file.
//!
//! The digest state is a [`StreamSha256`], which serialises (for checkpoints), built on the
//! `sha2` crate's compression function.

use crate::run::output::{StreamFile, hex, write_atomic};
use serde::{Deserialize, Serialize};
use sha2::digest::generic_array::GenericArray;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a run writes of its events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum EventsMode {
    /// No `events.jsonl` (the digest is still computed).
    None,
    /// `events.jsonl` with the rare kinds only, and `event_counts.json`.
    Summary,
    /// Every event in `events.jsonl` (the default).
    #[default]
    Full,
}

/// Event kinds one per pod (or per scheduling attempt), left out of `summary` logs.
pub const HIGH_VOLUME_KINDS: &[&str] =
    &["pod_created", "pod_scheduled", "pod_unschedulable", "pod_started", "pod_succeeded", "pod_nominated"];

/// A SHA-256 whose state can be saved and restored (`sha2::Sha256` cannot).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamSha256 {
    state: [u32; 8],
    buffer: Vec<u8>,
    length_bytes: u64,
}

const SHA256_INIT: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

impl Default for StreamSha256 {
    fn default() -> Self {
        StreamSha256 { state: SHA256_INIT, buffer: Vec::with_capacity(64), length_bytes: 0 }
    }
}

impl StreamSha256 {
    /// Feeds bytes.
    pub fn update(&mut self, mut bytes: &[u8]) {
        self.length_bytes += bytes.len() as u64;
        if !self.buffer.is_empty() {
            let take = (64 - self.buffer.len()).min(bytes.len());
            self.buffer.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.buffer.len() < 64 {
                return;
            }
            sha2::compress256(&mut self.state, &[*GenericArray::from_slice(&self.buffer)]);
            self.buffer.clear();
        }
        let whole = bytes.len() / 64 * 64;
        if whole > 0 {
            let blocks: Vec<GenericArray<u8, _>> =
                bytes[..whole].chunks_exact(64).map(|c| *GenericArray::from_slice(c)).collect();
            sha2::compress256(&mut self.state, &blocks);
        }
        self.buffer.extend_from_slice(&bytes[whole..]);
    }

    /// The digest of everything fed so far, in lower-case hex.
    pub fn hex_digest(&self) -> String {
        let mut s = self.clone();
        let bits = s.length_bytes.wrapping_mul(8);
        let mut pad = vec![0x80u8];
        let rem = (s.buffer.len() + 1) % 64;
        pad.resize(1 + if rem <= 56 { 56 - rem } else { 120 - rem }, 0);
        pad.extend_from_slice(&bits.to_be_bytes());
        let len = s.length_bytes;
        s.update(&pad);
        s.length_bytes = len;
        let bytes: Vec<u8> = s.state.iter().flat_map(|w| w.to_be_bytes()).collect();
        hex(&bytes)
    }
}

/// The part of an [`EventLog`] a checkpoint saves.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventLogState {
    /// The mode.
    pub mode: EventsMode,
    /// Digest of the full stream so far.
    pub hasher: StreamSha256,
    /// Bytes written to `events.jsonl` so far (its length at a checkpoint).
    pub written_bytes: u64,
    /// Lines per kind.
    pub counts: BTreeMap<String, u64>,
}

/// The event log of a run (a checkpoint saves its [`EventLogState`]; [`EventLog::reattach`]
/// opens the file again).
#[derive(Default, Serialize, Deserialize)]
pub struct EventLog {
    state: EventLogState,
    #[serde(skip)]
    file: StreamFile,
    #[serde(skip)]
    dir: Option<PathBuf>,
}

impl EventLog {
    /// A log writing into `dir` (or nowhere) in `mode`.
    pub fn create(dir: Option<&Path>, mode: EventsMode) -> std::io::Result<Self> {
        let file = match dir {
            Some(d) if mode != EventsMode::None => StreamFile::create(d, "events.jsonl", false)?,
            _ => StreamFile::discard(false),
        };
        Ok(EventLog { state: EventLogState { mode, ..Default::default() }, file, dir: dir.map(Path::to_path_buf) })
    }

    /// Continues a log restored from a checkpoint: `events.jsonl`'s temporary file is truncated to
    /// the checkpoint's length and appended to.
    pub fn reattach(&mut self, dir: Option<&Path>) -> std::io::Result<()> {
        self.file = match dir {
            Some(d) if self.state.mode != EventsMode::None => {
                StreamFile::reopen(d, "events.jsonl", false, self.state.written_bytes)?
            }
            _ => StreamFile::discard(false),
        };
        self.dir = dir.map(Path::to_path_buf);
        Ok(())
    }

    /// Leaves the temporary file in place for a later resume.
    pub fn keep(self) -> std::io::Result<()> {
        self.file.keep()
    }

    /// The state to checkpoint (after [`EventLog::flush`]).
    pub fn state(&self) -> &EventLogState {
        &self.state
    }

    /// Flushes the file to disk so that its length matches the state.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }

    /// Records one event line of `kind`.
    pub fn write(&mut self, kind: &str, line: &[u8]) -> std::io::Result<()> {
        self.state.hasher.update(line);
        let keep = match self.state.mode {
            EventsMode::Full => true,
            EventsMode::Summary => {
                *self.state.counts.entry(kind.to_string()).or_insert(0) += 1;
                !HIGH_VOLUME_KINDS.contains(&kind)
            }
            EventsMode::None => false,
        };
        if keep {
            self.state.written_bytes += line.len() as u64;
            self.file.write(line)?;
        }
        Ok(())
    }

    /// Renames the files into place; returns the digest of the full stream.
    pub fn finish(self) -> std::io::Result<String> {
        let digest = self.state.hasher.hex_digest();
        self.file.finish()?;
        if let (Some(dir), EventsMode::Summary) = (&self.dir, self.state.mode) {
            let mut s = serde_json::to_vec_pretty(&self.state.counts).map_err(std::io::Error::other)?;
            s.push(b'\n');
            write_atomic(dir, "event_counts.json", &s)?;
        }
        Ok(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn the_stream_hash_equals_sha256_for_every_split() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 % 251) as u8).collect();
        for len in [0usize, 1, 55, 56, 63, 64, 65, 119, 120, 128, 300] {
            for cut in [0usize, 1, 30, 64, 100] {
                let cut = cut.min(len);
                let mut h = StreamSha256::default();
                h.update(&data[..cut]);
                h.update(&data[cut..len]);
                assert_eq!(h.hex_digest(), hex(&Sha256::digest(&data[..len])), "len {len} cut {cut}");
            }
        }
    }

    #[test]
    fn the_hash_state_survives_a_serde_round_trip() {
        let mut h = StreamSha256::default();
        h.update(b"hello, ");
        let mut back: StreamSha256 = serde_json::from_str(&serde_json::to_string(&h).unwrap()).unwrap();
        back.update(b"world");
        assert_eq!(back.hex_digest(), hex(&Sha256::digest(b"hello, world")));
    }

    fn run_log(mode: EventsMode) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let mut log = EventLog::create(Some(dir.path()), mode).unwrap();
        log.write("pod_created", b"{\"kind\":\"pod_created\"}\n").unwrap();
        log.write("node_failed", b"{\"kind\":\"node_failed\"}\n").unwrap();
        let d = log.finish().unwrap();
        (dir, d)
    }

    #[test]
    fn every_mode_gives_the_digest_of_the_full_stream() {
        let (full_dir, full) = run_log(EventsMode::Full);
        let bytes = std::fs::read(full_dir.path().join("events.jsonl")).unwrap();
        assert_eq!(full, hex(&Sha256::digest(&bytes)));
        let (sum_dir, summary) = run_log(EventsMode::Summary);
        let (none_dir, none) = run_log(EventsMode::None);
        assert_eq!((summary, none), (full.clone(), full));
        let kept = std::fs::read_to_string(sum_dir.path().join("events.jsonl")).unwrap();
        assert_eq!(kept, "{\"kind\":\"node_failed\"}\n");
        let counts = std::fs::read_to_string(sum_dir.path().join("event_counts.json")).unwrap();
        assert!(counts.contains("\"pod_created\": 1"), "{counts}");
        assert_eq!(std::fs::read_dir(none_dir.path()).unwrap().count(), 0);
    }
}
