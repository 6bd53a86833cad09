//! The output files a report is built from, read back as plain tables: the report never needs
//! the simulation in memory, so `kubesim report DIR` rebuilds it from any output folder.

use std::path::Path;

/// A CSV file as a header and rows of cells.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// Rows, each as long as the header (a `StringRecord` keeps a row's cells in one buffer,
    /// so a 200,000-row `pods.csv` stays a few tens of MB).
    pub rows: Vec<csv::StringRecord>,
}

impl Table {
    /// Reads `path`; `Ok(None)` when the file does not exist.
    pub fn read(path: &Path) -> std::io::Result<Option<Table>> {
        Table::read_columns(path, None)
    }

    /// Reads only the columns `keep` of `path` (all with `None`), streaming the file, so that a
    /// report on a long run holds a few cells per pod rather than whole rows.
    pub fn read_columns(path: &Path, keep: Option<&[&str]>) -> std::io::Result<Option<Table>> {
        if !path.exists() {
            return Ok(None);
        }
        let file = std::io::BufReader::new(std::fs::File::open(path)?);
        Table::parse_columns(file, keep)
            .map(Some)
            .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))
    }

    /// Parses CSV with a header line, row by row.
    pub fn parse(reader: impl std::io::Read) -> Result<Table, csv::Error> {
        Table::parse_columns(reader, None)
    }

    /// [`Table::parse`] keeping only the columns `keep` (in file order; absent ones are skipped).
    pub fn parse_columns(reader: impl std::io::Read, keep: Option<&[&str]>) -> Result<Table, csv::Error> {
        let mut r = csv::ReaderBuilder::new().flexible(false).from_reader(reader);
        let all: Vec<String> = r.headers()?.iter().map(str::to_string).collect();
        let cols: Vec<usize> = (0..all.len()).filter(|i| keep.is_none_or(|k| k.contains(&all[*i].as_str()))).collect();
        let header = cols.iter().map(|i| all[*i].clone()).collect();
        let mut rows = Vec::new();
        let mut rec = csv::StringRecord::new();
        while r.read_record(&mut rec)? {
            // Exact-size copies of the kept cells (the read buffer is reused).
            rows.push(if cols.len() == all.len() { rec.clone() } else { cols.iter().map(|i| &rec[*i]).collect() });
        }
        Ok(Table { header, rows })
    }

    /// Index of column `name`.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The cells of column `name` parsed as numbers (`None` for empty or unparsable cells, and
    /// an empty vector when the column is absent).
    pub fn numbers(&self, name: &str) -> Vec<Option<f64>> {
        match self.col(name) {
            Some(c) => self.rows.iter().map(|r| r.get(c).and_then(|v| v.parse::<f64>().ok())).collect(),
            None => vec![],
        }
    }

    /// The cells of column `name` (empty strings when absent).
    pub fn strings(&self, name: &str) -> Vec<&str> {
        match self.col(name) {
            Some(c) => self.rows.iter().map(|r| r.get(c).unwrap_or("")).collect(),
            None => vec![""; self.rows.len()],
        }
    }
}

/// The `pods.csv` columns a report uses (the pending-time CDF and the node heatmap).
pub const PODS_COLUMNS: [&str; 5] = ["cpu_millis", "created_us", "scheduled_us", "finished_us", "node"];

/// Everything a run report reads from an output folder.
#[derive(Clone, Debug, Default)]
pub struct RunData {
    /// `summary.json`.
    pub summary: serde_json::Value,
    /// `timeseries.csv`.
    pub timeseries: Option<Table>,
    /// `pods.csv`.
    pub pods: Option<Table>,
    /// `nodes.csv`.
    pub nodes: Option<Table>,
    /// `workloads.csv` (written when controllers run).
    pub workloads: Option<Table>,
    /// `services.csv` (written when the scenario has Services).
    pub services: Option<Table>,
}

impl RunData {
    /// Reads the files of the output folder `dir` (`summary.json` is required).
    pub fn read(dir: &Path) -> std::io::Result<RunData> {
        let sp = dir.join("summary.json");
        let text = std::fs::read(&sp).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", sp.display())))?;
        let summary = serde_json::from_slice(&text)
            .map_err(|e| std::io::Error::other(format!("{}: not valid JSON: {e}", sp.display())))?;
        Ok(RunData {
            summary,
            timeseries: Table::read(&dir.join("timeseries.csv"))?,
            pods: Table::read_columns(&dir.join("pods.csv"), Some(&PODS_COLUMNS))?,
            nodes: Table::read(&dir.join("nodes.csv"))?,
            workloads: Table::read(&dir.join("workloads.csv"))?,
            services: Table::read(&dir.join("services.csv"))?,
        })
    }

    /// Pending times (creation to first binding) of the pods that were bound, in seconds, sorted.
    pub fn pending_seconds(&self) -> Vec<f64> {
        pending_seconds(self.pods.as_ref())
    }
}

/// Pending times in seconds from a `pods.csv` table, sorted ascending.
pub fn pending_seconds(pods: Option<&Table>) -> Vec<f64> {
    let Some(p) = pods else { return vec![] };
    let created = p.numbers("created_us");
    let scheduled = p.numbers("scheduled_us");
    let mut v: Vec<f64> =
        created.iter().zip(&scheduled).filter_map(|(c, s)| Some(((*s)? - (*c)?).max(0.0) / 1e6)).collect();
    v.sort_by(f64::total_cmp);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_read_columns_by_name_and_skip_empty_cells() {
        let t = Table::parse(&b"a,b\n1,\n2,5\n"[..]).unwrap();
        assert_eq!(t.numbers("a"), vec![Some(1.0), Some(2.0)]);
        assert_eq!(t.numbers("b"), vec![None, Some(5.0)]);
        assert!(t.numbers("c").is_empty());
    }

    #[test]
    fn reading_some_columns_keeps_only_those() {
        let t = Table::parse_columns(&b"a,b,c\n1,2,3\n4,5,6\n"[..], Some(&["c", "a", "z"])).unwrap();
        assert_eq!(t.header, vec!["a", "c"]);
        assert_eq!(t.numbers("a"), vec![Some(1.0), Some(4.0)]);
        assert_eq!(t.numbers("c"), vec![Some(3.0), Some(6.0)]);
        assert!(t.numbers("b").is_empty());
    }

    #[test]
    fn pending_times_count_only_bound_pods() {
        let t = Table::parse(&b"created_us,scheduled_us\n0,2000000\n1000000,\n500000,500000\n"[..]).unwrap();
        assert_eq!(pending_seconds(Some(&t)), vec![0.0, 2.0]);
    }
}
