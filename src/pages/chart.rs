//! Charts drawn at publish time as inline SVG geometry: no chart library,
//! no script, nothing fetched. Values in, coordinates out (pure).

use serde::Serialize;

/// One chart: a viewBox of `WIDTH` x `HEIGHT`, oldest point on the left.
pub const WIDTH: f64 = 600.0;
pub const HEIGHT: f64 = 120.0;
/// Room for the axis labels inside the viewBox.
const PAD: f64 = 4.0;
/// Bars of a short history stay slim.
const MAX_BAR: f64 = 24.0;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    /// Shown on hover (SVG `<title>`).
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Chart {
    /// `x,y x,y ...` for an SVG polyline; empty with fewer than 2 points.
    pub line: String,
    pub bars: Vec<Bar>,
    /// Top of the scale, as shown.
    pub max_label: String,
}

/// A sparkline's viewBox.
pub const SPARK_WIDTH: f64 = 120.0;
pub const SPARK_HEIGHT: f64 = 24.0;

fn x_of(i: usize, n: usize, width: f64) -> f64 {
    if n <= 1 {
        return width / 2.0;
    }
    PAD + (width - 2.0 * PAD) * i as f64 / (n - 1) as f64
}

fn y_of(v: f64, max: f64, height: f64) -> f64 {
    let v = if max > 0.0 {
        (v / max).clamp(0.0, 1.0)
    } else {
        0.0
    };
    height - PAD - (height - 2.0 * PAD) * v
}

/// To a tenth of a unit: sharp enough, and short in the page.
fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// A polyline of `values` on a 0..`max` scale (None points are skipped).
pub fn polyline(values: &[Option<f64>], max: f64) -> String {
    polyline_in(values, max, WIDTH, HEIGHT, round)
}

/// A pass-rate sparkline (0..100 %), small enough for a table row.
pub fn sparkline(rates: &[f64]) -> String {
    let values: Vec<Option<f64>> = rates.iter().map(|r| Some(*r)).collect();
    // Whole units are sharp enough at this size, and keep rows short.
    polyline_in(&values, 100.0, SPARK_WIDTH, SPARK_HEIGHT, f64::round)
}

fn polyline_in(
    values: &[Option<f64>],
    max: f64,
    width: f64,
    height: f64,
    round: fn(f64) -> f64,
) -> String {
    let n = values.len();
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            v.map(|v| {
                format!(
                    "{},{}",
                    round(x_of(i, n, width)),
                    round(y_of(v, max, height))
                )
            })
        })
        .collect();
    if points.len() < 2 {
        return String::new();
    }
    points.join(" ")
}

/// Bars of `values` on a 0..max(values) scale, one slot per value.
pub fn bars(values: &[u64], titles: &[String]) -> (Vec<Bar>, u64) {
    let max = values.iter().copied().max().unwrap_or(0);
    let slot = (WIDTH - 2.0 * PAD) / values.len().max(1) as f64;
    let bars = values
        .iter()
        .enumerate()
        .filter(|(_, v)| **v > 0)
        .map(|(i, &v)| {
            let y = round(y_of(v as f64, max as f64, HEIGHT));
            let w = (slot * 0.6).min(MAX_BAR);
            Bar {
                x: round(PAD + slot * i as f64 + (slot - w) / 2.0),
                y,
                w: round(w),
                h: round(HEIGHT - PAD - y),
                title: titles.get(i).cloned().unwrap_or_default(),
            }
        })
        .collect();
    (bars, max)
}

/// Pass rate (line, 0..100 %) and failing tests (bars) per run.
pub fn trend(rates: &[Option<f64>], failing: &[u64], titles: &[String]) -> Chart {
    let (bars, _) = bars(failing, titles);
    Chart {
        line: polyline(rates, 100.0),
        bars,
        max_label: "100%".into(),
    }
}

/// Duration per run (line), scaled to the longest.
pub fn durations(ms: &[Option<u64>], max_label: impl Fn(u64) -> String) -> Chart {
    let max = ms.iter().flatten().copied().max().unwrap_or(0);
    let values: Vec<Option<f64>> = ms.iter().map(|v| v.map(|v| v as f64)).collect();
    Chart {
        line: polyline(&values, max as f64),
        bars: Vec::new(),
        max_label: max_label(max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_spans_the_width_and_a_full_rate_is_at_the_top() {
        let line = polyline(&[Some(0.0), None, Some(100.0)], 100.0);
        assert_eq!(
            line,
            format!("{PAD},{} {},{PAD}", HEIGHT - PAD, WIDTH - PAD)
        );
        assert_eq!(
            polyline(&[Some(50.0)], 100.0),
            "",
            "one point draws no line"
        );
    }

    #[test]
    fn bars_scale_to_the_largest_and_zero_draws_nothing() {
        let (bars, max) = bars(&[0, 2, 4], &["a".into(), "b".into(), "c".into()]);
        assert_eq!(max, 4);
        assert_eq!(bars.len(), 2);
        assert_eq!(bars[1].y, PAD);
        assert_eq!(bars[0].h * 2.0, bars[1].h);
        assert_eq!(bars[1].title, "c");
    }
}
