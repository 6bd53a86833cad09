//! The output folder: every file is written under a temporary name and renamed into place when
//! complete, so an interrupted run leaves no half-written file. `events.jsonl` is streamed while
//! the run goes, with its SHA-256 (`trace_digest`) computed as it is written.

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `dir/name` atomically (temporary file, then rename).
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut f = BufWriter::new(File::create(&tmp)?);
        f.write_all(bytes)?;
        f.flush()?;
    }
    std::fs::rename(&tmp, dir.join(name))
}

/// A file streamed during the run: written to `.NAME.tmp` and renamed by [`StreamFile::finish`];
/// dropped unfinished, it removes its temporary file.
///
/// A checkpoint saves only its length; [`StreamFile::reopen`] attaches the file again.
#[derive(serde::Serialize, serde::Deserialize, Default)]
pub struct StreamFile {
    #[serde(skip)]
    tmp: PathBuf,
    #[serde(skip)]
    dest: PathBuf,
    #[serde(skip)]
    out: Option<BufWriter<File>>,
    #[serde(skip)]
    hasher: Option<Sha256>,
    bytes: u64,
}

impl StreamFile {
    /// Creates `dir/.name.tmp`; with `hash`, keeps a SHA-256 of what is written.
    pub fn create(dir: &Path, name: &str, hash: bool) -> std::io::Result<Self> {
        let tmp = dir.join(format!(".{name}.tmp"));
        let out = BufWriter::with_capacity(1 << 16, File::create(&tmp)?);
        Ok(StreamFile { tmp, dest: dir.join(name), out: Some(out), hasher: hash.then(Sha256::new), bytes: 0 })
    }

    /// Reopens `dir/.name.tmp` left by a checkpointed run, truncated to `len` bytes, to append to
    /// it. With `hash`, the digest restarts from the kept prefix (read back from the file).
    pub fn reopen(dir: &Path, name: &str, hash: bool, len: u64) -> std::io::Result<Self> {
        let tmp = dir.join(format!(".{name}.tmp"));
        let f = std::fs::OpenOptions::new().read(true).write(true).open(&tmp)?;
        if f.metadata()?.len() < len {
            return Err(std::io::Error::other(format!(
                "{} is shorter than the checkpoint says ({len} bytes)",
                tmp.display()
            )));
        }
        f.set_len(len)?;
        let hasher = if hash {
            let mut h = Sha256::new();
            let mut r = std::io::BufReader::new(File::open(&tmp)?);
            std::io::copy(&mut r, &mut h)?;
            Some(h)
        } else {
            None
        };
        let mut f = f;
        std::io::Seek::seek(&mut f, std::io::SeekFrom::End(0))?;
        Ok(StreamFile {
            tmp,
            dest: dir.join(name),
            out: Some(BufWriter::with_capacity(1 << 16, f)),
            hasher,
            bytes: len,
        })
    }

    /// A sink like [`StreamFile::discard`] that counts on from `len` bytes (a resumed run
    /// without an output folder).
    pub fn discard_from(len: u64) -> Self {
        let mut f = StreamFile::discard(false);
        f.bytes = len;
        f
    }

    /// Flushes buffered bytes to the temporary file.
    pub fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.out {
            Some(o) => o.flush(),
            None => Ok(()),
        }
    }

    /// A sink that writes nothing but still hashes (for runs without an output folder).
    pub fn discard(hash: bool) -> Self {
        StreamFile { tmp: PathBuf::new(), dest: PathBuf::new(), out: None, hasher: hash.then(Sha256::new), bytes: 0 }
    }

    /// Appends bytes.
    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if let Some(h) = &mut self.hasher {
            h.update(bytes);
        }
        self.bytes += bytes.len() as u64;
        match &mut self.out {
            Some(o) => o.write_all(bytes),
            None => Ok(()),
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.bytes
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// Flushes and leaves the temporary file in place (not renamed, not removed): a checkpoint
    /// refers to it.
    pub fn keep(mut self) -> std::io::Result<()> {
        if let Some(mut o) = self.out.take() {
            o.flush()?;
        }
        Ok(())
    }

    /// Flushes, renames into place, and returns the hex SHA-256 (empty without hashing).
    pub fn finish(mut self) -> std::io::Result<String> {
        let digest = self.hasher.take().map(|h| hex(&h.finalize())).unwrap_or_default();
        if let Some(mut o) = self.out.take() {
            o.flush()?;
            drop(o);
            std::fs::rename(&self.tmp, &self.dest)?;
        }
        Ok(digest)
    }
}

impl Drop for StreamFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Formats a ratio for CSV with six decimals (deterministic across platforms).
pub fn ratio6(num: f64) -> String {
    format!("{num:.6}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unfinished_stream_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut s = StreamFile::create(dir.path(), "e.jsonl", true).unwrap();
            s.write(b"x").unwrap();
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_finished_stream_is_renamed_and_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = StreamFile::create(dir.path(), "e.jsonl", true).unwrap();
        s.write(b"abc").unwrap();
        let d = s.finish().unwrap();
        assert_eq!(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(std::fs::read(dir.path().join("e.jsonl")).unwrap(), b"abc");
    }
}
