//! Charts as data ([`Chart`]) and their rendering with plotters: SVG always (text as `<text>`
//! elements, no system font involved), PNG on request through the bitmap backend and the
//! DejaVu Sans font bundled in `assets/fonts/` (registered once, also used to lay out SVG
//! labels, so that the layout never depends on the machine's fonts).
//!
//! Rendering is a pure function of the chart: the same chart gives the same bytes.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::Path;
use std::sync::Once;

/// Font family name under which the bundled font is registered.
pub const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The bundled file is a valid TrueType font; a failure would only leave labels unlaid.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

/// Fixed palette (Tableau 10), so that series colours never depend on anything but order.
pub const PALETTE: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

fn color(i: usize) -> RGBColor {
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    RGBColor(r, g, b)
}

/// One line of a line chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Points in data units.
    pub points: Vec<(f64, f64)>,
    /// Palette index.
    pub color: usize,
    /// Dashed instead of solid.
    pub dashed: bool,
}

/// One bar with its 95% confidence interval.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// Label under the bar.
    pub label: String,
    /// Height.
    pub value: f64,
    /// Interval, when known.
    pub interval: Option<(f64, f64)>,
    /// Palette index.
    pub color: usize,
}

/// What a chart shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// Lines over a numeric x axis.
    Lines {
        /// The lines.
        series: Vec<Series>,
        /// Fixed y range (else from the data, starting at 0).
        y_range: Option<(f64, f64)>,
    },
    /// Bars with confidence intervals.
    Bars {
        /// The bars, left to right.
        bars: Vec<Bar>,
    },
    /// Rows × time cells with values in 0..=1.
    Heatmap {
        /// Row labels, top to bottom.
        rows: Vec<String>,
        /// Cell values, `cells[row][column]`, in 0..=1 (NaN: no data).
        cells: Vec<Vec<f64>>,
        /// Width of one column in x units.
        column_width: f64,
        /// What the colour means.
        value_label: String,
    },
}

/// A chart: title, axis labels with units, and content.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// File stem (`charts/<name>.svg`).
    pub name: String,
    /// Caption.
    pub title: String,
    /// X axis label with unit.
    pub x_label: String,
    /// Y axis label with unit.
    pub y_label: String,
    /// Content.
    pub kind: Kind,
}

type DrawResult = Result<(), String>;

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

impl Chart {
    /// Pixel size.
    pub fn size(&self) -> (u32, u32) {
        match &self.kind {
            Kind::Heatmap { rows, .. } => (960, (140 + 14 * rows.len() as u32).clamp(360, 1400)),
            Kind::Bars { bars } => {
                let longest = bars.iter().map(|b| b.label.chars().count() as u32).max().unwrap_or(0);
                ((200 + (8 * longest).max(90) * bars.len() as u32).clamp(640, 1600), 480)
            }
            Kind::Lines { .. } => (960, 480),
        }
    }

    /// The chart as SVG text.
    pub fn svg(&self) -> Result<String, String> {
        register_font();
        let mut buf = String::new();
        {
            let root = SVGBackend::with_string(&mut buf, self.size()).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(err)?;
        }
        Ok(buf)
    }

    /// Writes the chart as a PNG file.
    pub fn png(&self, path: &Path) -> Result<(), String> {
        register_font();
        let root = BitMapBackend::new(path, self.size()).into_drawing_area();
        self.draw(&root)?;
        root.present().map_err(err)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(err)?;
        match &self.kind {
            Kind::Lines { series, y_range } => self.draw_lines(root, series, *y_range),
            Kind::Bars { bars } => self.draw_bars(root, bars),
            Kind::Heatmap { rows, cells, column_width, value_label } => {
                self.draw_heatmap(root, rows, cells, *column_width, value_label)
            }
        }
    }

