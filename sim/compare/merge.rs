//! `kubesim merge DIR... [--out OUT]`: joins the folders written by the shards of one plan
//! into the files a single `kubesim compare` would have written. Every folder must hold the
//! same `plan.json`; each run is taken from the first folder where it is finished, copied
//! into `OUT` (its `summary.json` last), and the aggregates are written from `OUT`.

use crate::compare::{CompareError, Plan, aggregate, write_plan};
use std::path::{Path, PathBuf};

fn read_plan(dir: &Path) -> Result<Plan, CompareError> {
    let p = dir.join("plan.json");
    let bytes = std::fs::read(&p).map_err(|e| {
        CompareError::Usage(format!("{}: {e} (is this a `kubesim compare` output folder?)", p.display()))
    })?;
    serde_json::from_slice(&bytes).map_err(|e| CompareError::Usage(format!("{}: not a plan: {e}", p.display())))
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    let mut entries: Vec<_> = std::fs::read_dir(from)?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    let mut summary = None;
    for e in entries {
        let name = e.file_name();
        let (src, dst) = (e.path(), to.join(&name));
        if e.file_type()?.is_dir() {
            copy_dir(&src, &dst)?;
        } else if name == "summary.json" {
            summary = Some((src, dst));
        } else if !name.to_string_lossy().starts_with('.') {
            std::fs::copy(&src, &dst)?;
        }
    }
    if let Some((src, _)) = summary {
        crate::run::output::write_atomic(to, "summary.json", &std::fs::read(src)?)?;
    }
    Ok(())
}

/// Merges shard folders `dirs` into `out` (which may be one of them) and writes the aggregates.
/// Returns the number of runs copied.
pub fn merge(dirs: &[PathBuf], out: &Path, png: bool) -> Result<usize, CompareError> {
    let Some(first) = dirs.first() else {
        return Err(CompareError::Usage("give at least one folder to merge".into()));
    };
    let plan = read_plan(first)?;
    for d in &dirs[1..] {
        if read_plan(d)? != plan {
            return Err(CompareError::Usage(format!(
                "{} and {} hold different plans (scenarios, --set, --schedulers or --seeds differ)",
                first.display(),
                d.display()
            )));
        }
    }
    write_plan(out, &plan)?;
    let combos = plan.combos();
    let mut copied = 0;
    for r in plan.runs() {
        let rel = plan.run_dir(&r, &combos);
        if out.join(&rel).join("summary.json").exists() {
            continue;
        }
        if let Some(src) = dirs.iter().find(|d| d.join(&rel).join("summary.json").exists()) {
            copy_dir(&src.join(&rel), &out.join(&rel))?;
            copied += 1;
        }
    }
    aggregate::write(out, &plan, png)?;
    Ok(copied)
}

/// Rebuilds the aggregates of a comparison folder (for `kubesim report`).
pub fn rebuild(dir: &Path, png: bool) -> Result<(), CompareError> {
    let plan = read_plan(dir)?;
    aggregate::write(dir, &plan, png)
}
