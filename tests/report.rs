//! Per-run charts and `report.html`: charts render for every bundled scenario, the same outputs
//! give byte-identical SVG, the page is well-formed, self-contained and complete, and the
//! desired-vs-ready chart appears when a `workloads.csv` exists.

use kubesim::input::scenario;
use kubesim::report::{ReportOptions, data::RunData, run_charts, write_run_report};
use kubesim::run::run_to_dir;
use std::path::{Path, PathBuf};

fn scenarios() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("scenarios")
        .expect("scenarios/ exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    v
}

fn charts_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.join("charts"))
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap())
        })
        .collect();
    v.sort();
    v
}

fn run_with_report(path: &Path, dir: &Path) {
    let sc = scenario::load(path, &[]).unwrap_or_else(|e| panic!("{e}"));
    run_to_dir(&sc, dir).unwrap();
    write_run_report(dir, &ReportOptions { png: false, scenario_file: Some(path.to_path_buf()) })
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Checks `report.html` as a strict XML parser would (polyglot HTML5) and returns it.
fn check_self_contained_html(html: &str) -> roxmltree::Document<'_> {
    let doc = roxmltree::Document::parse_with_options(
        html,
        roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() },
    )
    .unwrap_or_else(|e| panic!("report.html is not well-formed: {e}"));
    assert_eq!(doc.root_element().tag_name().name(), "html");
    for n in doc.descendants().filter(|n| n.is_element()) {
        for a in n.attributes() {
            let (name, value) = (a.name(), a.value());
            assert!(
                !matches!(name, "src" | "href" | "srcset" | "action" | "data"),
                "external reference: {name}={value}"
            );
            assert!(
                !value.contains("://") || (name == "xmlns" && value == "http://www.w3.org/2000/svg"),
                "{name}={value}"
            );
        }
        assert!(!matches!(n.tag_name().name(), "script" | "link" | "img" | "iframe" | "object"), "{:?}", n.tag_name());
    }
    assert!(!html.contains("url(") && !html.contains("@import"), "CSS fetches something");
    doc
}

#[test]
fn charts_render_for_every_scenario_and_the_page_is_complete() {
    for path in scenarios() {
        let dir = tempfile::tempdir().unwrap();
        run_with_report(&path, dir.path());
        let charts = charts_of(dir.path());
        let names: Vec<&str> = charts.iter().map(|(n, _)| n.as_str()).collect();
        for want in ["allocation.svg", "pods.svg", "pending_cdf.svg", "node_heatmap.svg"] {
            assert!(names.contains(&want), "{}: {want} missing from {names:?}", path.display());
        }
        let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
        let doc = check_self_contained_html(&html);
        let figures: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("figure")).collect();
        assert_eq!(figures.len(), charts.len(), "{}", path.display());
        for (name, _) in &charts {
            let id = format!("chart-{}", name.trim_end_matches(".svg"));
            let fig = figures.iter().find(|f| f.attribute("id") == Some(id.as_str()));
            let fig = fig.unwrap_or_else(|| panic!("{}: no figure {id}", path.display()));
            assert!(fig.children().any(|c| c.tag_name().name() == "svg"), "{id} is not inlined");
        }
        let tables: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("table")).collect();
        let text: String = tables[0].descendants().filter_map(|n| n.text()).collect();
        for want in ["pods created", "pods scheduled", "pending time p99"] {
            assert!(text.contains(want), "summary table lacks {want}");
        }
        assert!(html.contains("trace_digest"), "the full summary is in the page");
        // Rendering the same outputs again gives the same bytes.
        write_run_report(dir.path(), &ReportOptions { png: false, scenario_file: Some(path.clone()) }).unwrap();
        assert!(charts == charts_of(dir.path()), "{}: charts differ when rendered twice", path.display());
        assert_eq!(html, std::fs::read_to_string(dir.path().join("report.html")).unwrap());
    }
}

#[test]
fn two_runs_of_a_scenario_give_byte_identical_charts_and_pages() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run_with_report(Path::new("scenarios/node-failures.yaml"), a.path());
    run_with_report(Path::new("scenarios/node-failures.yaml"), b.path());
    assert!(charts_of(a.path()) == charts_of(b.path()));
    assert_eq!(
        std::fs::read(a.path().join("report.html")).unwrap(),
        std::fs::read(b.path().join("report.html")).unwrap()
    );
}

#[test]
fn a_workloads_file_adds_the_desired_versus_ready_chart() {
    let dir = tempfile::tempdir().unwrap();
    run_with_report(Path::new("scenarios/quickstart.yaml"), dir.path());
    // Without workloads.csv there is no such chart.
    let _ = std::fs::remove_file(dir.path().join("workloads.csv"));
    let _ = std::fs::remove_dir_all(dir.path().join("charts"));
    write_run_report(dir.path(), &ReportOptions::default()).unwrap();
    assert!(!dir.path().join("charts/workloads.svg").exists());
    assert!(dir.path().join("charts/pods.svg").exists());
    std::fs::write(
        dir.path().join("workloads.csv"),
        "time_us,kind,namespace,name,desired,ready,available\n\
         0,Deployment,default,web,3,0,0\n10000000,Deployment,default,web,3,2,2\n20000000,Deployment,default,web,3,3,3\n\
         0,StatefulSet,db,pg,2,0,0\n20000000,StatefulSet,db,pg,2,1,1\n",
    )
    .unwrap();
    let d = RunData::read(dir.path()).unwrap();
    let charts = run_charts(&d);
    let w = charts.iter().find(|c| c.name == "workloads").expect("a workloads chart");
    match &w.kind {
        kubesim::report::charts::Kind::Lines { series, .. } => {
            let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(
                names,
                [
                    "Deployment/default/web desired",
                    "Deployment/default/web ready",
                    "StatefulSet/db/pg desired",
                    "StatefulSet/db/pg ready"
                ]
            );
            assert_eq!(series[1].points.last(), Some(&(20.0 / 60.0, 3.0)));
        }
        other => panic!("unexpected chart {other:?}"),
    }
    write_run_report(dir.path(), &ReportOptions::default()).unwrap();
    let svg = std::fs::read_to_string(dir.path().join("charts/workloads.svg")).unwrap();
    assert!(svg.contains("replicas") && svg.contains("Deployment/default/web ready"));
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("id=\"chart-workloads\""));
}

#[test]
fn kubesim_run_writes_charts_and_the_page_and_png_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q");
    let st = std::process::Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(["run", "scenarios/quickstart.yaml", "--set", "duration=5m", "--png", "-q", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    for f in ["report.html", "charts/allocation.svg", "charts/allocation.png", "charts/node_heatmap.png"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("apiVersion: kubesim/v1"), "the scenario file is shown");
    // `kubesim report` rebuilds the same page from the folder.
    let before = std::fs::read(out.join("report.html")).unwrap();
    std::fs::remove_file(out.join("report.html")).unwrap();
    let st = std::process::Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(["report", "--scenario", "scenarios/quickstart.yaml"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(before, std::fs::read(out.join("report.html")).unwrap());
}