    fn draw_lines<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        series: &[Series],
        y_range: Option<(f64, f64)>,
    ) -> DrawResult {
        let pts = series.iter().flat_map(|s| s.points.iter());
        let (mut x0, mut x1, mut ymax) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
        for (x, y) in pts {
            x0 = x0.min(*x);
            x1 = x1.max(*x);
            ymax = ymax.max(*y);
        }
        if !x0.is_finite() {
            (x0, x1) = (0.0, 1.0);
        }
        if x1 <= x0 {
            x1 = x0 + 1.0;
        }
        let (y0, y1) = y_range.unwrap_or((0.0, if ymax > 0.0 { ymax * 1.08 } else { 1.0 }));
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, 20))
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 15))
            .light_line_style(RGBColor(238, 238, 238))
            .max_light_lines(2)
            .draw()
            .map_err(err)?;
        for s in series {
            let c = color(s.color);
            let style = c.stroke_width(2);
            if s.dashed {
                chart
                    .draw_series(DashedLineSeries::new(s.points.iter().copied(), 6, 4, style))
                    .map_err(err)?
                    .label(&s.name)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(1)));
            } else {
                chart
                    .draw_series(LineSeries::new(s.points.iter().copied(), style))
                    .map_err(err)?
                    .label(&s.name)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3)));
            }
        }
        if !series.is_empty() {
            chart
                .configure_series_labels()
                .label_font((FONT, 13))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(err)?;
        }
        Ok(())
    }

    fn draw_bars<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, bars: &[Bar]) -> DrawResult {
        let n = bars.len().max(1) as i32;
        let top = bars.iter().map(|b| b.interval.map_or(b.value, |(_, h)| h.max(b.value))).fold(0.0f64, f64::max);
        let bottom = bars.iter().map(|b| b.interval.map_or(b.value, |(l, _)| l.min(b.value))).fold(0.0f64, f64::min);
        let y1 = if top > 0.0 { top * 1.1 } else { 1.0 };
        let y0 = if bottom < 0.0 { bottom * 1.1 } else { 0.0 };
        let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, 20))
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d((0..n - 1).into_segmented(), y0..y1)
            .map_err(err)?;
        let fmt = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n as usize + 1)
            .x_label_formatter(&fmt)
            .y_label_formatter(&|v| tick(*v))
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 15))
            .light_line_style(RGBColor(238, 238, 238))
            .max_light_lines(2)
            .draw()
            .map_err(err)?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, b)| {
                let i = i as i32;
                let mut r = Rectangle::new(
                    [(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), b.value)],
                    color(b.color).mix(0.75).filled(),
                );
                r.set_margin(0, 0, 14, 14);
                r
            }))
            .map_err(err)?;
        for (i, b) in bars.iter().enumerate() {
            let Some((lo, hi)) = b.interval else { continue };
            let x = || SegmentValue::CenterOf(i as i32);
            let s = BLACK.stroke_width(2);
            chart.draw_series(std::iter::once(PathElement::new(vec![(x(), lo), (x(), hi)], s))).map_err(err)?;
            for y in [lo, hi] {
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((x(), y)) + PathElement::new(vec![(-8, 0), (8, 0)], s),
                    ))
                    .map_err(err)?;
            }
        }
        Ok(())
    }

    fn draw_heatmap<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        rows: &[String],
        cells: &[Vec<f64>],
        column_width: f64,
        value_label: &str,
    ) -> DrawResult {
        let (w, _) = self.size();
        let (main, side) = root.split_horizontally(w - 110);
        // A segmented range `0..k` has k + 1 segments; a single row keeps two (one empty), as
        // plotters labels no segment of a one-point range.
        let n_rows = rows.len().max(1) as i32;
        let n_cols = cells.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let x1 = n_cols as f64 * column_width;
        let step = (rows.len() / 40).max(1);
        let mut chart = ChartBuilder::on(&main)
            .caption(&self.title, (FONT, 20))
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(110)
            .build_cartesian_2d(0.0..x1, (0..(n_rows - 1).max(1)).into_segmented())
            .map_err(err)?;
        let fmt = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) if (*i as usize).is_multiple_of(step) => {
                rows.get(*i as usize).cloned().unwrap_or_default()
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .y_labels(n_rows as usize + 1)
            .y_label_formatter(&fmt)
            .x_label_formatter(&|v| tick(*v))
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style((FONT, 11))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(cells.iter().enumerate().flat_map(|(r, row)| {
                row.iter().enumerate().filter(|(_, v)| !v.is_nan()).map(move |(c, v)| {
                    Rectangle::new(
                        [
                            (c as f64 * column_width, SegmentValue::Exact(r as i32)),
                            ((c + 1) as f64 * column_width, SegmentValue::Exact(r as i32 + 1)),
                        ],
                        ramp(*v).filled(),
                    )
                })
            }))
            .map_err(err)?;
        // Colour bar.
        let mut bar = ChartBuilder::on(&side)
            .margin_top(50)
            .margin_bottom(60)
            .margin_right(10)
            .y_label_area_size(48)
            .build_cartesian_2d(0.0..1.0, 0.0..100.0)
            .map_err(err)?;
        bar.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_labels(6)
            .y_label_formatter(&|v| tick(*v))
            .y_desc(value_label)
            .label_style((FONT, 11))
            .axis_desc_style((FONT, 12))
            .draw()
            .map_err(err)?;
        bar.draw_series((0..50).map(|i| {
            let v0 = i as f64 * 2.0;
            Rectangle::new([(0.0, v0), (1.0, v0 + 2.0)], ramp((v0 + 1.0) / 100.0).filled())
        }))
        .map_err(err)?;
        Ok(())
    }
}

