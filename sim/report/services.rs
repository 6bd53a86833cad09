//! The Service charts, from `services.csv`: `services` (ready endpoints, solid, vs desired,
//! dashed, per Service) and, when a Service has a request load, `service_requests` (the share
//! of offered requests served in each sample interval, per Service).

use super::MAX_POINTS;
use super::charts::{Chart, Kind, Series, thin};
use super::data::Table;
use std::collections::BTreeMap;

/// Most Services drawn per chart.
const MAX_SERVICES: usize = 8;

type Points = Vec<(f64, f64)>;

/// The Service charts of a run (none without `services.csv`).
pub fn charts(s: &Table, div: f64, x_label: &str) -> Vec<Chart> {
    let name = s.strings("service");
    let t = s.numbers("time_us");
    let (ready, desired) = (s.numbers("ready_endpoints"), s.numbers("desired"));
    let (offered, served) = (s.numbers("requests_offered"), s.numbers("requests_served"));
    // A column missing from a hand-edited file reads as empty cells.
    let at = |v: &[Option<f64>], i: usize| v.get(i).copied().flatten();
    let mut by: BTreeMap<&str, (Points, Points, Points)> = BTreeMap::new();
    for (i, key) in name.iter().enumerate() {
        let Some(x) = at(&t, i) else { continue };
        let e = by.entry(key).or_default();
        if let Some(r) = at(&ready, i) {
            e.0.push((x / div, r));
        }
        if let Some(d) = at(&desired, i) {
            e.1.push((x / div, d));
        }
        if let (Some(o), Some(v)) = (at(&offered, i), at(&served, i))
            && o > 0.0
        {
            e.2.push((x / div, 100.0 * v / o));
        }
    }
    let total = by.len();
    let suffix =
        if total > MAX_SERVICES { format!(", first {MAX_SERVICES} of {total} Services") } else { String::new() };
    let mut endpoints = Vec::new();
    let mut requests = Vec::new();
    for (i, (key, (r, d, q))) in by.into_iter().take(MAX_SERVICES).enumerate() {
        endpoints.push(Series { name: format!("{key} desired"), points: thin(&d, MAX_POINTS), color: i, dashed: true });
        endpoints.push(Series { name: format!("{key} ready"), points: thin(&r, MAX_POINTS), color: i, dashed: false });
        if !q.is_empty() {
            requests.push(Series { name: key.to_string(), points: thin(&q, MAX_POINTS), color: i, dashed: false });
        }
    }
    let mut out = vec![Chart {
        name: "services".into(),
        title: format!("Ready endpoints (solid) vs desired (dashed) per Service{suffix}"),
        x_label: x_label.to_string(),
        y_label: "endpoints".into(),
        kind: Kind::Lines { series: endpoints, y_range: None },
    }];
    if !requests.is_empty() {
        out.push(Chart {
            name: "service_requests".into(),
            title: format!("Requests served per sample interval (% of offered){suffix}"),
            x_label: x_label.to_string(),
            y_label: "served (%)".into(),
            kind: Kind::Lines { series: requests, y_range: Some((0.0, 100.0)) },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        Table::parse(text.as_bytes()).expect("csv")
    }

    #[test]
    fn one_line_pair_per_service_and_a_requests_chart_only_with_load() {
        let t = table(
            "time_us,service,ready_endpoints,unreachable_endpoints,desired,requests_offered,requests_served,requests_dropped\n\
             0,default/a,0,0,2,,,\n0,default/b,1,0,1,10,5,5\n1000000,default/a,2,0,2,,,\n1000000,default/b,1,0,1,10,10,0\n",
        );
        let c = charts(&t, 1e6, "s");
        assert_eq!(c.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), vec!["services", "service_requests"]);
        let Kind::Lines { series, .. } = &c[0].kind else { panic!("lines") };
        assert_eq!(series.len(), 4);
        assert_eq!(series[1].points, vec![(0.0, 0.0), (1.0, 2.0)]);
        let Kind::Lines { series, .. } = &c[1].kind else { panic!("lines") };
        assert_eq!(series.len(), 1);
        assert_eq!(series[0].points, vec![(0.0, 50.0), (1.0, 100.0)]);
        let no_load = table("time_us,service,ready_endpoints,desired\n0,default/a,1,1\n");
        assert_eq!(charts(&no_load, 1e6, "s").len(), 1);
    }

    #[test]
    fn missing_columns_give_empty_lines_not_a_panic() {
        let c = charts(&table("service\ndefault/a\n"), 1e6, "s");
        assert_eq!(c.len(), 1);
    }
}
