//! Slide-ready charts (PNG + SVG) for the capacity-planning reports.
//!
//! Every chart is 1200×700 px on a white background and is written twice, as `<stem>.png` and
//! `<stem>.svg`, from the same layout, so the two files show the same picture. Output is
//! byte-deterministic for the same input (no timestamps, no hash-ordered iteration).
//!
//! Style, shared by all charts:
//! * title 28 px, axis descriptions 18 px, tick and legend labels 14 px (em sizes; the SVG
//!   `font-size` attributes carry exactly these numbers), in the embedded Noto Sans (see
//!   [`register_fonts`]), so no system font is needed;
//! * the Okabe–Ito colour-blind-safe palette in a fixed order, so series `i` always has the same
//!   colour; with it a marker shape (alternately filled and open) and a line pattern, so series
//!   stay apart in greyscale and where they coincide (see `style_for`);
//! * a light grid; the y axis starts at 0 unless the data is negative, with ~8 % headroom (time
//!   series of counts and percentages always start at 0, and counts are drawn as steps: see
//!   [`PanelValues`]);
//!   "nice" tick steps (1-2-2.5-5 per decade; hours and minutes get 1-2-3-4-6-12-24 and
//!   5-10-15-30 steps when the x label names the unit); compact tick labels (no float noise,
//!   `k`/`M`/`G` suffixes, a `%` suffix when the axis label mentions `%`);
//! * a legend with a light background in whichever upper corner the data leaves free; when
//!   neither corner is free the y range grows a little to make room, and when that would squash
//!   the data (or there are many series) the legend goes outside, on the right.
//!
//! Non-finite values (NaN, ±∞) never panic: they are skipped and lines break at them. A chart
//! with no finite data still renders, with a "no data" note.
//!
//! Adding a series is one line for the caller: push another [`BandSeries`] / [`LineSeries`].
//!
//! What is drawn here rather than by plotters, and why (everything else is plotters):
//! * **Text in the PNG, glyph by glyph.** plotters 0.3.7's ab_glyph backend drops each glyph's
//!   left side bearing, which makes letter spacing visibly uneven. `Canvas::text` places each
//!   glyph itself, with advance widths and outline bounds that `ttf-parser` reads from the
//!   embedded font; the SVG keeps one `<text>` element per string and lets the viewer lay it out.
//!   The same metrics size every layout decision (label areas, legends, ellipses).
//! * **Tick labels and axis descriptions.** plotters' mesh would draw them through the same text
//!   path, and its float formatter prints `0.30000000000000004`; `NumFmt` and the hour/minute
//!   tick steps of `nice_step` have no plotters equivalent.
//! * **The legend.** plotters' series-label box sits in a fixed corner and draws its text
//!   through the same path; `place_legend` picks the corner the data leaves free.
//! * **Fitting text** with an ellipsis (`fit_text`, `fit_label`): plotters has none.
//! * **Markers** that nest where points coincide (`draw_marker_part`): plotters' marker
//!   elements have no open variant with a halo, nor a drawing order across series.
//! * **The axis type** `TickedAxis`: grid lines exactly at our ticks. plotters'
//!   `with_key_points` would do, but `configure_mesh` then demands a value formatter that
//!   plotters' f64 axis lacks.
//!
//! The charts of a results folder (which metrics, which words, which time-series panels) are
//! built in the `results` submodule ([`draw_results`]).

mod results;

pub(crate) use results::axis_words;
pub use results::draw_results;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Once, OnceLock};

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontFamily, FontStyle, FontTransform, register_font};

/// Width of every chart, in pixels.
pub const WIDTH: u32 = 1200;
/// Height of every chart, in pixels.
pub const HEIGHT: u32 = 700;

// Font sizes, as em heights in pixels.
const TITLE_EM: f64 = 28.0;
const AXIS_EM: f64 = 18.0;
const TICK_EM: f64 = 14.0;
const LEGEND_EM: f64 = 14.0;
const SUBTITLE_EM: f64 = 16.0;
const PANEL_TITLE_EM: f64 = 16.0;
const PANEL_AXIS_EM: f64 = 15.0;
const NOTE_EM: f64 = 18.0;

/// Okabe–Ito palette, reordered so that the weakest colour on white (yellow) comes last.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0x00, 0x00, 0x00), // black
    RGBColor(0xF0, 0xE4, 0x42), // yellow
];

const TEXT_COLOR: RGBColor = RGBColor(0x22, 0x22, 0x22);
const TICK_COLOR: RGBColor = RGBColor(0x44, 0x44, 0x44);
const AXIS_COLOR: RGBColor = RGBColor(0x88, 0x88, 0x88);
const GRID_COLOR: RGBColor = RGBColor(0xE6, 0xE6, 0xE6);
const LEGEND_BG: RGBColor = RGBColor(0xF8, 0xF8, 0xF8);
const LEGEND_BORDER: RGBColor = RGBColor(0xD0, 0xD0, 0xD0);
const NOTE_COLOR: RGBColor = RGBColor(0x99, 0x99, 0x99);

/// Opacity of confidence bands.
const BAND_ALPHA: f64 = 0.2;
/// Headroom beyond the data, as a fraction of the data span.
const HEADROOM: f64 = 0.08;
/// More series than this always get the legend outside the plot.
const MAX_INSIDE_LEGEND: usize = 6;
/// The y range may grow by at most this factor to make room for a legend inside the plot.
const MAX_LEGEND_STRETCH: f64 = 1.45;

static FONTS: Once = Once::new();

/// Must be called (idempotent; uses [`std::sync::Once`]) before any chart is drawn: registers the
/// embedded Noto Sans Regular as "sans-serif" (also "serif" and "monospace").
///
/// The chart functions of this module call it themselves; it is public for callers that draw
/// with plotters directly.
pub fn register_fonts() {
    FONTS.call_once(|| {
        for family in ["sans-serif", "serif", "monospace"] {
            // The font is embedded and valid. Should registration ever fail, every text draw
            // reports `FontUnavailable`, which the chart functions return as a `ChartError`.
            let _ = register_font(family, FontStyle::Normal, ttf_noto_sans::REGULAR);
        }
    });
}

/// One line with a confidence band, for [`sweep_chart`].
#[derive(Debug, Clone)]
pub struct BandSeries {
    /// Legend label.
    pub label: String,
    /// Points, in any order (they are sorted by x for drawing).
    pub points: Vec<BandPoint>,
}

/// A point of a [`BandSeries`]: the mean and the band (e.g. 95 % CI) around it.
#[derive(Debug, Clone, Copy)]
pub struct BandPoint {
    /// Swept parameter value, or category index for a categorical chart.
    pub x: f64,
    /// Estimate, drawn as the line.
    pub mean: f64,
    /// Lower end of the band.
    pub low: f64,
    /// Upper end of the band.
    pub high: f64,
}

/// A plain line (time series), for [`time_series_chart`] and [`time_series_panels`].
#[derive(Debug, Clone)]
pub struct LineSeries {
    /// Legend label.
    pub label: String,
    /// `(x, y)` points in drawing order (normally increasing x).
    pub points: Vec<(f64, f64)>,
}

/// The texts of a chart or panel. Put units in the axis labels, e.g. `"offered load [Erlang]"`.
#[derive(Debug, Clone)]
pub struct ChartText {
    /// Chart (or panel) title.
    pub title: String,
    /// A smaller line under a chart's title (e.g. how many replications the means are of);
    /// empty for none. Panels ignore it.
    pub subtitle: String,
    /// X axis description (ignored for panels: they share one x axis).
    pub x_label: String,
    /// Y axis description.
    pub y_label: String,
}

/// A chart could not be drawn or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartError(pub String);

impl std::fmt::Display for ChartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "chart error: {}", self.0)
    }
}

impl std::error::Error for ChartError {}

fn chart_err<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> ChartError {
    move |e| ChartError(format!("{what}: {e}"))
}

/// Metric versus a swept parameter: one line per series, CI band, markers. Writes `<stem>.png`
/// and `<stem>.svg` (the suffixes are appended, so a stem like `load_0.8` is fine; missing parent
/// directories are created).
///
/// `x_categories`: when `Some`, the x axis is categorical (e.g. strategies or CIDR strings); x
/// values are then indices `0..n` and tick labels are these strings. Categories are drawn as
/// markers with error bars rather than lines and bands (a line between unrelated categories would
/// suggest a trend), each series nudged sideways so overlapping intervals stay visible.
pub fn sweep_chart(stem: &Path, text: &ChartText, series: &[BandSeries], x_categories: Option<&[String]>) -> Result<(), ChartError> {
    let kind = match x_categories {
        Some(c) => Kind::Categorical(c.to_vec()),
        None => Kind::Sweep,
    };
    let n = series.len().max(1) as f64;
    let prepared = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let dodge = match kind {
                Kind::Categorical(_) => (i as f64 - (n - 1.0) / 2.0) * (0.5 / n).min(0.1),
                _ => 0.0,
            };
            Prepared::from_band(i, s, dodge)
        })
        .collect();
    render(stem, &SingleFigure { text: text.clone(), kind, series: prepared })
}

/// Values over simulated time: one line per series (x in the unit the caller chose, e.g. hours).
/// Writes `<stem>.png` and `<stem>.svg`.
pub fn time_series_chart(stem: &Path, text: &ChartText, series: &[LineSeries]) -> Result<(), ChartError> {
    let prepared = series.iter().enumerate().map(|(i, s)| Prepared::from_line(i, s, false)).collect();
    render(stem, &SingleFigure { text: text.clone(), kind: Kind::Time, series: prepared })
}

/// What a panel's values are, which decides how they are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanelValues {
    /// Whole numbers of a state that changes in jumps, sampled (tasks, hosts, addresses): drawn
    /// as steps (each sample holds until the next), y axis from 0 with whole-number ticks.
    Count,
    /// A percentage of a state that changes in jumps (reserved CPU): steps, y axis from 0.
    Percent,
    /// A quantity that varies continuously (a throughput): straight lines between samples, y
    /// axis from 0 unless the data is negative.
    Level,
}

/// One panel of [`time_series_panels`].
#[derive(Debug, Clone)]
pub struct Panel {
    /// Title and y axis description (`x_label` is ignored: the panels share one x axis).
    pub text: ChartText,
    pub values: PanelValues,
    pub series: Vec<LineSeries>,
}