/// An axis tick: no trailing zeros, no needless decimals.
pub fn tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if v.abs() >= 100.0 || v == v.trunc() {
        return format!("{v:.0}");
    }
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The heatmap colour of a value in 0..=1 (viridis-like: dark blue to yellow).
pub fn ramp(v: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] =
        [(68.0, 1.0, 84.0), (59.0, 82.0, 139.0), (33.0, 145.0, 140.0), (94.0, 201.0, 98.0), (253.0, 231.0, 37.0)];
    let v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) } * (STOPS.len() - 1) as f64;
    let i = (v.floor() as usize).min(STOPS.len() - 2);
    let t = v - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |x: f64, y: f64| (x + (y - x) * t).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Reduces a sorted sample to at most `max_points` points of its empirical CDF (a step line),
/// in percent of the sample.
pub fn cdf_points(sorted: &[f64], max_points: usize) -> Vec<(f64, f64)> {
    let n = sorted.len();
    if n == 0 {
        return vec![];
    }
    let k = max_points.max(2);
    let mut out = Vec::with_capacity(2 * k.min(n) + 1);
    out.push((sorted[0], 0.0));
    if n <= k {
        for (i, x) in sorted.iter().enumerate() {
            out.push((*x, 100.0 * i as f64 / n as f64));
            out.push((*x, 100.0 * (i + 1) as f64 / n as f64));
        }
    } else {
        for j in 1..=k {
            let idx = (j * n).div_ceil(k) - 1;
            out.push((sorted[idx], 100.0 * (idx + 1) as f64 / n as f64));
        }
    }
    out
}

/// Keeps at most about `max` rows, evenly strided, always with the last one.
pub fn thin<T: Clone>(v: &[T], max: usize) -> Vec<T> {
    if v.len() <= max || max == 0 {
        return v.to_vec();
    }
    let stride = v.len().div_ceil(max);
    let mut out: Vec<T> = v.iter().step_by(stride).cloned().collect();
    if !(v.len() - 1).is_multiple_of(stride) {
        out.push(v[v.len() - 1].clone());
    }
    out
}

