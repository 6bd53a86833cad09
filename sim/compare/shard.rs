//! Which slice of a `compare` plan this process runs: `--shard I/N` (1-based), or the same
//! slice chosen from the environment of a Slurm job array (`SLURM_ARRAY_TASK_ID`,
//! `SLURM_ARRAY_TASK_COUNT`, `SLURM_ARRAY_TASK_MIN`) or a Kubernetes Indexed Job
//! (`JOB_COMPLETION_INDEX`, 0-based, with the shard count from `--shard-count` or
//! `KUBESIM_SHARD_COUNT`).
//!
//! Run `i` (0-based, in the plan's canonical order) belongs to shard `I` when
//! `i % N == I − 1`: round robin, so every shard gets a share of every scenario.

use std::fmt;

/// One slice of a plan: shard `index` (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based shard number.
    pub index: u64,
    /// Number of shards.
    pub count: u64,
}

impl Shard {
    /// The whole plan.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// True when run `i` (0-based) belongs to this shard.
    pub fn contains(&self, i: usize) -> bool {
        i as u64 % self.count == self.index - 1
    }

    /// True for the whole plan.
    pub fn is_all(&self) -> bool {
        self.count == 1
    }

    /// Builds a shard, checking `1 ≤ index ≤ count`.
    pub fn new(index: u64, count: u64) -> Result<Shard, String> {
        if count == 0 {
            return Err("the shard count must be at least 1".into());
        }
        if index == 0 || index > count {
            return Err(format!("shard {index} is outside 1..={count}"));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Parses `I/N` (1-based).
pub fn parse(s: &str) -> Result<Shard, String> {
    let (i, n) = s.split_once('/').ok_or_else(|| format!("--shard {s:?}: expected I/N, e.g. 2/8"))?;
    let i: u64 = i.trim().parse().map_err(|_| format!("--shard {s:?}: {i:?} is not a whole number"))?;
    let n: u64 = n.trim().parse().map_err(|_| format!("--shard {s:?}: {n:?} is not a whole number"))?;
    Shard::new(i, n).map_err(|e| format!("--shard {s:?}: {e}"))
}

/// The shard to run: `--shard` first, then a Slurm array, then an Indexed Job; the whole
/// plan when none applies. `env` looks a variable up (`std::env::var` in the binary).
pub fn resolve(
    flag: Option<&str>,
    shard_count: Option<u64>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Shard, String> {
    if let Some(f) = flag {
        return parse(f);
    }
    let num = |name: &str| -> Result<Option<u64>, String> {
        match env(name) {
            None => Ok(None),
            Some(v) if v.trim().is_empty() => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| format!("{name}={v:?} is not a whole number")),
        }
    };
    if let (Some(id), Some(count)) = (num("SLURM_ARRAY_TASK_ID")?, num("SLURM_ARRAY_TASK_COUNT")?) {
        let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let index =
            id.checked_sub(min).ok_or_else(|| format!("SLURM_ARRAY_TASK_ID {id} < SLURM_ARRAY_TASK_MIN {min}"))?;
        return Shard::new(index + 1, count).map_err(|e| format!("Slurm array task: {e}"));
    }
    if let Some(idx) = num("JOB_COMPLETION_INDEX")? {
        let count = match shard_count {
            Some(c) => c,
            None => num("KUBESIM_SHARD_COUNT")?.ok_or(
                "JOB_COMPLETION_INDEX is set: give the number of shards (the Job's `completions`) with --shard-count N or KUBESIM_SHARD_COUNT",
            )?,
        };
        return Shard::new(idx + 1, count).map_err(|e| format!("Indexed Job: {e}"));
    }
    Ok(Shard::ALL)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn shard_flags_parse_one_based() {
        assert_eq!(parse("2/3"), Ok(Shard { index: 2, count: 3 }));
        assert!(parse("0/3").is_err());
        assert!(parse("4/3").is_err());
        assert!(parse("1-3").is_err());
        assert!(parse("a/3").is_err());
    }

    #[test]
    fn shards_split_the_plan_round_robin_without_overlap() {
        let shards: Vec<Shard> = (1..=3).map(|i| Shard::new(i, 3).unwrap()).collect();
        for i in 0..10 {
            assert_eq!(shards.iter().filter(|s| s.contains(i)).count(), 1);
        }
        assert!(shards[0].contains(0) && shards[1].contains(1) && shards[2].contains(2) && shards[0].contains(3));
    }

    #[test]
    fn slurm_arrays_choose_the_slice_from_their_task_id() {
        let s = resolve(None, None, env(&[("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "4")])).unwrap();
        assert_eq!(s, Shard { index: 2, count: 4 });
        let s = resolve(
            None,
            None,
            env(&[("SLURM_ARRAY_TASK_ID", "4"), ("SLURM_ARRAY_TASK_COUNT", "4"), ("SLURM_ARRAY_TASK_MIN", "1")]),
        )
        .unwrap();
        assert_eq!(s, Shard { index: 4, count: 4 });
    }

    #[test]
    fn indexed_jobs_need_a_shard_count() {
        assert!(resolve(None, None, env(&[("JOB_COMPLETION_INDEX", "0")])).is_err());
        assert_eq!(resolve(None, Some(3), env(&[("JOB_COMPLETION_INDEX", "2")])), Ok(Shard { index: 3, count: 3 }));
        assert_eq!(
            resolve(None, None, env(&[("JOB_COMPLETION_INDEX", "0"), ("KUBESIM_SHARD_COUNT", "2")])),
            Ok(Shard { index: 1, count: 2 })
        );
    }

    #[test]
    fn the_flag_wins_and_no_environment_means_the_whole_plan() {
        assert_eq!(resolve(Some("1/2"), None, env(&[("JOB_COMPLETION_INDEX", "1")])), Ok(Shard { index: 1, count: 2 }));
        assert_eq!(resolve(None, None, env(&[])), Ok(Shard::ALL));
    }
}