/// Several time-series panels stacked vertically sharing the x axis (e.g. "tasks
/// running/pending" above "reserved CPU % per AZ" above "reserved memory % per AZ"), one
/// PNG+SVG. Each panel has its own title, y label and series; `x_label` is shown once, under the
/// bottom panel. Legends sit to the right of their panel so that all panels share the same x
/// pixel range. The image is [`WIDTH`] wide and [`HEIGHT`] high for up to four panels, taller
/// beyond (each panel keeps a readable height).
pub fn time_series_panels(stem: &Path, title: &str, x_label: &str, panels: &[Panel]) -> Result<(), ChartError> {
    let panels = panels
        .iter()
        .map(|p| {
            let steps = p.values != PanelValues::Level;
            let s = p.series.iter().enumerate().map(|(i, l)| Prepared::from_line(i, l, steps)).collect();
            (p.text.clone(), p.values, s)
        })
        .collect();
    render(stem, &PanelFigure { title: title.to_string(), x_label: x_label.to_string(), panels })
}

// ------------------------------------------------------------------------------------------
// Rendering to both backends
// ------------------------------------------------------------------------------------------

/// A figure that can draw itself on any plotters backend.
trait Figure {
    /// Image size in pixels.
    fn size(&self) -> (u32, u32) {
        (WIDTH, HEIGHT)
    }
    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>) -> Result<(), ChartError>;
}

fn with_suffix(stem: &Path, ext: &str) -> PathBuf {
    let mut s = stem.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

fn render(stem: &Path, fig: &impl Figure) -> Result<(), ChartError> {
    register_fonts();
    let png = with_suffix(stem, "png");
    let svg = with_suffix(stem, "svg");
    if let Some(dir) = png.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| ChartError(format!("creating {}: {e}", dir.display())))?;
    }
    // SVG first, into memory: it fails on the same problems as the bitmap would, and then no
    // half-written file is left behind.
    let mut svg_text = String::new();
    {
        let root = SVGBackend::with_string(&mut svg_text, fig.size()).into_drawing_area();
        fig.draw(&Canvas { root: &root, bitmap: false })?;
        root.present().map_err(chart_err("finishing SVG"))?;
    }
    {
        let root = BitMapBackend::new(&png, fig.size()).into_drawing_area();
        fig.draw(&Canvas { root: &root, bitmap: true })?;
        root.present().map_err(|e| ChartError(format!("writing {}: {e}", png.display())))?;
    }
    std::fs::write(&svg, svg_text).map_err(|e| ChartError(format!("writing {}: {e}", svg.display())))
}

// ------------------------------------------------------------------------------------------
// Font metrics (from the embedded TTF) and text drawing
// ------------------------------------------------------------------------------------------

/// What the layout needs from the font, in font units, read with `ttf-parser` (the parser that
/// ab_glyph, and so plotters' text drawing, reads the font with: the numbers agree by
/// construction).
struct FontMetrics {
    face: ttf_parser::Face<'static>,
    units_per_em: f64,
    /// ascender − descender: ab_glyph's pixel scale is `size / height`.
    height: f64,
    cap_height: f64,
}

impl FontMetrics {
    fn parse(data: &'static [u8]) -> Option<FontMetrics> {
        let face = ttf_parser::Face::parse(data, 0).ok()?;
        let units_per_em = f64::from(face.units_per_em());
        let height = f64::from(face.height());
        if units_per_em <= 0.0 || height <= 0.0 {
            return None;
        }
        let cap_height = face.capital_height().map_or(0.7 * units_per_em, f64::from);
        Some(FontMetrics { face, units_per_em, height, cap_height })
    }

    /// The glyph for `c`; `.notdef` (0) when the font has none.
    fn glyph_id(&self, c: char) -> ttf_parser::GlyphId {
        self.face.glyph_index(c).unwrap_or(ttf_parser::GlyphId(0))
    }

    fn advance(&self, gid: ttf_parser::GlyphId) -> f64 {
        f64::from(self.face.glyph_hor_advance(gid).unwrap_or(0))
    }

    /// Left edge of the glyph's outline; 0 for empty glyphs (space).
    fn x_min(&self, gid: ttf_parser::GlyphId) -> f64 {
        self.face.glyph_bounding_box(gid).map_or(0.0, |b| f64::from(b.x_min))
    }
}

fn metrics() -> Option<&'static FontMetrics> {
    static METRICS: OnceLock<Option<FontMetrics>> = OnceLock::new();
    METRICS.get_or_init(|| FontMetrics::parse(ttf_noto_sans::REGULAR)).as_ref()
}

/// Width of `text` at em size `em`, in pixels (the layout uses this for both backends).
fn text_width_f(text: &str, em: f64) -> f64 {
    match metrics() {
        Some(m) => {
            let units: f64 = text.chars().map(|c| m.advance(m.glyph_id(c))).sum();
            units * em / m.units_per_em
        }
        None => text.chars().count() as f64 * 0.55 * em,
    }
}

fn text_width(text: &str, em: f64) -> i32 {
    text_width_f(text, em).ceil() as i32
}

fn cap_height(em: f64) -> f64 {
    metrics().map_or(0.72, |m| m.cap_height / m.units_per_em) * em
}

/// `text` shortened with an ellipsis so that it is at most `max_w` pixels wide.
fn fit_text(text: &str, em: f64, max_w: i32) -> String {
    if text_width(text, em) <= max_w {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    for n in (1..chars.len()).rev() {
        let s: String = chars[..n].iter().collect::<String>().trim_end().to_string() + "…";
        if text_width(&s, em) <= max_w {
            return s;
        }
    }
    "…".to_string()
}

/// `label` shortened in the middle (legend labels often differ only at the end, e.g.
/// "… target 60%" vs "… target 70%") so that it is at most `max_w` pixels wide.
fn fit_label(label: &str, em: f64, max_w: i32) -> String {
    if text_width(label, em) <= max_w {
        return label.to_string();
    }
    let chars: Vec<char> = label.chars().collect();
    for keep in (2..chars.len()).rev() {
        let tail = keep / 2;
        let head = keep - tail;
        let s: String = chars[..head].iter().chain(&['…']).chain(&chars[chars.len() - tail..]).collect();
        if text_width(&s, em) <= max_w {
            return s;
        }
    }
    fit_text(label, em, max_w)
}

/// The whole image plus how to draw text on it.
struct Canvas<'a, DB: DrawingBackend> {
    root: &'a DrawingArea<DB, Shift>,
    /// Bitmap: glyph-by-glyph placement (see the module docs). SVG: one `<text>` per string.
    bitmap: bool,
}

/// Orientation of a text.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Dir {
    Horizontal,
    /// Rotated 90° counter-clockwise (reads bottom to top), always centred on the anchor.
    Up,
}

impl<DB: DrawingBackend> Canvas<'_, DB> {
    /// Draws `text` with its anchor at `(x, y)`: horizontally per `h`, and with the middle of
    /// the capital letters on `y` (for `Dir::Up`, on `x`).
    fn text(&self, text: &str, em: f64, color: RGBColor, h: HPos, (x, y): (i32, i32), dir: Dir) -> Result<(), ChartError> {
        if text.is_empty() {
            return Ok(());
        }
        let e = || chart_err("drawing text");
        let trans = match dir {
            Dir::Horizontal => FontTransform::None,
            Dir::Up => FontTransform::Rotate270,
        };
        let h = if dir == Dir::Up { HPos::Center } else { h };
        match (self.bitmap, metrics()) {
            (true, Some(m)) => {
                // ab_glyph draws a size-`s` font with s px from descender to ascender and puts
                // the baseline s/2 below the anchor of a top-anchored text.
                let size = em * m.height / m.units_per_em;
                let scale = em / m.units_per_em;
                let style = TextStyle {
                    font: FontDesc::new(FontFamily::SansSerif, size, FontStyle::Normal).transform(trans),
                    color: color.to_backend_color(),
                    pos: Pos::new(HPos::Left, VPos::Top),
                };
                let width = text_width_f(text, em);
                let start = match h {
                    HPos::Left => 0.0,
                    HPos::Center => -width / 2.0,
                    HPos::Right => -width,
                };
                let baseline_off = cap_height(em) / 2.0 - size / 2.0;
                let mut pen = start;
                let mut buf = [0u8; 4];
                for c in text.chars() {
                    let gid = m.glyph_id(c);
                    if !c.is_whitespace() {
                        let bearing = (m.x_min(gid) * scale).floor() as i32;
                        let at = match dir {
                            Dir::Horizontal => ((x as f64 + pen).round() as i32 + bearing, (y as f64 + baseline_off).round() as i32),
                            Dir::Up => ((x as f64 + baseline_off).round() as i32, (y as f64 - pen).round() as i32 - bearing),
                        };
                        self.root.draw_text(c.encode_utf8(&mut buf), &style, at).map_err(e())?;
                    }
                    pen += m.advance(gid) * scale;
                }
                Ok(())
            }
            _ => {
                // SVG: plotters writes font-size = size / 1.24, so this makes it exactly `em`.
                // With VPos::Top the baseline is 0.76 em below the anchor; move it so that the
                // capitals are centred (cap height ≈ 0.714 em for Noto Sans).
                let style = TextStyle {
                    font: FontDesc::new(FontFamily::SansSerif, em * 1.24, FontStyle::Normal).transform(trans),
                    color: color.to_backend_color(),
                    pos: Pos::new(h, VPos::Top),
                };
                let shift = (0.76 * em - cap_height(em) / 2.0).round() as i32;
                let at = match dir {
                    Dir::Horizontal => (x, y - shift),
                    Dir::Up => (x - shift, y),
                };
                self.root.draw_text(text, &style, at).map_err(e())
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// Data preparation
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// Numeric sweep: band + line + markers.
    Sweep,
    /// Categorical sweep: markers + error bars.
    Categorical(Vec<String>),
    /// Time series: plain lines.
    Time,
}

/// Marker shapes, in the order series get them.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    Circle,
    Square,
    Triangle,
    Diamond,
    TriangleDown,
}

const SHAPES: [Shape; 5] = [Shape::Circle, Shape::Square, Shape::Triangle, Shape::Diamond, Shape::TriangleDown];

/// A data marker: a shape, filled or drawn as an outline. Alternating filled and open markers
/// keep two series visible where their points coincide (an open marker over a filled one shows
/// both), and the shapes differ without colour, in greyscale.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Marker {
    shape: Shape,
    filled: bool,
    /// Radius in pixels. Filled markers shrink from series to series, so where points
    /// coincide a later one sits inside an earlier one instead of hiding it; open markers are
    /// as large as the largest filled one and drawn last, around them.
    r: i32,
}

/// Line patterns, in the order series get them: with the marker shapes they tell series apart
/// in greyscale, and a dashed line over an identical solid one lets the solid one show through.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Dash {
    Solid,
    Dashed,
    Dotted,
    LongDashed,
}