/// The time unit for an axis spanning `span_us`: (divisor in µs, unit name).
pub fn time_unit(span_us: f64) -> (f64, &'static str) {
    if span_us <= 2.0 * 60e6 {
        (1e6, "s")
    } else if span_us <= 3.0 * 3600e6 {
        (60e6, "min")
    } else if span_us <= 3.0 * 86400e6 {
        (3600e6, "h")
    } else {
        (86400e6, "days")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Chart {
        Chart {
            name: "t".into(),
            title: "A test".into(),
            x_label: "time (s)".into(),
            y_label: "pods".into(),
            kind: Kind::Lines {
                series: vec![Series {
                    name: "a".into(),
                    points: vec![(0.0, 1.0), (2.0, 3.0)],
                    color: 0,
                    dashed: false,
                }],
                y_range: None,
            },
        }
    }

    #[test]
    fn the_same_chart_renders_to_the_same_svg_bytes() {
        let a = sample().svg().unwrap();
        assert!(a.starts_with("<svg") && a.contains("A test") && a.contains("time (s)"));
        assert_eq!(a, sample().svg().unwrap());
    }

    #[test]
    fn bars_and_heatmaps_render() {
        let bars = Chart {
            kind: Kind::Bars {
                bars: vec![
                    Bar { label: "x".into(), value: 2.0, interval: Some((1.0, 3.0)), color: 0 },
                    Bar { label: "y".into(), value: 1.0, interval: None, color: 1 },
                ],
            },
            ..sample()
        };
        assert!(bars.svg().unwrap().contains("\nx\n</text>"));
        let heat = Chart {
            kind: Kind::Heatmap {
                rows: vec!["n0".into(), "n1".into()],
                cells: vec![vec![0.0, 0.5], vec![1.0, f64::NAN]],
                column_width: 1.0,
                value_label: "CPU (%)".into(),
            },
            ..sample()
        };
        assert!(heat.svg().unwrap().contains("\nn1\n</text>"));
    }

    #[test]
    fn a_single_bar_and_a_single_heatmap_row_render() {
        let one_bar = Chart {
            kind: Kind::Bars { bars: vec![Bar { label: "only".into(), value: 1.0, interval: None, color: 0 }] },
            ..sample()
        };
        assert!(one_bar.svg().unwrap().contains("\nonly\n</text>"));
        let one_row = Chart {
            kind: Kind::Heatmap {
                rows: vec!["n0".into()],
                cells: vec![vec![0.5]],
                column_width: 1.0,
                value_label: "CPU (%)".into(),
            },
            ..sample()
        };
        let svg = one_row.svg().unwrap();
        assert!(svg.contains("\nn0\n</text>") && !svg.contains("NaN"));
    }

    #[test]
    fn png_rendering_uses_the_bundled_font() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.png");
        sample().png(&p).unwrap();
        assert_eq!(&std::fs::read(&p).unwrap()[1..4], b"PNG");
    }

    #[test]
    fn cdfs_are_thinned_to_quantiles_ending_at_one_hundred_percent() {
        let v: Vec<f64> = (0..1000).map(f64::from).collect();
        let p = cdf_points(&v, 100);
        assert_eq!(p.len(), 101);
        assert_eq!(*p.last().unwrap(), (999.0, 100.0));
        assert_eq!(cdf_points(&[5.0], 10), vec![(5.0, 0.0), (5.0, 0.0), (5.0, 100.0)]);
    }

    #[test]
    fn ticks_drop_needless_decimals() {
        assert_eq!(tick(100.0), "100");
        assert_eq!(tick(2.5), "2.5");
        assert_eq!(tick(0.125), "0.125");
        assert_eq!(tick(-0.0), "0");
    }

    #[test]
    fn thinning_keeps_the_last_row() {
        let v: Vec<u32> = (0..10).collect();
        assert_eq!(thin(&v, 4), vec![0, 3, 6, 9]);
        assert_eq!(thin(&v, 3), vec![0, 4, 8, 9]);
        assert_eq!(thin(&v, 20), v);
    }

    #[test]
    fn the_colour_ramp_runs_from_dark_to_yellow() {
        assert_eq!(ramp(0.0), RGBColor(68, 1, 84));
        assert_eq!(ramp(1.0), RGBColor(253, 231, 37));
        assert_eq!(ramp(f64::NAN), ramp(0.0));
    }
}
