//! The replay charts (SVG, with plotters' SVG backend; labels laid out with the bundled DejaVu
//! Sans font, so no system font is involved and the bytes are the same everywhere).

use plotters::prelude::*;

static REGISTER: std::sync::Once = std::sync::Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        let _ = plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, bytes);
    });
}

const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// A line chart of named series of `(x, y)` points, as an SVG document.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[(String, Vec<(f64, f64)>)]) -> String {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, 500)).into_drawing_area();
        let _ = draw(&root, title, x_label, y_label, series);
        let _ = root.present();
    }
    svg
}

fn draw(
    root: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    root.fill(&WHITE)?;
    let pts = series.iter().flat_map(|(_, p)| p.iter());
    let (mut x1, mut y0, mut y1) = (1.0f64, f64::MAX, f64::MIN);
    for (x, y) in pts {
        x1 = x1.max(*x);
        y0 = y0.min(*y);
        y1 = y1.max(*y);
    }
    if y0 > y1 {
        (y0, y1) = (0.0, 1.0);
    }
    let y1 = if y1 - y0 < 1e-9 { y0 + 1.0 } else { y1 };
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..x1, y0.min(0.0)..y1 * 1.05)?;
    chart.configure_mesh().x_desc(x_label).y_desc(y_label).draw()?;
    for (i, (name, p)) in series.iter().enumerate() {
        let c = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(p.iter().copied(), c.stroke_width(2)))?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_chart_is_an_svg_with_one_path_per_series() {
        let s =
            vec![("a".to_string(), vec![(0.0, 0.0), (50.0, 40.0)]), ("b".to_string(), vec![(0.0, 0.0), (50.0, 45.0)])];
        let svg = super::line_chart("t", "x", "y", &s);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("\na\n</text>") && svg.contains("\nb\n</text>"), "legend names");
        assert_eq!(svg, super::line_chart("t", "x", "y", &s), "deterministic");
    }
}