const DASHES: [Dash; 4] = [Dash::Solid, Dash::Dashed, Dash::Dotted, Dash::LongDashed];

impl Dash {
    /// (dash length, gap) in pixels; `None` for a solid line.
    fn pattern(self) -> Option<(i32, i32)> {
        match self {
            Dash::Solid => None,
            Dash::Dashed => Some((10, 6)),
            Dash::Dotted => Some((3, 4)),
            Dash::LongDashed => Some((20, 6)),
        }
    }
}

/// Draws a polyline in pixel coordinates with a dash pattern.
fn draw_pattern<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    points: Vec<(i32, i32)>,
    dash: Dash,
    style: ShapeStyle,
) -> Result<(), ChartError> {
    let e = chart_err("drawing line");
    match dash.pattern() {
        None => root.draw(&PathElement::new(points, style)).map_err(e),
        Some((on, off)) => root.draw(&DashedPathElement::new(points, on, off, style)).map_err(e),
    }
}

/// A series reduced to drawable, finite pieces.
#[derive(Debug, Clone)]
struct Prepared {
    label: String,
    color: RGBColor,
    marker: Marker,
    dash: Dash,
    /// Polyline segments (broken at non-finite values).
    segments: Vec<Vec<(f64, f64)>>,
    /// Band segments `(x, low, high)` (broken where low or high is not finite).
    bands: Vec<Vec<(f64, f64, f64)>>,
}

/// Series `index`'s colour, marker and line pattern. The three cycle with different periods
/// (8, 5 shapes × filled/open, 4), so neighbouring series differ in all three and the
/// combination repeats only after 40 series.
fn style_for(index: usize) -> (RGBColor, Marker, Dash) {
    let color = PALETTE[index % PALETTE.len()];
    let filled = index.is_multiple_of(2);
    let r = if filled { MARKER_R + 2 - [0, 2, 3][index / 2 % 3] } else { MARKER_R + 2 };
    let marker = Marker { shape: SHAPES[index % SHAPES.len()], filled, r };
    (color, marker, DASHES[index % DASHES.len()])
}

impl Prepared {
    fn from_band(index: usize, s: &BandSeries, dodge: f64) -> Prepared {
        let mut pts: Vec<BandPoint> = s.points.iter().copied().filter(|p| p.x.is_finite()).collect();
        pts.sort_by(|a, b| a.x.total_cmp(&b.x)); // stable: equal x keep the caller's order
        let (mut segments, mut cur) = (Vec::new(), Vec::new());
        let (mut bands, mut band) = (Vec::new(), Vec::new());
        for p in &pts {
            let x = p.x + dodge;
            if p.mean.is_finite() {
                cur.push((x, p.mean));
            } else if !cur.is_empty() {
                segments.push(std::mem::take(&mut cur));
            }
            if p.low.is_finite() && p.high.is_finite() {
                band.push((x, p.low.min(p.high), p.low.max(p.high)));
            } else if !band.is_empty() {
                bands.push(std::mem::take(&mut band));
            }
        }
        if !cur.is_empty() {
            segments.push(cur);
        }
        if !band.is_empty() {
            bands.push(band);
        }
        let (color, marker, dash) = style_for(index);
        Prepared { label: s.label.clone(), color, marker, dash, segments, bands }
    }

    /// `steps`: each point holds its value until the next point's x (see [`step_points`]).
    fn from_line(index: usize, s: &LineSeries, steps: bool) -> Prepared {
        let (mut segments, mut cur) = (Vec::new(), Vec::new());
        for &(x, y) in &s.points {
            if x.is_finite() && y.is_finite() {
                cur.push((x, y));
            } else if !cur.is_empty() {
                segments.push(std::mem::take(&mut cur));
            }
        }
        if !cur.is_empty() {
            segments.push(cur);
        }
        if steps {
            segments = segments.iter().map(|seg| step_points(seg)).collect();
        }
        let (color, marker, dash) = style_for(index);
        Prepared { label: s.label.clone(), color, marker, dash, segments, bands: Vec::new() }
    }

    fn xs(&self) -> impl Iterator<Item = f64> + '_ {
        let a = self.segments.iter().flatten().map(|p| p.0);
        a.chain(self.bands.iter().flatten().map(|p| p.0))
    }

    fn ys(&self) -> impl Iterator<Item = f64> + '_ {
        let a = self.segments.iter().flatten().map(|p| p.1);
        a.chain(self.bands.iter().flatten().flat_map(|p| [p.1, p.2]))
    }

    fn is_empty(&self) -> bool {
        self.segments.is_empty() && self.bands.is_empty()
    }
}

/// Samples of a state that changes in jumps, as the corners of a step line: each value holds
/// until the next sample, where the line jumps to the next value.
///
/// `[(0, 1), (5, 3), (10, 2)]` → `[(0, 1), (5, 1), (5, 3), (10, 3), (10, 2)]`.
fn step_points(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(2 * points.len());
    for (i, &p) in points.iter().enumerate() {
        if i > 0 {
            out.push((p.0, points[i - 1].1));
        }
        out.push(p);
    }
    out
}

fn min_max(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

// ------------------------------------------------------------------------------------------
// Axes, ticks and number formatting
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Plain,
    Hours,
    Minutes,
}

fn unit_of(label: &str) -> Unit {
    let l = label.to_lowercase();
    if l.contains("[h]") || l.contains("(h)") || l.contains("hour") {
        Unit::Hours
    } else if l.contains("[min]") || l.contains("(min)") || l.contains("minute") {
        Unit::Minutes
    } else {
        Unit::Plain
    }
}

/// A "nice" tick step such that `span / step` is at most `max_intervals`.
fn nice_step(span: f64, max_intervals: usize, unit: Unit) -> f64 {
    let max_intervals = max_intervals.max(1) as f64;
    let fixed: &[f64] = match unit {
        Unit::Hours => &[0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 12.0, 24.0, 48.0, 72.0, 168.0],
        Unit::Minutes => &[1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 240.0, 360.0, 720.0],
        Unit::Plain => &[],
    };
    if let Some(&s) = fixed.iter().find(|&&s| span / s <= max_intervals + 1e-9)
        && span / s >= 1.0
    {
        return s;
    }
    let mag = 10f64.powf((span / max_intervals).log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|step| span / step <= max_intervals + 1e-9).unwrap_or(10.0 * mag)
}

/// Multiples of `step` inside `[lo, hi]`, computed as `k·step` (no accumulated error).
fn ticks_in(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let eps = step * 1e-9;
    let first = ((lo - eps) / step).ceil() as i64;
    let last = ((hi + eps) / step).floor() as i64;
    (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            if v.abs() < eps { 0.0 } else { v }
        })
        .collect()
}

/// Smallest number of decimals (≤ 6) that shows `v` exactly enough.
fn decimals_needed(v: f64) -> usize {
    (0..=6)
        .find(|&d| {
            let scaled = v * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0)
        })
        .unwrap_or(6)
}

/// How the tick values of one axis are printed.
#[derive(Debug, Clone, Copy)]
struct NumFmt {
    scale: f64,
    suffix: &'static str,
    decimals: usize,
    percent: bool,
}

impl NumFmt {
    fn for_ticks(ticks: &[f64], percent: bool) -> NumFmt {
        let max_abs = ticks.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let (scale, suffix) = if percent || max_abs < 1e4 {
            (1.0, "")
        } else if max_abs < 1e6 {
            (1e3, "k")
        } else if max_abs < 1e9 {
            (1e6, "M")
        } else {
            (1e9, "G")
        };
        let decimals = ticks.iter().map(|v| decimals_needed(v / scale)).max().unwrap_or(0);
        NumFmt { scale, suffix, decimals, percent }
    }

    fn format(&self, v: f64) -> String {
        let mut s = format!("{:.*}", self.decimals, v / self.scale);
        if s.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
            return "0".to_string(); // not "-0", "0.00", "0k" or "0%"
        }
        s.push_str(self.suffix);
        if self.percent {
            s.push('%');
        }
        s
    }
}

/// One axis: range, tick positions and their labels.
#[derive(Debug, Clone)]
struct Axis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    labels: Vec<String>,
}

impl Axis {
    fn numeric(lo: f64, hi: f64, max_intervals: usize, unit: Unit, percent: bool) -> Axis {
        let step = nice_step(hi - lo, max_intervals, unit);
        Axis::with_ticks(lo, hi, ticks_in(lo, hi, step), percent)
    }

    fn with_ticks(lo: f64, hi: f64, ticks: Vec<f64>, percent: bool) -> Axis {
        let fmt = NumFmt::for_ticks(&ticks, percent);
        let labels = ticks.iter().map(|&t| fmt.format(t)).collect();
        Axis { lo, hi, ticks, labels }
    }

    fn widest_label(&self, em: f64) -> i32 {
        self.labels.iter().map(|l| text_width(l, em)).max().unwrap_or(0)
    }

    fn ranged(&self) -> TickedAxis {
        TickedAxis { lo: self.lo, hi: self.hi, ticks: self.ticks.clone() }
    }
}

/// A linear f64 axis whose grid lines are exactly the given ticks (no minor lines), mapped to
/// the nearest pixel. (plotters' `(lo..hi).with_key_points(..)` cannot be used: `configure_mesh`
/// needs a default value formatter, which plotters' f64 axis lacks.)
#[derive(Debug, Clone)]
struct TickedAxis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for TickedAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let t = (v - self.lo) / (self.hi - self.lo);
        if !t.is_finite() {
            return limit.0;
        }
        limit.0 + (t * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// Y data range → axis range: 0 included (a non-negative metric starts at 0), headroom on the
/// side(s) away from 0, and a sensible range for constant or missing data.
fn y_extent(data: Option<(f64, f64)>) -> (f64, f64) {
    let Some((min, max)) = data else {
        return (0.0, 1.0);
    };
    let (top, bottom) = (max.max(0.0), min.min(0.0));
    let span = top - bottom;
    if !span.is_finite() || span <= f64::MIN_POSITIVE * 1e3 {
        return (0.0, 1.0);
    }
    let lo = if bottom < 0.0 { bottom - HEADROOM * span } else { 0.0 };
    let hi = if top > 0.0 { top + HEADROOM * span } else { 0.0 };
    (lo, hi)
}

/// The y axis of a time-series panel: from 0 for counts and percentages (whatever the data),
/// with whole-number ticks for counts.
fn panel_y_axis(values: PanelValues, data: Option<(f64, f64)>, max_intervals: usize, percent: bool) -> Axis {
    let (lo, hi) = y_extent(data);
    match values {
        PanelValues::Level => Axis::numeric(lo, hi, max_intervals, Unit::Plain, percent),
        PanelValues::Percent => Axis::numeric(0.0, hi.max(1.0), max_intervals, Unit::Plain, percent),
        PanelValues::Count => {
            let hi = hi.max(1.0);
            let step = nice_step(hi, max_intervals, Unit::Plain);
            // No "2.5 tasks": below 1 the step is 1, and 2.5 becomes 5 (fewer, whole ticks).
            let step = if step < 1.0 {
                1.0
            } else if step.fract() != 0.0 {
                2.0 * step
            } else {
                step
            };
            Axis::with_ticks(0.0, hi, ticks_in(0.0, hi, step), percent)
        }
    }
}

fn percent_axis(label: &str) -> bool {
    label.contains('%')
}

// ------------------------------------------------------------------------------------------
// Legend
// ------------------------------------------------------------------------------------------

const LEGEND_PAD: i32 = 10;
/// Radius of data markers, in pixels.
const MARKER_R: i32 = 5;
const LEGEND_SWATCH: i32 = 34;
const LEGEND_GAP: i32 = 8;
const LEGEND_ROW: i32 = 24;
/// Gap between an inside legend and the plot border, in pixels.
const LEGEND_MARGIN: i32 = 12;

/// Legend box size in pixels for `rows` rows of these (already fitted) labels.
fn legend_size(labels: &[String], rows: usize) -> (i32, i32) {
    let w = labels.iter().map(|l| text_width(l, LEGEND_EM)).max().unwrap_or(0);
    (2 * LEGEND_PAD + LEGEND_SWATCH + LEGEND_GAP + w, 2 * LEGEND_PAD - 4 + rows as i32 * LEGEND_ROW)
}

/// How many legend rows fit in `height` pixels (at least 1).
fn legend_rows_fitting(height: i32) -> usize {
    ((height - 2 * LEGEND_PAD + 4) / LEGEND_ROW).max(1) as usize
}

/// The outline of a marker shape of radius `r` around `(x, y)`, as a closed polygon (`None`
/// for the circle, which plotters draws itself).
fn shape_outline(shape: Shape, (x, y): (i32, i32), r: i32) -> Option<Vec<(i32, i32)>> {
    match shape {
        Shape::Circle => None,
        Shape::Square => {
            let q = r * 9 / 10;
            Some(vec![(x - q, y - q), (x + q, y - q), (x + q, y + q), (x - q, y + q)])
        }
        Shape::Triangle => {
            let t = r * 6 / 5;
            Some(vec![(x, y - t), (x + t, y + t * 3 / 4), (x - t, y + t * 3 / 4)])
        }
        Shape::TriangleDown => {
            let t = r * 6 / 5;
            Some(vec![(x, y + t), (x - t, y - t * 3 / 4), (x + t, y - t * 3 / 4)])
        }
        Shape::Diamond => {
            let d = r * 5 / 4;
            Some(vec![(x, y - d), (x + d, y), (x, y + d), (x - d, y)])
        }
    }
}

/// The parts of a marker, drawn in this order over all markers of a plot so that no marker's
/// white halo erases another marker.
#[derive(Debug, Clone, Copy, PartialEq)]
enum MarkerPart {
    /// The white halo under a filled marker, separating it from lines and bands.
    Halo,
    /// A filled marker's shape.
    Fill,
    /// An open marker: a 2 px outline on a thin white one, leaving what is inside visible.
    Outline,
}

/// Draws one part of a marker (nothing when the part does not belong to this kind of marker).
fn draw_marker_part<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    marker: Marker,
    color: RGBColor,
    at: (i32, i32),
    part: MarkerPart,
) -> Result<(), ChartError> {
    let e = || chart_err("drawing marker");
    let r = marker.r;
    let outline = |r: i32| shape_outline(marker.shape, at, r).unwrap_or_default();
    match (part, marker.filled, marker.shape) {
        (MarkerPart::Halo, true, Shape::Circle) => root.draw(&Circle::new(at, r + 1, WHITE.filled())).map_err(e()),
        (MarkerPart::Halo, true, _) => root.draw(&Polygon::new(outline(r + 2), WHITE.filled())).map_err(e()),
        (MarkerPart::Fill, true, Shape::Circle) => root.draw(&Circle::new(at, r, color.filled())).map_err(e()),
        (MarkerPart::Fill, true, _) => root.draw(&Polygon::new(outline(r), color.filled())).map_err(e()),
        (MarkerPart::Outline, false, Shape::Circle) => {
            root.draw(&Circle::new(at, r, WHITE.stroke_width(3))).map_err(e())?;
            root.draw(&Circle::new(at, r, color.stroke_width(2))).map_err(e())
        }
        (MarkerPart::Outline, false, _) => {
            let mut closed = outline(r);
            closed.push(closed[0]);
            root.draw(&PathElement::new(closed.clone(), WHITE.stroke_width(3))).map_err(e())?;
            root.draw(&PathElement::new(closed, color.stroke_width(2))).map_err(e())
        }
        _ => Ok(()),
    }
}

/// Draws a whole marker (for a legend swatch).
fn draw_marker<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    marker: Marker,
    color: RGBColor,
    at: (i32, i32),
) -> Result<(), ChartError> {
    for part in [MarkerPart::Halo, MarkerPart::Fill, MarkerPart::Outline] {
        draw_marker_part(root, marker, color, at, part)?;
    }
    Ok(())
}

/// Draws a legend box with its top-left corner at `(x, y)`, showing at most `max_rows` rows
/// (the last one says "+N more" when not all series fit).
fn draw_legend<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    (x, y): (i32, i32),
    series: &[&Prepared],
    labels: &[String],
    kind: &Kind,
    max_rows: usize,
) -> Result<(), ChartError> {
    let root = canvas.root;
    let e = || chart_err("drawing legend");
    let n = series.len();
    let shown = if n > max_rows { max_rows.saturating_sub(1) } else { n };
    let rows = if n > max_rows { shown + 1 } else { n };
    let (w, h) = legend_size(labels, rows);
    root.draw(&Rectangle::new([(x, y), (x + w, y + h)], LEGEND_BG.mix(0.92).filled())).map_err(e())?;
    root.draw(&Rectangle::new([(x, y), (x + w, y + h)], LEGEND_BORDER.stroke_width(1))).map_err(e())?;
    let row_y = |i: usize| y + LEGEND_PAD - 2 + i as i32 * LEGEND_ROW + LEGEND_ROW / 2;
    for (i, (s, label)) in series.iter().zip(labels).take(shown).enumerate() {
        let cy = row_y(i);
        let x0 = x + LEGEND_PAD;
        let x1 = x0 + LEGEND_SWATCH;
        let mid = (x0 + x1) / 2;
        // The swatch shows what the plot draws: the band or error bar only where there is one.
        let has_band = !s.bands.is_empty();
        match kind {
            Kind::Sweep => {
                if has_band {
                    root.draw(&Rectangle::new([(x0, cy - 7), (x1, cy + 7)], s.color.mix(BAND_ALPHA).filled())).map_err(e())?;
                }
                draw_pattern(root, vec![(x0, cy), (x1, cy)], s.dash, s.color.stroke_width(3))?;
                draw_marker(root, s.marker, s.color, (mid, cy))?;
            }
            Kind::Categorical(_) => {
                if has_band {
                    let st = s.color.stroke_width(2);
                    root.draw(&PathElement::new(vec![(mid, cy - 9), (mid, cy + 9)], st)).map_err(e())?;
                    for yy in [cy - 9, cy + 9] {
                        root.draw(&PathElement::new(vec![(mid - 5, yy), (mid + 5, yy)], st)).map_err(e())?;
                    }
                }
                draw_marker(root, s.marker, s.color, (mid, cy))?;
            }
            Kind::Time => draw_pattern(root, vec![(x0, cy), (x1, cy)], s.dash, s.color.stroke_width(3))?,
        }
        canvas.text(label, LEGEND_EM, TEXT_COLOR, HPos::Left, (x1 + LEGEND_GAP, cy), Dir::Horizontal)?;
    }
    if shown < n {
        canvas.text(
            &format!("+{} more", n - shown),
            LEGEND_EM,
            NOTE_COLOR,
            HPos::Left,
            (x + LEGEND_PAD + LEGEND_SWATCH + LEGEND_GAP, row_y(shown)),
            Dir::Horizontal,
        )?;
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum LegendPos {
    None,
    UpperLeft,
    UpperRight,
    Outside,
}

/// Chooses where the legend goes and the final top of the y range, given the plot's and the
/// legend's pixel sizes. Returns `(position, y_hi)`.
fn place_legend(
    series: &[&Prepared],
    (xlo, xhi): (f64, f64),
    (ylo, yhi): (f64, f64),
    plot: (i32, i32),
    legend: (i32, i32),
) -> (LegendPos, f64) {
    let (pw, ph) = (plot.0.max(1) as f64, plot.1.max(1) as f64);
    let lw = (legend.0 + 2 * LEGEND_MARGIN) as f64;
    let lh = (legend.1 + 2 * LEGEND_MARGIN) as f64;
    if series.len() > MAX_INSIDE_LEGEND || lw > 0.45 * pw || lh > 0.6 * ph {
        return (LegendPos::Outside, yhi);
    }
    // Highest data value under the legend's x extent, per corner. Lines and band edges are
    // sampled between points so that a segment passing under the legend counts too.
    let to_px = |xv: f64| (xv - xlo) / (xhi - xlo) * pw;
    let (mut top_left, mut top_right) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    let mut note = |xv: f64, yv: f64| {
        let px = to_px(xv);
        if px <= lw {
            top_left = top_left.max(yv);
        }
        if px >= pw - lw {
            top_right = top_right.max(yv);
        }
    };
    let mut trace = |pts: &mut dyn Iterator<Item = (f64, f64)>| {
        let mut prev: Option<(f64, f64)> = None;
        for b in pts {
            match prev {
                None => note(b.0, b.1),
                Some(a) => {
                    let steps = ((to_px(b.0) - to_px(a.0)).abs() / 4.0).ceil().clamp(1.0, 64.0) as usize;
                    for k in 1..=steps {
                        let t = k as f64 / steps as f64;
                        note(a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
                    }
                }
            }
            prev = Some(b);
        }
    };
    for s in series {
        for seg in &s.segments {
            trace(&mut seg.iter().copied());
        }
        for band in &s.bands {
            trace(&mut band.iter().map(|p| (p.0, p.2)));
        }
    }
    // The legend takes the top `f` of the plot height; the data must stay below it:
    // (hi − top) / (hi − lo) ≥ f  ⇔  hi ≥ (top − f·lo) / (1 − f).
    let f = (lh / ph).min(0.95);
    let needed_hi = |top: f64| {
        if top == f64::NEG_INFINITY { yhi } else { yhi.max((top - f * ylo) / (1.0 - f)) }
    };
    let (hi_l, hi_r) = (needed_hi(top_left), needed_hi(top_right));
    let (pos, hi) = if hi_r <= hi_l { (LegendPos::UpperRight, hi_r) } else { (LegendPos::UpperLeft, hi_l) };
    if hi - ylo > MAX_LEGEND_STRETCH * (yhi - ylo) { (LegendPos::Outside, yhi) } else { (pos, hi) }
}

// ------------------------------------------------------------------------------------------
// One plot (axes + series) inside a given area
// ------------------------------------------------------------------------------------------

struct PlotSpec<'a> {
    kind: &'a Kind,
    series: &'a [&'a Prepared],
    x_axis: &'a Axis,
    y_axis: &'a Axis,
    /// X tick labels and description under the plot (None: shared axis drawn elsewhere).
    x_desc: Option<&'a str>,
    y_desc: &'a str,
    /// Em size of the axis descriptions.
    desc_em: f64,
    x_label_area: i32,
    y_label_area: i32,
}

const TICK_MARK: i32 = 5;
const TICK_GAP: i32 = 6;

/// Width of the y label area for these tick labels and description size.
fn y_label_area_width(axis: &Axis, desc_em: f64) -> i32 {
    (1.1 * desc_em).ceil() as i32 + 12 + axis.widest_label(TICK_EM) + TICK_GAP + TICK_MARK
}

fn x_label_area_height() -> i32 {
    TICK_MARK + TICK_GAP + (1.1 * TICK_EM) as i32 + 10 + (1.3 * AXIS_EM) as i32
}

/// Draws axes, grid, tick labels, descriptions and series; returns the plotting area's pixel
/// rectangle `(x0, y0, x1, y1)` in image coordinates.
fn draw_plot<DB: DrawingBackend>(
    canvas: &Canvas<'_, DB>,
    area: &DrawingArea<DB, Shift>,
    spec: &PlotSpec<'_>,
) -> Result<(i32, i32, i32, i32), ChartError> {
    let (x_axis, y_axis) = (spec.x_axis, spec.y_axis);
    let mut chart = ChartBuilder::on(area)
        .x_label_area_size(spec.x_label_area)
        .y_label_area_size(spec.y_label_area)
        .build_cartesian_2d(x_axis.ranged(), y_axis.ranged())
        .map_err(chart_err("building chart"))?;
    // plotters draws grid, axis lines and tick marks; labels are drawn below (see module docs).
    let hidden = TextStyle {
        font: FontDesc::new(FontFamily::SansSerif, 10.0, FontStyle::Normal),
        color: TRANSPARENT.to_backend_color(),
        pos: Pos::new(HPos::Center, VPos::Center),
    };
    let no_label = |_: &f64| String::new();
    chart
        .configure_mesh()
        .bold_line_style(GRID_COLOR.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS_COLOR.stroke_width(1))
        .set_all_tick_mark_size(TICK_MARK)
        .label_style(hidden)
        .x_label_formatter(&no_label)
        .y_label_formatter(&no_label)
        .draw()
        .map_err(chart_err("drawing axes"))?;

    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let rect = (xr.start, yr.start, xr.end, yr.end);
    let (area_x0, _) = area.get_base_pixel();
    let area_y1 = area.get_base_pixel().1 + area.dim_in_pixel().1 as i32;

    // Tick labels and axis descriptions.
    for (t, label) in y_axis.ticks.iter().zip(&y_axis.labels) {
        let py = chart.backend_coord(&(x_axis.lo, *t)).1;
        canvas.text(label, TICK_EM, TICK_COLOR, HPos::Right, (rect.0 - TICK_MARK - TICK_GAP, py), Dir::Horizontal)?;
    }
    let y_desc_x = area_x0 + (0.55 * spec.desc_em).round() as i32 + 2;
    canvas.text(spec.y_desc, spec.desc_em, TEXT_COLOR, HPos::Center, (y_desc_x, (rect.1 + rect.3) / 2), Dir::Up)?;
    if let Some(desc) = spec.x_desc {
        let ty = rect.3 + TICK_MARK + TICK_GAP + (cap_height(TICK_EM) / 2.0).round() as i32 + 2;
        for (t, label) in x_axis.ticks.iter().zip(&x_axis.labels) {
            let px = chart.backend_coord(&(*t, y_axis.lo)).0;
            canvas.text(label, TICK_EM, TICK_COLOR, HPos::Center, (px, ty), Dir::Horizontal)?;
        }
        canvas.text(
            desc,
            spec.desc_em,
            TEXT_COLOR,
            HPos::Center,
            ((rect.0 + rect.2) / 2, area_y1 - (0.45 * spec.desc_em).round() as i32 - 2),
            Dir::Horizontal,
        )?;
    }

    if y_axis.lo < 0.0 && y_axis.hi > 0.0 {
        // Emphasise the zero line when the data crosses it.
        chart
            .draw_series(std::iter::once(PathElement::new(vec![(x_axis.lo, 0.0), (x_axis.hi, 0.0)], AXIS_COLOR.stroke_width(1))))
            .map_err(chart_err("drawing zero line"))?;
    }
    let clamp_y = |v: f64| v.clamp(y_axis.lo, y_axis.hi);
    // Bands first (all series), then lines, then markers, so that nothing hides a line.
    for s in spec.series {
        match spec.kind {
            Kind::Sweep => {
                for band in s.bands.iter().filter(|b| b.len() >= 2) {
                    let mut poly: Vec<(f64, f64)> = band.iter().map(|p| (p.0, clamp_y(p.1))).collect();
                    poly.extend(band.iter().rev().map(|p| (p.0, clamp_y(p.2))));
                    chart
                        .draw_series(std::iter::once(Polygon::new(poly, s.color.mix(BAND_ALPHA).filled())))
                        .map_err(chart_err("drawing band"))?;
                }
            }
            Kind::Categorical(_) => {
                let half_cap = 7.0 * (x_axis.hi - x_axis.lo) / (rect.2 - rect.0).max(1) as f64;
                let st = s.color.stroke_width(2);
                for p in s.bands.iter().flatten() {
                    let (x, lo, hi) = (p.0, clamp_y(p.1), clamp_y(p.2));
                    let lines = [
                        vec![(x, lo), (x, hi)],
                        vec![(x - half_cap, lo), (x + half_cap, lo)],
                        vec![(x - half_cap, hi), (x + half_cap, hi)],
                    ];
                    chart.draw_series(lines.into_iter().map(|l| PathElement::new(l, st))).map_err(chart_err("drawing error bar"))?;
                }
            }
            Kind::Time => {}
        }
    }
    for s in spec.series {
        let width = match spec.kind {
            Kind::Sweep => 3,
            Kind::Time => 2,
            Kind::Categorical(_) => continue,
        };
        for seg in &s.segments {
            if seg.len() >= 2 {
                let style = s.color.stroke_width(width);
                match s.dash.pattern() {
                    None => chart.draw_series(std::iter::once(PathElement::new(seg.clone(), style))),
                    Some((on, off)) => chart.draw_series(std::iter::once(DashedPathElement::new(seg.clone(), on, off, style))),
                }
                .map_err(chart_err("drawing line"))?;
            } else if *spec.kind == Kind::Time {
                // An isolated point between gaps would be invisible as a line.
                chart.draw_series(std::iter::once(Circle::new(seg[0], 2, s.color.filled()))).map_err(chart_err("drawing point"))?;
            }
        }
    }
    if *spec.kind != Kind::Time {
        // All halos, then filled markers (large to small), then open ones around them.
        for part in [MarkerPart::Halo, MarkerPart::Fill, MarkerPart::Outline] {
            for s in spec.series {
                for &p in s.segments.iter().flatten() {
                    draw_marker_part(canvas.root, s.marker, s.color, chart.backend_coord(&p), part)?;
                }
            }
        }
    }
    if spec.series.iter().all(|s| s.is_empty()) {
        let (cx, cy) = ((rect.0 + rect.2) / 2, (rect.1 + rect.3) / 2);
        let (hw, hh) = (text_width("no data", NOTE_EM) / 2 + 10, (0.6 * NOTE_EM) as i32 + 4);
        canvas.root.draw(&Rectangle::new([(cx - hw, cy - hh), (cx + hw, cy + hh)], WHITE.filled())).map_err(chart_err("drawing note"))?;
        canvas.text("no data", NOTE_EM, NOTE_COLOR, HPos::Center, ((rect.0 + rect.2) / 2, (rect.1 + rect.3) / 2), Dir::Horizontal)?;
    }
    Ok(rect)
}

// ------------------------------------------------------------------------------------------
// Single-plot figures (sweep and time series)
// ------------------------------------------------------------------------------------------

struct SingleFigure {
    text: ChartText,
    kind: Kind,
    series: Vec<Prepared>,
}

const TITLE_BAND: i32 = 64;
const OUTER_MARGIN: i32 = 16;

/// Extra height of the title band when there is a subtitle.
const SUBTITLE_BAND: i32 = 22;

/// Draws the title (and the subtitle under it, if any); returns the height of the title band.
fn draw_title<DB: DrawingBackend>(canvas: &Canvas<'_, DB>, title: &str, subtitle: &str) -> Result<i32, ChartError> {
    let t = fit_text(title, TITLE_EM, WIDTH as i32 - 2 * OUTER_MARGIN);
    if subtitle.is_empty() {
        canvas.text(&t, TITLE_EM, TEXT_COLOR, HPos::Center, (WIDTH as i32 / 2, 32), Dir::Horizontal)?;
        return Ok(TITLE_BAND);
    }
    canvas.text(&t, TITLE_EM, TEXT_COLOR, HPos::Center, (WIDTH as i32 / 2, 28), Dir::Horizontal)?;
    let sub = fit_text(subtitle, SUBTITLE_EM, WIDTH as i32 - 2 * OUTER_MARGIN);
    canvas.text(&sub, SUBTITLE_EM, TICK_COLOR, HPos::Center, (WIDTH as i32 / 2, 62), Dir::Horizontal)?;
    Ok(TITLE_BAND + SUBTITLE_BAND)
}

impl SingleFigure {
    fn x_axis(&self, plot_w: i32) -> Axis {
        let xs = min_max(self.series.iter().flat_map(|s| s.xs()));
        if let Kind::Categorical(cats) = &self.kind {
            let n = cats.len().max(1) as f64;
            let (mut lo, mut hi) = (-0.5f64, n - 0.5);
            if let Some((a, b)) = xs {
                lo = lo.min(a - 0.5);
                hi = hi.max(b + 0.5);
            }
            let slot = plot_w as f64 / (hi - lo);
            return Axis {
                lo,
                hi,
                ticks: (0..cats.len()).map(|i| i as f64).collect(),
                labels: cats.iter().map(|c| fit_text(c, TICK_EM, (slot - 8.0).max(20.0) as i32)).collect(),
            };
        }
        let unit = unit_of(&self.text.x_label);
        let percent = percent_axis(&self.text.x_label);
        let max_ticks = ((plot_w / 100) as usize).clamp(3, 12);
        let Some((a, b)) = xs else {
            return Axis::numeric(0.0, 1.0, max_ticks, unit, false);
        };
        if self.kind == Kind::Time {
            let (a, b) = if b > a { (a, b) } else { (a - 1.0, a + 1.0) };
            return Axis::numeric(a, b, max_ticks, unit, percent);
        }
        // Sweep: pad so end markers are not cut; ticks at the swept values when they fit.
        let pad = if b > a { 0.05 * (b - a) } else { (0.1 * a.abs()).max(0.5) };
        let (lo, hi) = (a - pad, b + pad);
        let mut distinct: Vec<f64> = self.series.iter().flat_map(|s| s.xs()).collect();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup_by(|p, q| (*p - *q).abs() <= 1e-9 * (hi - lo));
        if distinct.len() <= 12 {
            let axis = Axis::with_ticks(lo, hi, distinct.clone(), percent);
            let px_per_unit = plot_w as f64 / (hi - lo);
            let min_gap = distinct.windows(2).map(|w| (w[1] - w[0]) * px_per_unit).fold(f64::INFINITY, f64::min);
            if min_gap >= (axis.widest_label(TICK_EM) + 12) as f64 {
                return axis;
            }
        }
        Axis::numeric(lo, hi, max_ticks, unit, percent)
    }
}

impl Figure for SingleFigure {
    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>) -> Result<(), ChartError> {
        let root = canvas.root;
        root.fill(&WHITE).map_err(chart_err("filling background"))?;
        let title_band = draw_title(canvas, &self.text.title, &self.text.subtitle)?;

        // Everything under the title; the right margin is a bit wider so that the last x tick
        // label is never clipped.
        let body = root.margin(title_band, OUTER_MARGIN, OUTER_MARGIN, OUTER_MARGIN + 14);
        let (body_w, body_h) = body.dim_in_pixel();
        let (body_w, body_h) = (body_w as i32, body_h as i32);
        let series: Vec<&Prepared> = self.series.iter().collect();
        let labels: Vec<String> = series.iter().map(|s| fit_label(&s.label, LEGEND_EM, 300)).collect();
        let legend = legend_size(&labels, labels.len());
        let xla = x_label_area_height();
        let plot_h = body_h - xla;
        let max_y_ticks = ((plot_h / 55) as usize).clamp(3, 10);
        let percent = percent_axis(&self.text.y_label);
        let (ylo, yhi) = y_extent(min_max(series.iter().flat_map(|s| s.ys())));

        // Provisional layout (legend inside) to size the plot; then place the legend, which may
        // raise the top of the y range or move the legend outside.
        let prelim = Axis::numeric(ylo, yhi, max_y_ticks, Unit::Plain, percent);
        let plot_w0 = body_w - y_label_area_width(&prelim, AXIS_EM);
        let x0 = self.x_axis(plot_w0);
        let (pos, yhi) = if labels.is_empty() {
            (LegendPos::None, yhi)
        } else {
            place_legend(&series, (x0.lo, x0.hi), (ylo, yhi), (plot_w0, plot_h), legend)
        };
        let plot_area =
            if pos == LegendPos::Outside { body.split_horizontally(body_w - legend.0 - 2 * LEGEND_MARGIN).0 } else { body.clone() };
        let y_axis = Axis::numeric(ylo, yhi, max_y_ticks, Unit::Plain, percent);
        let yla = y_label_area_width(&y_axis, AXIS_EM);
        let plot_w = plot_area.dim_in_pixel().0 as i32 - yla;
        let x_axis = self.x_axis(plot_w);
        let y_desc = fit_text(&self.text.y_label, AXIS_EM, plot_h - 10);
        let x_desc = fit_text(&self.text.x_label, AXIS_EM, plot_w - 10);
        let rect = draw_plot(
            canvas,
            &plot_area,
            &PlotSpec {
                kind: &self.kind,
                series: &series,
                x_axis: &x_axis,
                y_axis: &y_axis,
                x_desc: Some(&x_desc),
                y_desc: &y_desc,
                desc_em: AXIS_EM,
                x_label_area: xla,
                y_label_area: yla,
            },
        )?;
        let m = LEGEND_MARGIN;
        let at = match pos {
            LegendPos::UpperLeft => Some((rect.0 + m, rect.1 + m)),
            LegendPos::UpperRight => Some((rect.2 - m - legend.0, rect.1 + m)),
            LegendPos::Outside => Some((rect.2 + 2 * m, rect.1)),
            LegendPos::None => None,
        };
        if let Some(at) = at {
            let rows = legend_rows_fitting(rect.3 - rect.1);
            draw_legend(canvas, at, &series, &labels, &self.kind, rows)?;
        }
        Ok(())
    }
}

// ------------------------------------------------------------------------------------------
// Stacked panels
// ------------------------------------------------------------------------------------------

struct PanelFigure {
    title: String,
    x_label: String,
    panels: Vec<(ChartText, PanelValues, Vec<Prepared>)>,
}

const PANEL_TITLE_BAND: i32 = 30;
const PANEL_GAP: i32 = 12;
/// Panels that fit in [`HEIGHT`]; each further one makes the image this much taller (a panel
/// title band, a gap and a plot as high as with four panels).
const PANELS_IN_HEIGHT: usize = 4;
const EXTRA_PANEL_HEIGHT: u32 = 150;

impl Figure for PanelFigure {
    fn size(&self) -> (u32, u32) {
        let extra = self.panels.len().saturating_sub(PANELS_IN_HEIGHT) as u32;
        (WIDTH, HEIGHT + extra * EXTRA_PANEL_HEIGHT)
    }

    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<'_, DB>) -> Result<(), ChartError> {
        let root = canvas.root;
        root.fill(&WHITE).map_err(chart_err("filling background"))?;
        draw_title(canvas, &self.title, "")?;
        let top = TITLE_BAND - 8;
        let body = root.margin(top, OUTER_MARGIN, OUTER_MARGIN, OUTER_MARGIN + 14);
        let (body_w, body_h) = body.dim_in_pixel();
        let (body_w, body_h) = (body_w as i32, body_h as i32);
        if self.panels.is_empty() {
            return canvas.text("no data", NOTE_EM, NOTE_COLOR, HPos::Center, (WIDTH as i32 / 2, top + body_h / 2), Dir::Horizontal);
        }
        let n = self.panels.len() as i32;
        let xla = x_label_area_height();
        // Each panel: title band + plot, a gap between panels, the x axis under the last one.
        let plot_h = ((body_h - xla - n * PANEL_TITLE_BAND - (n - 1) * PANEL_GAP) / n).max(20);
        let max_y_ticks = ((plot_h / 30) as usize).clamp(2, 6);

        // One legend column for all panels (same width, so the plots align).
        let labels: Vec<Vec<String>> =
            self.panels.iter().map(|(_, _, s)| s.iter().map(|p| fit_label(&p.label, LEGEND_EM, 240)).collect()).collect();
        let legend_w = labels.iter().filter(|l| !l.is_empty()).map(|l| legend_size(l, l.len()).0).max().unwrap_or(0);
        let legend_col = if legend_w > 0 { legend_w + 2 * LEGEND_MARGIN } else { 0 };

        let y_axes: Vec<Axis> = self
            .panels
            .iter()
            .map(|(t, values, s)| panel_y_axis(*values, min_max(s.iter().flat_map(|p| p.ys())), max_y_ticks, percent_axis(&t.y_label)))
            .collect();
        let yla = y_axes.iter().map(|a| y_label_area_width(a, PANEL_AXIS_EM)).max().unwrap_or(60);
        let plot_w = body_w - legend_col - yla;

        // Shared x axis.
        let unit = unit_of(&self.x_label);
        let max_x_ticks = ((plot_w / 100) as usize).clamp(3, 12);
        let xs = min_max(self.panels.iter().flat_map(|(_, _, s)| s.iter().flat_map(|p| p.xs())));
        let x_axis = match xs {
            Some((a, b)) if b > a => Axis::numeric(a, b, max_x_ticks, unit, percent_axis(&self.x_label)),
            Some((a, _)) => Axis::numeric(a - 1.0, a + 1.0, max_x_ticks, unit, false),
            None => Axis::numeric(0.0, 1.0, max_x_ticks, unit, false),
        };
        let x_desc = fit_text(&self.x_label, PANEL_AXIS_EM, plot_w - 10);

        let mut y = 0;
        for (i, ((text, _, series), y_axis)) in self.panels.iter().zip(&y_axes).enumerate() {
            let last = i as i32 == n - 1;
            let h = PANEL_TITLE_BAND + plot_h + if last { xla } else { 0 };
            let panel = body.margin(y, (body_h - y - h).max(0), 0, 0);
            let plot_area = panel.margin(PANEL_TITLE_BAND, 0, 0, 0).split_horizontally(body_w - legend_col).0;
            let title = fit_text(&text.title, PANEL_TITLE_EM, plot_w);
            canvas.text(
                &title,
                PANEL_TITLE_EM,
                TEXT_COLOR,
                HPos::Left,
                (OUTER_MARGIN + yla, top + y + PANEL_TITLE_BAND / 2 + 2),
                Dir::Horizontal,
            )?;
            // Shrink a long y description before cutting it.
            let mut desc_em = PANEL_AXIS_EM;
            while desc_em > 11.0 && text_width(&text.y_label, desc_em) > plot_h - 4 {
                desc_em -= 1.0;
            }
            let y_desc = fit_text(&text.y_label, desc_em, plot_h - 4);
            let refs: Vec<&Prepared> = series.iter().collect();
            let rect = draw_plot(
                canvas,
                &plot_area,
                &PlotSpec {
                    kind: &Kind::Time,
                    series: &refs,
                    x_axis: &x_axis,
                    y_axis,
                    x_desc: if last { Some(&x_desc) } else { None },
                    y_desc: &y_desc,
                    desc_em,
                    x_label_area: if last { xla } else { 0 },
                    y_label_area: yla,
                },
            )?;
            if !labels[i].is_empty() {
                // The legend column is free beside the panel's title band too.
                let top = rect.1 - PANEL_TITLE_BAND + 6;
                let rows = legend_rows_fitting(rect.3 - top);
                let at = (rect.2 + 2 * LEGEND_MARGIN, top);
                draw_legend(canvas, at, &refs, &labels[i], &Kind::Time, rows)?;
            }
            y += h + PANEL_GAP;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &Path) -> Vec<u8> {
        std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Checks the PNG signature and reads width/height from the IHDR chunk.
    fn png_size(bytes: &[u8]) -> (u32, u32) {
        assert!(bytes.len() > 33, "PNG too short");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
        assert_eq!(&bytes[12..16], b"IHDR", "first chunk is IHDR");
        let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
        (w, h)
    }

    /// Contents of every `<text ...>...</text>` element, XML entities decoded.
    fn svg_texts(svg: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find("<text") {
            let after = &rest[start..];
            let Some(gt) = after.find('>') else { break };
            let Some(end) = after.find("</text>") else {
                break;
            };
            out.push(
                after[gt + 1..end]
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&apos;", "'")
                    .replace("&amp;", "&")
                    .trim()
                    .to_string(),
            );
            rest = &after[end + 7..];
        }
        out
    }

    fn check_outputs(stem: &Path, must_contain: &[&str]) -> (Vec<u8>, Vec<u8>) {
        let png = read(&with_suffix(stem, "png"));
        let svg = read(&with_suffix(stem, "svg"));
        assert_eq!(png_size(&png), (WIDTH, HEIGHT));
        let text = String::from_utf8(svg.clone()).expect("SVG is UTF-8");
        assert!(text.contains("<svg") && text.trim_end().ends_with("</svg>"));
        let texts = svg_texts(&text);
        for want in must_contain {
            assert!(texts.iter().any(|t| t == want), "SVG lacks <text>{want}</text>; has {texts:?}");
        }
        (png, svg)
    }

    fn text(title: &str, x: &str, y: &str) -> ChartText {
        ChartText { title: title.into(), subtitle: String::new(), x_label: x.into(), y_label: y.into() }
    }

    fn panel(text: ChartText, values: PanelValues, series: Vec<LineSeries>) -> Panel {
        Panel { text, values, series }
    }

    fn band_series(label: &str, xs: &[f64], f: impl Fn(f64) -> f64) -> BandSeries {
        BandSeries {
            label: label.into(),
            points: xs
                .iter()
                .map(|&x| {
                    let m = f(x);
                    BandPoint { x, mean: m, low: m * 0.85, high: m * 1.15 }
                })
                .collect(),
        }
    }

    fn line(label: &str, n: usize, f: impl Fn(f64) -> f64) -> LineSeries {
        LineSeries {
            label: label.into(),
            points: (0..=n)
                .map(|i| {
                    let x = 24.0 * i as f64 / n as f64;
                    (x, f(x))
                })
                .collect(),
        }
    }

    #[test]
    fn sweep_chart_writes_png_and_svg_with_text() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("sweep");
        let xs = [0.6, 0.8, 1.0, 1.2];
        let series = vec![band_series("binpack(memory)", &xs, |x| 0.02 * x * x), band_series("random & <other>", &xs, |x| 0.01 * x)];
        let t = text("Failure rate vs load", "offered load [Erlang]", "failure rate [%]");
        sweep_chart(&stem, &t, &series, None).unwrap();
        check_outputs(
            &stem,
            &["Failure rate vs load", "offered load [Erlang]", "failure rate [%]", "binpack(memory)", "random & <other>", "0.6", "1.2"],
        );
    }

    #[test]
    fn categorical_sweep_uses_category_labels() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("nested/dir/cidr");
        let cats: Vec<String> = ["/24", "/25", "/26"].iter().map(|s| s.to_string()).collect();
        let series = vec![band_series("awsvpc", &[0.0, 1.0, 2.0], |x| 10.0 + 5.0 * x)];
        let t = text("IP exhaustion", "subnet size", "pending tasks");
        sweep_chart(&stem, &t, &series, Some(&cats)).unwrap();
        check_outputs(&stem, &["IP exhaustion", "/24", "/25", "/26", "awsvpc"]);
    }

    #[test]
    fn time_series_chart_writes_files() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("ts");
        let series = vec![line("running", 200, |x| 100.0 + 20.0 * (x / 3.0).sin()), line("pending", 200, |x| 5.0 + 5.0 * (x / 2.0).cos())];
        let t = text("Tasks over time", "simulated time [h]", "tasks");
        time_series_chart(&stem, &t, &series).unwrap();
        check_outputs(&stem, &["Tasks over time", "running", "pending", "simulated time [h]"]);
    }

    #[test]
    fn panels_write_files() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("panels");
        let azs = |base: f64| {
            vec![
                line("us-east-1a", 100, move |x| base + 10.0 * (x / 4.0).sin()),
                line("us-east-1b", 100, move |_| base + 5.0),
                line("us-east-1c", 100, move |_| base - 5.0),
            ]
        };
        let panels = vec![
            panel(text("Tasks", "", "tasks"), PanelValues::Count, azs(50.0)),
            panel(text("Reserved CPU", "", "CPU [%]"), PanelValues::Percent, azs(60.0)),
            panel(text("Reserved memory", "", "memory [%]"), PanelValues::Level, azs(70.0)),
        ];
        time_series_panels(&stem, "Cluster over a day", "simulated time [h]", &panels).unwrap();
        check_outputs(&stem, &["Cluster over a day", "Tasks", "Reserved CPU", "Reserved memory", "us-east-1a", "simulated time [h]"]);
    }

    #[test]
    fn nan_and_empty_inputs_do_not_panic() {
        let dir = tempfile::tempdir().unwrap();
        let t = text("Empty", "x", "y");
        // No series at all.
        sweep_chart(&dir.path().join("a"), &t, &[], None).unwrap();
        check_outputs(&dir.path().join("a"), &["Empty", "no data"]);
        time_series_chart(&dir.path().join("b"), &t, &[]).unwrap();
        check_outputs(&dir.path().join("b"), &["no data"]);
        time_series_panels(&dir.path().join("c"), "Nothing", "t [h]", &[]).unwrap();
        check_outputs(&dir.path().join("c"), &["Nothing", "no data"]);
        // Series with no points or only NaN.
        let nan = f64::NAN;
        let s = vec![
            BandSeries { label: "empty".into(), points: vec![] },
            BandSeries { label: "nan".into(), points: vec![BandPoint { x: nan, mean: nan, low: nan, high: nan }] },
        ];
        sweep_chart(&dir.path().join("d"), &t, &s, None).unwrap();
        check_outputs(&dir.path().join("d"), &["no data", "empty", "nan"]);
        sweep_chart(&dir.path().join("e"), &t, &s, Some(&[])).unwrap();
        // Mixed NaN / infinite points, single points, constant values, negative values.
        let s = vec![
            BandSeries {
                label: "gappy".into(),
                points: vec![
                    BandPoint { x: 1.0, mean: 2.0, low: 1.0, high: 3.0 },
                    BandPoint { x: 2.0, mean: nan, low: 1.0, high: 3.0 },
                    BandPoint { x: 3.0, mean: 2.0, low: nan, high: f64::INFINITY },
                    BandPoint { x: 4.0, mean: 2.0, low: 2.0, high: 2.0 },
                ],
            },
            BandSeries { label: "single".into(), points: vec![BandPoint { x: 5.0, mean: 0.0, low: 0.0, high: 0.0 }] },
        ];
        sweep_chart(&dir.path().join("f"), &t, &s, None).unwrap();
        check_outputs(&dir.path().join("f"), &["gappy", "single"]);
        let l = vec![
            LineSeries { label: "neg".into(), points: vec![(0.0, -5.0), (1.0, nan), (2.0, -3.0), (nan, 1.0), (3.0, -4.0)] },
            LineSeries { label: "const".into(), points: vec![(0.0, 0.0), (3.0, 0.0)] },
            LineSeries { label: "none".into(), points: vec![] },
        ];
        time_series_chart(&dir.path().join("g"), &t, &l).unwrap();
        check_outputs(&dir.path().join("g"), &["neg", "const", "none"]);
        let one = vec![LineSeries { label: "one".into(), points: vec![(2.0, 7.0)] }];
        time_series_chart(&dir.path().join("h"), &t, &one).unwrap();
        let panels = vec![
            panel(t.clone(), PanelValues::Count, vec![]),
            panel(t.clone(), PanelValues::Level, l.clone()),
            panel(t.clone(), PanelValues::Percent, one),
        ];
        time_series_panels(&dir.path().join("i"), "Mixed", "t [h]", &panels).unwrap();
        check_outputs(&dir.path().join("i"), &["Mixed", "no data", "neg"]);
        // Many series → legend outside; the 9th+ series reuse colours with other markers.
        let many: Vec<BandSeries> = (0..20).map(|i| band_series(&format!("series {i}"), &[1.0, 2.0, 3.0], move |x| x + i as f64)).collect();
        sweep_chart(&dir.path().join("j"), &t, &many, None).unwrap();
        check_outputs(&dir.path().join("j"), &["series 0", "series 19"]);
        // Huge and tiny values.
        let big = vec![band_series("big", &[1e6, 2e6, 3e6], |x| x * 1e3)];
        sweep_chart(&dir.path().join("k"), &t, &big, None).unwrap();
        let tiny = vec![band_series("tiny", &[1e-9, 2e-9], |x| x * 1e-6)];
        sweep_chart(&dir.path().join("l"), &t, &tiny, None).unwrap();
    }

    #[test]
    fn output_is_byte_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        let xs = [0.6, 0.8, 1.0, 1.2];
        let series = vec![band_series("a", &xs, |x| x * 3.0), band_series("b", &xs, |x| 4.0 - x)];
        let t = text("Determinism", "load", "rate");
        let mut outputs = Vec::new();
        for name in ["one", "two"] {
            let stem = dir.path().join(name);
            sweep_chart(&stem, &t, &series, None).unwrap();
            outputs.push(check_outputs(&stem, &["Determinism"]));
        }
        assert_eq!(outputs[0], outputs[1]);
        let lines = vec![line("x", 500, |x| x.sin())];
        let mut outputs = Vec::new();
        for name in ["p1", "p2"] {
            let stem = dir.path().join(name);
            time_series_panels(&stem, "P", "t [h]", &[panel(t.clone(), PanelValues::Count, lines.clone())]).unwrap();
            outputs.push(check_outputs(&stem, &["P"]));
        }
        assert_eq!(outputs[0], outputs[1]);
    }

    #[test]
    fn font_metrics_agree_with_plotters_layout() {
        register_fonts();
        let m = metrics().expect("embedded font parses");
        assert_eq!(m.units_per_em, 2048.0);
        assert!(m.cap_height > 0.6 * m.units_per_em && m.cap_height < 0.8 * m.units_per_em);
        for text in ["binpack(memory)", "spread(AZ)+spread(instanceId)", "/24", "0.25%", "Tasks stuck in PROVISIONING", "…"] {
            for em in [TICK_EM, AXIS_EM, TITLE_EM] {
                let size = em * m.height / m.units_per_em;
                let font = FontDesc::new(FontFamily::SansSerif, size, FontStyle::Normal);
                let (w, _) = font.box_size(text).expect("font registered");
                let ours = text_width_f(text, em);
                assert!((ours - w as f64).abs() <= 1.0, "{text:?} at {em}: ours {ours}, plotters {w}");
            }
        }
        assert_ne!(m.glyph_id('A').0, 0);
        assert_eq!(m.glyph_id('\u{10FFFF}').0, 0); // not in the font: .notdef, no panic
    }

    #[test]
    fn text_fitting() {
        let long = "c5.2xlarge, 2 AZs, capacity provider target 65%";
        let s = fit_label(long, LEGEND_EM, 200);
        assert!(text_width(&s, LEGEND_EM) <= 200 && s.contains('…') && s.ends_with("65%"), "{s}");
        let t = fit_text(long, LEGEND_EM, 200);
        assert!(t.starts_with("c5.2xlarge") && t.ends_with('…'), "{t}");
        assert_eq!(fit_label("short", LEGEND_EM, 200), "short");
        assert_eq!(fit_text("anything", LEGEND_EM, 1), "…");
    }

    #[test]
    fn legend_goes_where_the_data_is_not() {
        let line = |pts: Vec<(f64, f64)>| Prepared::from_line(0, &LineSeries { label: "s".into(), points: pts }, false);
        let rising = line(vec![(0.0, 0.0), (10.0, 10.0)]);
        let falling = line(vec![(0.0, 10.0), (10.0, 0.0)]);
        let (pos, hi) = place_legend(&[&rising], (0.0, 10.0), (0.0, 10.8), (1000, 500), (200, 60));
        assert_eq!((pos, hi), (LegendPos::UpperLeft, 10.8));
        let (pos, hi) = place_legend(&[&falling], (0.0, 10.0), (0.0, 10.8), (1000, 500), (200, 60));
        assert_eq!((pos, hi), (LegendPos::UpperRight, 10.8));
        // Flat line near the top everywhere: the y range grows to make room above it.
        let flat = line(vec![(0.0, 10.0), (10.0, 10.0)]);
        let (pos, hi) = place_legend(&[&flat], (0.0, 10.0), (0.0, 10.8), (1000, 500), (200, 60));
        assert!(pos == LegendPos::UpperRight && hi > 10.8 && hi < 10.8 * MAX_LEGEND_STRETCH, "{pos:?} {hi}");
        // A legend that would need too much room goes outside; so do many series.
        let (pos, _) = place_legend(&[&flat], (0.0, 10.0), (0.0, 10.8), (1000, 500), (200, 280));
        assert_eq!(pos, LegendPos::Outside);
        let many: Vec<&Prepared> = std::iter::repeat_n(&rising, MAX_INSIDE_LEGEND + 1).collect();
        assert_eq!(place_legend(&many, (0.0, 10.0), (0.0, 10.8), (1000, 500), (200, 60)).0, LegendPos::Outside);
    }

    #[test]
    fn svg_font_sizes_are_the_em_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("sizes");
        let series = vec![band_series("a", &[1.0, 2.0], |x| x)];
        sweep_chart(&stem, &text("Title", "x [s]", "y [s]"), &series, None).unwrap();
        let svg = String::from_utf8(read(&with_suffix(&stem, "svg"))).unwrap();
        for size in [TITLE_EM, AXIS_EM, TICK_EM] {
            assert!(svg.contains(&format!("font-size=\"{size}\"")), "no text of size {size}");
        }
        assert!(!svg.contains("></text>"), "no empty <text> elements");
    }

    #[test]
    fn sampled_counts_are_drawn_as_steps() {
        assert_eq!(step_points(&[(0.0, 1.0), (5.0, 3.0), (10.0, 2.0)]), vec![(0.0, 1.0), (5.0, 1.0), (5.0, 3.0), (10.0, 3.0), (10.0, 2.0)]);
        assert_eq!(step_points(&[(2.0, 7.0)]), vec![(2.0, 7.0)]);
        assert!(step_points(&[]).is_empty());
        // Gaps (NaN) split the line first; each piece is a step line of its own.
        let p = Prepared::from_line(
            0,
            &LineSeries { label: "s".into(), points: vec![(0.0, 1.0), (1.0, 2.0), (2.0, f64::NAN), (3.0, 4.0)] },
            true,
        );
        assert_eq!(p.segments, vec![vec![(0.0, 1.0), (1.0, 1.0), (1.0, 2.0)], vec![(3.0, 4.0)]]);
    }

    #[test]
    fn count_and_percent_axes_start_at_zero_with_whole_number_count_ticks() {
        for values in [PanelValues::Count, PanelValues::Percent] {
            for data in [Some((3.0, 3.0)), Some((0.0, 0.0)), Some((120.0, 480.0)), None] {
                let a = panel_y_axis(values, data, 6, false);
                assert_eq!((a.lo, a.ticks[0]), (0.0, 0.0), "{values:?} {data:?}");
                assert!(a.hi >= data.map_or(0.0, |d| d.1), "{values:?} {data:?}");
            }
        }
        // Three tasks: ticks 0, 1, 2, 3 — never 0.5 or 2.5 tasks.
        let a = panel_y_axis(PanelValues::Count, Some((0.0, 3.0)), 6, false);
        assert_eq!(a.ticks, vec![0.0, 1.0, 2.0, 3.0]);
        for max in [1.0, 2.0, 4.0, 7.0, 23.0, 2400.0] {
            let a = panel_y_axis(PanelValues::Count, Some((0.0, max)), 6, false);
            assert!(a.ticks.iter().all(|t| t.fract() == 0.0), "{max}: {:?}", a.ticks);
        }
        // A level may go negative; counts never show a negative range.
        assert!(panel_y_axis(PanelValues::Level, Some((-2.0, 5.0)), 6, false).lo < 0.0);
        assert_eq!(panel_y_axis(PanelValues::Count, Some((-2.0, 5.0)), 6, false).lo, 0.0);
    }

    #[test]
    fn neighbouring_series_differ_in_colour_marker_and_line_pattern() {
        for i in 0..39 {
            let (c0, m0, d0) = style_for(i);
            let (c1, m1, d1) = style_for(i + 1);
            assert!(c0 != c1 && m0.shape != m1.shape && m0.filled != m1.filled && d0 != d1, "series {i} and {}", i + 1);
        }
        // Every pair among the first eight differs in marker shape or line pattern, which
        // survive greyscale.
        for i in 0..8 {
            for j in i + 1..8 {
                let ((_, mi, di), (_, mj, dj)) = (style_for(i), style_for(j));
                assert!((mi.shape, mi.filled) != (mj.shape, mj.filled) || di != dj, "{i} vs {j}");
            }
        }
    }

    #[test]
    fn many_panels_make_a_taller_image() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("six");
        let panels: Vec<Panel> =
            (0..6).map(|i| panel(text(&format!("panel {i}"), "", "n"), PanelValues::Count, vec![line("a", 10, |x| x)])).collect();
        time_series_panels(&stem, "Six", "t [h]", &panels).unwrap();
        let png = read(&with_suffix(&stem, "png"));
        assert_eq!(png_size(&png), (WIDTH, HEIGHT + 2 * EXTRA_PANEL_HEIGHT));
        let svg = String::from_utf8(read(&with_suffix(&stem, "svg"))).unwrap();
        assert!(svg_texts(&svg).iter().any(|t| t == "panel 5"));
    }

    #[test]
    fn a_subtitle_is_drawn_under_the_title() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("sub");
        let mut t = text("Title", "x", "y");
        t.subtitle = "1 replication, no confidence interval".into();
        sweep_chart(&stem, &t, &[band_series("a", &[1.0, 2.0], |x| x)], None).unwrap();
        check_outputs(&stem, &["Title", "1 replication, no confidence interval"]);
    }

    #[test]
    fn register_fonts_is_idempotent() {
        register_fonts();
        register_fonts();
    }

    #[test]
    fn tick_formatting() {
        let f = NumFmt::for_ticks(&[0.0, 0.1, 0.2, 0.30000000000000004], false);
        assert_eq!([0.0, 0.1, 0.2, 0.30000000000000004].map(|v| f.format(v)), ["0", "0.1", "0.2", "0.3"]);
        let f = NumFmt::for_ticks(&[0.0, 20_000.0, 40_000.0], false);
        assert_eq!(f.format(20_000.0), "20k");
        let f = NumFmt::for_ticks(&[0.0, 2.5e6, 5e6, 7.5e6], false);
        assert_eq!(f.format(2.5e6), "2.5M");
        let f = NumFmt::for_ticks(&[0.0, 25.0, 50.0], true);
        assert_eq!((f.format(0.0), f.format(25.0)), ("0".to_string(), "25%".to_string()));
        let f = NumFmt::for_ticks(&[-0.5, 0.0, 0.5], false);
        assert_eq!((f.format(-1e-17), f.format(-0.5)), ("0".to_string(), "-0.5".to_string()));
        assert_eq!(ticks_in(0.0, 1.0, 0.2), vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
        assert_eq!(nice_step(24.0, 8, Unit::Hours), 3.0);
        assert_eq!(nice_step(24.0, 6, Unit::Hours), 4.0);
        assert_eq!(nice_step(1.0, 5, Unit::Plain), 0.2);
        assert_eq!(nice_step(0.09, 5, Unit::Plain), 0.02);
        assert_eq!(y_extent(Some((5.0, 5.0))), (0.0, 5.4));
        assert_eq!(y_extent(Some((0.0, 0.0))), (0.0, 1.0));
        assert_eq!(y_extent(None), (0.0, 1.0));
        let (lo, hi) = y_extent(Some((-2.0, 8.0)));
        assert!(lo < -2.0 && hi > 8.0);
    }
}
