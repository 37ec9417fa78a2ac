//! The charts of a results folder: each `[report]` metric against the last sweep axis, and the
//! time series of chosen runs as stacked panels.
//!
//! Words come from the metric catalog ([`Metric::title`], [`Metric::unit`]); fractions are
//! drawn as percentages. The time-series panels are the rows of [`PANELS`]: charting a new
//! time-series column family is one row there, and columns no row names are ignored.

use std::fs;
use std::path::Path;

use super::{BandPoint, BandSeries, ChartError, ChartText, LineSeries, Panel, PanelValues};
use crate::metrics::Metric;
use crate::metrics::stats::Estimate;
use crate::report::summary::PointSummary;
use crate::scenario::Scenario;
use crate::scenario::sweep::{Plan, RunInfo};

/// Most time-series charts one results folder gets (one per sweep point).
const MAX_TIMESERIES_CHARTS: usize = 24;

/// Draws every chart of a results folder into `out/charts/`, from `out/timeseries/` and the
/// summaries.
pub fn draw_results(plan: &Plan, summaries: &[PointSummary], out: &Path) -> Result<(), ChartError> {
    let dir = out.join("charts");
    fs::create_dir_all(&dir).map_err(|e| ChartError(format!("creating {}: {e}", dir.display())))?;
    let scenario = &plan.base;
    sweep_charts(plan, summaries, &dir)?;
    provider_cost_chart(plan, out, &dir)?;
    // Time series of the runs `[report] timeseries_runs` names, else of replication 0 of each
    // sweep point (at most MAX_TIMESERIES_CHARTS).
    let chosen = &scenario.report.timeseries_runs;
    let charted = (0..plan.run_count())
        .map(|i| plan.run_info(i))
        .filter(|r| if chosen.is_empty() { r.replication == 0 } else { chosen.contains(&r.run_id) });
    for info in charted.take(MAX_TIMESERIES_CHARTS) {
        time_series_chart(scenario, &info, out, &dir)?;
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Sweep charts
// ------------------------------------------------------------------------------------------

fn parse_num(text: &str) -> Option<f64> {
    text.parse::<f64>().ok()
}

/// A metric as charted: fractions become percentages.
struct Charted {
    scale: f64,
    unit: &'static str,
}

fn charted(metric: Metric) -> Charted {
    match metric.unit() {
        "fraction" => Charted { scale: 100.0, unit: "%" },
        unit => Charted { scale: 1.0, unit },
    }
}

/// The line under a sweep chart's title: what the points are means of, and what the bands (or
/// error bars, on a categorical axis) show — or that there is no interval, with one replication.
fn sweep_subtitle(replications: u32, categorical: bool) -> String {
    match replications {
        0 | 1 => format!("{replications} replication, no confidence interval"),
        n => format!("mean of {n} replications; {}: 95 % confidence interval", if categorical { "error bars" } else { "bands" }),
    }
}

/// The texts of a sweep chart of `metric` against the axis with key `x_key`.
fn sweep_text(metric: Metric, x_key: &str, replications: u32, categorical: bool) -> ChartText {
    sweep_chart_text(metric.title(), &format!("{} [{}]", metric.title(), charted(metric).unit), x_key, replications, categorical)
}

/// The texts of a sweep chart of `what` (its axis description `y_label`) against the axis with
/// key `x_key`.
fn sweep_chart_text(what: &str, y_label: &str, x_key: &str, replications: u32, categorical: bool) -> ChartText {
    let (x_name, x_unit) = axis_words(x_key);
    ChartText {
        title: format!("{what} vs {x_name}"),
        subtitle: sweep_subtitle(replications, categorical),
        x_label: match x_unit {
            Some(u) => format!("{x_name} [{u}]"),
            None => x_name,
        },
        y_label: y_label.to_string(),
    }
}

/// Adds a sweep point to the series labelled `label` (a new series at the end if none is):
/// the mean of `e` × `scale` at `x`, with its 95 % CI band when there are replications. Every
/// charted quantity is non-negative: a t-interval reaching below 0 is drawn from 0 (summary.csv
/// keeps the interval as computed).
fn add_point(series: &mut Vec<BandSeries>, label: String, x: f64, e: Estimate, scale: f64, with_interval: bool) {
    let (low, high) = if with_interval { (e.ci_low.max(0.0) * scale, e.ci_high * scale) } else { (f64::NAN, f64::NAN) };
    let point = BandPoint { x, mean: e.mean * scale, low, high };
    match series.iter_mut().find(|b| b.label == label) {
        Some(b) => b.points.push(point),
        None => series.push(BandSeries { label, points: vec![point] }),
    }
}

/// Each `[report]` metric against the last sweep axis: one line per combination of the other
/// axes, with its 95 % CI band when there are replications to compute one from.
fn sweep_charts(plan: &Plan, summaries: &[PointSummary], dir: &Path) -> Result<(), ChartError> {
    let Some((x_axis, line_axes)) = plan.axes.split_last() else {
        return Ok(());
    };
    let (x_labels, numeric) = x_axis_labels(&x_axis.labels);
    let x_of = |text: &str| x_position(&x_axis.labels, numeric, text);
    let with_interval = plan.replications >= 2;
    for &metric in &plan.base.report.metrics {
        let Charted { scale, .. } = charted(metric);
        let mut series: Vec<BandSeries> = Vec::new();
        for s in summaries {
            let label = if line_axes.is_empty() {
                metric.title().to_string()
            } else {
                s.params[..line_axes.len()].iter().map(|(k, v)| line_value(k, v)).collect::<Vec<_>>().join(" · ")
            };
            add_point(&mut series, label, x_of(&s.params[line_axes.len()].1), s.estimate(metric), scale, with_interval);
        }
        let text = sweep_text(metric, &x_axis.key, plan.replications, !numeric);
        let categories = (!numeric).then_some(x_labels.as_slice());
        super::sweep_chart(&dir.join(metric.name()), &text, &series, categories)?;
    }
    Ok(())
}

/// The sweep axis' tick labels, and whether its values are numbers (else categories).
fn x_axis_labels(values: &[String]) -> (Vec<String>, bool) {
    (values.iter().map(|v| pretty_value(v)).collect(), values.iter().all(|v| parse_num(v).is_some()))
}

/// Where a point with axis value `text` goes on the x axis: its number, or its category index.
fn x_position(values: &[String], numeric: bool, text: &str) -> f64 {
    if numeric { parse_num(text).unwrap_or(f64::NAN) } else { values.iter().position(|v| v == text).unwrap_or(0) as f64 }
}

/// With `providers.csv` and a sweep: each capacity provider's monthly cost against the last
/// sweep axis, one line per provider (and per combination of the other axes), with its 95 % CI
/// band when there are replications.
fn provider_cost_chart(plan: &Plan, out: &Path, dir: &Path) -> Result<(), ChartError> {
    let path = out.join("providers.csv");
    let Some((x_axis, line_axes)) = plan.axes.split_last() else { return Ok(()) };
    if !path.is_file() {
        return Ok(());
    }
    let bad = |e: &dyn std::fmt::Display| ChartError(format!("reading {}: {e}", path.display()));
    let mut reader = csv::Reader::from_path(&path).map_err(|e| bad(&e))?;
    let header = reader.headers().map_err(|e| bad(&e))?.clone();
    let column = |name: &str| header.iter().position(|h| h == name).ok_or_else(|| bad(&format!("no column {name}")));
    let (run_col, provider_col, cost_col) = (column("run_id")?, column("provider")?, column("cost_month_usd")?);
    let point_of: std::collections::BTreeMap<String, usize> = (0..plan.run_count())
        .map(|i| {
            let r = plan.run_info(i);
            (r.run_id, r.point)
        })
        .collect();
    // Providers in the order the file names them first; per provider and point, the runs' costs.
    let mut providers: Vec<String> = Vec::new();
    let mut costs: std::collections::BTreeMap<(usize, usize), Vec<f64>> = std::collections::BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad(&e))?;
        let (Some(&point), Some(cost)) = (point_of.get(&record[run_col]), parse_num(&record[cost_col])) else { continue };
        let name = &record[provider_col];
        let i = providers.iter().position(|p| p == name).unwrap_or_else(|| {
            providers.push(name.to_string());
            providers.len() - 1
        });
        costs.entry((i, point)).or_default().push(cost);
    }
    if costs.is_empty() {
        return Ok(());
    }
    let (x_labels, numeric) = x_axis_labels(&x_axis.labels);
    let with_interval = plan.replications >= 2;
    let mut series: Vec<BandSeries> = Vec::new();
    for (&(i, point), samples) in &costs {
        let params = plan.point_params(point);
        let mut label = providers[i].clone();
        for (k, v) in &params[..line_axes.len()] {
            label.push_str(" · ");
            label.push_str(&line_value(k, v));
        }
        let x = x_position(&x_axis.labels, numeric, &params[line_axes.len()].1);
        add_point(&mut series, label, x, Estimate::from_samples(samples), 1.0, with_interval);
    }
    let text = sweep_chart_text("Monthly cost per capacity provider", "Monthly cost [USD/month]", &x_axis.key, plan.replications, !numeric);
    super::sweep_chart(&dir.join("cost_per_provider"), &text, &series, (!numeric).then_some(x_labels.as_slice()))
}

/// A line's value of one sweep axis in a legend: a bare number or true/false says nothing
/// without its axis (`termination protection = true`); words stand alone.
fn line_value(key: &str, v: &str) -> String {
    if v == "true" || v == "false" || v.parse::<f64>().is_ok() { format!("{} = {v}", axis_words(key).0) } else { pretty_value(v) }
}

/// Strategy chains read shorter in legends: `spread(attribute:ecs.availability-zone),binpack(memory)`
/// → `spread(AZ) + binpack(memory)`.
fn pretty_value(v: &str) -> String {
    v.replace("attribute:ecs.availability-zone", "AZ").replace("attribute:", "").replace("),", ") + ")
}

/// A sweep axis key in words, and its unit when the key names one:
/// `workload.large.arrival.rate_per_s` → ("arrival rate (large)", Some("per s")),
/// `placement.strategy` → ("placement strategy", None); a named axis keeps its name.
pub(crate) fn axis_words(key: &str) -> (String, Option<&'static str>) {
    let (rest, unit) = if let Some(r) = key.strip_suffix("_per_s") {
        (r, Some("per s"))
    } else if let Some(r) = key.strip_suffix("_s") {
        (r, Some("s"))
    } else {
        (key, None)
    };
    let words = |s: &str| s.replace(['.', '_'], " ");
    let name = match rest.strip_prefix("workload.").and_then(|r| r.split_once('.')) {
        Some((workload, what)) => format!("{} ({workload})", words(what)),
        None => words(rest),
    };
    (name, unit)
}

// ------------------------------------------------------------------------------------------
// Time-series panels
// ------------------------------------------------------------------------------------------

/// Which time-series columns a panel draws.
enum Columns {
    /// These columns, each with its legend label.
    Named(&'static [(&'static str, &'static str)]),
    /// Every column whose name starts with this prefix, labelled with the rest of the name (an
    /// AZ, a subnet, a NAT gateway).
    Family(&'static str),
}

/// One registered panel.
struct PanelSpec {
    title: &'static str,
    /// The y axis description: the unit.
    y_label: &'static str,
    values: PanelValues,
    columns: Columns,
}

/// The time-series panels, top to bottom. A panel whose columns are all absent, zero or empty
/// is left out (a Fargate-only run has no host or reserved-CPU panel; a run without a
/// `[network]` has no address panel). Time-series columns no row names are not charted.
const PANELS: &[PanelSpec] = &[
    PanelSpec {
        title: "Tasks",
        y_label: "tasks",
        values: PanelValues::Count,
        columns: Columns::Named(&[("tasks_running", "running"), ("tasks_pending", "pending (waiting or starting)")]),
    },
    PanelSpec {
        title: "Service tasks running, share of the desired count",
        y_label: "% of desired",
        values: PanelValues::Percent,
        columns: Columns::Family("running_pct_"),
    },
    PanelSpec {
        title: "Desired count per auto-scaled service",
        y_label: "tasks",
        values: PanelValues::Count,
        columns: Columns::Family("desired_"),
    },
    PanelSpec {
        title: "Service CPU utilisation the scaling policy tracks",
        y_label: "% of the tasks' CPU",
        values: PanelValues::Percent,
        columns: Columns::Family("scaling_cpu_"),
    },
    PanelSpec {
        title: "Service memory utilisation the scaling policy tracks",
        y_label: "% of reserved",
        values: PanelValues::Percent,
        columns: Columns::Family("scaling_memory_"),
    },
    PanelSpec {
        title: "Requests per target per minute the scaling policy tracks",
        y_label: "requests / target / min",
        values: PanelValues::Level,
        columns: Columns::Family("scaling_requests_per_target_"),
    },
    PanelSpec {
        title: "EC2 hosts running at least one task",
        y_label: "hosts",
        values: PanelValues::Count,
        columns: Columns::Named(&[("hosts_used", "hosts in use")]),
    },
    PanelSpec {
        title: "Instances per Auto Scaling group (launching or registered)",
        y_label: "instances",
        values: PanelValues::Count,
        columns: Columns::Family("instances_"),
    },
    PanelSpec {
        title: "Tasks waiting in PROVISIONING for capacity",
        y_label: "tasks",
        values: PanelValues::Count,
        columns: Columns::Named(&[("tasks_waiting_capacity", "waiting for an instance")]),
    },
    PanelSpec {
        title: "CapacityProviderReservation per capacity provider",
        y_label: "%",
        values: PanelValues::Level,
        columns: Columns::Family("capacity_reservation_pct_"),
    },
    PanelSpec {
        title: "Fargate vCPUs in use",
        y_label: "vCPU",
        values: PanelValues::Count,
        columns: Columns::Named(&[("fargate_vcpus", "Fargate tasks")]),
    },
    PanelSpec {
        title: "Reserved CPU per AZ",
        y_label: "% of registered",
        values: PanelValues::Percent,
        columns: Columns::Family("cpu_reserved_pct_"),
    },
    PanelSpec {
        title: "Reserved memory per AZ",
        y_label: "% of registered",
        values: PanelValues::Percent,
        columns: Columns::Family("mem_reserved_pct_"),
    },
    PanelSpec {
        title: "Memory in use per AZ (containers' usage)",
        y_label: "% of registered",
        values: PanelValues::Percent,
        columns: Columns::Family("mem_used_pct_"),
    },
    PanelSpec {
        title: "CPU in use per AZ (containers' usage)",
        y_label: "% of registered",
        values: PanelValues::Percent,
        columns: Columns::Family("cpu_used_pct_"),
    },
    PanelSpec {
        title: "Traffic through each NAT gateway (pulls and logs)",
        y_label: "Mbps",
        values: PanelValues::Level,
        columns: Columns::Family("nat_mbps_"),
    },
    PanelSpec {
        title: "Task ENIs (awsvpc on EC2 and Fargate)",
        y_label: "ENIs",
        values: PanelValues::Count,
        columns: Columns::Named(&[("task_enis", "attached or cleaning up")]),
    },
    PanelSpec {
        title: "Free addresses per subnet",
        y_label: "addresses",
        values: PanelValues::Count,
        columns: Columns::Family("free_ips_"),
    },
];

/// A run's time series as read back from `timeseries/<run_id>.csv`: column names and rows,
/// `time_s` first. Cells that are empty or not numbers are NaN (drawn as gaps).
struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<f64>>,
}

impl Table {
    fn parse(csv_text: &str) -> Result<Table, ChartError> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(csv_text.as_bytes());
        let headers: Vec<String> = reader.headers().map_err(|e| ChartError(e.to_string()))?.iter().map(str::to_string).collect();
        let rows = reader.records().filter_map(Result::ok).map(|r| r.iter().map(|c| parse_num(c).unwrap_or(f64::NAN)).collect()).collect();
        Ok(Table { headers, rows })
    }

    /// Column `name` against time divided by `x_scale`, or `None` if there is no such column.
    fn series(&self, name: &str, label: &str, x_scale: f64) -> Option<LineSeries> {
        let i = self.headers.iter().position(|h| h == name)?;
        let value = |r: &Vec<f64>, i: usize| r.get(i).copied().unwrap_or(f64::NAN);
        Some(LineSeries { label: label.to_string(), points: self.rows.iter().map(|r| (value(r, 0) / x_scale, value(r, i))).collect() })
    }
}

/// Whether a series has something to show: a finite value other than 0.
fn has_data(s: &LineSeries) -> bool {
    s.points.iter().any(|&(_, y)| y.is_finite() && y != 0.0)
}

/// The panels of one run's time series: the rows of [`PANELS`] that have data, in order.
fn panels_of(table: &Table, x_scale: f64) -> Vec<Panel> {
    PANELS
        .iter()
        .filter_map(|spec| {
            let series: Vec<LineSeries> = match spec.columns {
                Columns::Named(cols) => cols.iter().filter_map(|(c, label)| table.series(c, label, x_scale)).collect(),
                Columns::Family(prefix) => {
                    table.headers.iter().filter_map(|h| h.strip_prefix(prefix).and_then(|rest| table.series(h, rest, x_scale))).collect()
                }
            };
            series.iter().any(has_data).then(|| Panel {
                text: ChartText { title: spec.title.into(), subtitle: String::new(), x_label: String::new(), y_label: spec.y_label.into() },
                values: spec.values,
                series,
            })
        })
        .collect()
}

/// Stacked panels of one run's time series.
fn time_series_chart(scenario: &Scenario, spec: &RunInfo, out: &Path, dir: &Path) -> Result<(), ChartError> {
    let path = out.join("timeseries").join(format!("{}.csv", spec.run_id));
    let text = fs::read_to_string(&path).map_err(|e| ChartError(format!("reading {}: {e}", path.display())))?;
    let table = Table::parse(&text)?;
    let hours = scenario.horizon.as_secs_f64() >= 3.0 * 3600.0;
    let x_scale = if hours { 3600.0 } else { 60.0 };
    let params = if spec.params.is_empty() {
        String::new()
    } else {
        format!(" ({})", spec.params.iter().map(|(k, v)| line_value(k, v)).collect::<Vec<_>>().join(", "))
    };
    super::time_series_panels(
        &dir.join(format!("timeseries-{}", spec.run_id)),
        &format!("{}: run {}{params}", scenario.name, spec.run_id),
        if hours { "simulated time [h]" } else { "simulated time [min]" },
        &panels_of(&table, x_scale),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn titles(panels: &[Panel]) -> Vec<&str> {
        panels.iter().map(|p| p.text.title.as_str()).collect()
    }

    #[test]
    fn one_replication_is_said_without_a_confidence_interval() {
        assert_eq!(sweep_subtitle(1, false), "1 replication, no confidence interval");
        assert_eq!(sweep_subtitle(1, true), "1 replication, no confidence interval");
        assert_eq!(sweep_subtitle(10, false), "mean of 10 replications; bands: 95 % confidence interval");
        assert_eq!(sweep_subtitle(2, true), "mean of 2 replications; error bars: 95 % confidence interval");
        let t = sweep_text(Metric::HostsUsedMean, "workload.large.arrival.rate_per_s", 1, false);
        let all = format!("{} {} {} {}", t.title, t.subtitle, t.x_label, t.y_label);
        assert!(!all.contains("replications") && !all.contains("95 %"), "{all}");
    }

    #[test]
    fn sweep_titles_use_the_catalog_words_not_the_column_name() {
        let t = sweep_text(Metric::PlacementFailureRate, "workload.large.arrival.rate_per_s", 10, false);
        assert_eq!(t.title, "Placement failure rate vs arrival rate (large)");
        assert_eq!(t.x_label, "arrival rate (large) [per s]");
        // A fraction is drawn as a percentage.
        assert_eq!(t.y_label, "Placement failure rate [%]");
        for m in Metric::ALL {
            let t = sweep_text(*m, "placement.strategy", 3, true);
            assert!(!t.title.contains('_') && t.title.starts_with(m.title()), "{}", t.title);
            assert_eq!(t.x_label, "placement strategy");
        }
        assert_eq!(axis_words("private subnet size"), ("private subnet size".to_string(), None));
    }

    #[test]
    fn every_metric_has_a_short_title_in_words() {
        for m in Metric::ALL {
            let t = m.title();
            assert!(!t.is_empty() && t.len() <= 60 && !t.contains('_'), "{}: {t:?}", m.name());
            assert!(t.chars().next().is_some_and(|c| c.is_uppercase() || c.is_ascii_digit()), "{t}");
        }
    }

    const EC2: &str = "time_s,tasks_running,tasks_pending,hosts_used,cpu_reserved_pct_a,mem_reserved_pct_a\n\
                       0,0,3,0,0,0\n60,3,0,2,50,25\n";

    #[test]
    fn an_ec2_run_gets_tasks_hosts_cpu_and_memory_panels() {
        let panels = panels_of(&Table::parse(EC2).unwrap(), 60.0);
        assert_eq!(titles(&panels), ["Tasks", "EC2 hosts running at least one task", "Reserved CPU per AZ", "Reserved memory per AZ"]);
        assert_eq!(panels[2].series[0].label, "a");
        assert_eq!(panels[2].series[0].points, vec![(0.0, 0.0), (1.0, 50.0)]);
        assert_eq!(panels[0].values, PanelValues::Count);
        assert_eq!(panels[2].values, PanelValues::Percent);
    }

    #[test]
    fn a_fargate_only_run_has_no_host_or_cpu_panel() {
        // Hosts registered but idle all run: every task ran on Fargate.
        let csv = "time_s,tasks_running,tasks_pending,hosts_used,cpu_reserved_pct_a,cpu_reserved_pct_b,mem_reserved_pct_a,\
                   mem_reserved_pct_b,task_enis,free_ips_private-a,free_ips_private-b\n\
                   0,0,150,0,0,0,0,0,0,58,58\n300,144,6,0,0,0,0,0,156,7,6\n";
        let panels = panels_of(&Table::parse(csv).unwrap(), 60.0);
        assert_eq!(titles(&panels), ["Tasks", "Task ENIs (awsvpc on EC2 and Fargate)", "Free addresses per subnet"]);
        let subnets: Vec<&str> = panels[2].series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(subnets, ["private-a", "private-b"]);
    }

    #[test]
    fn unknown_and_missing_columns_are_ignored() {
        // A column no panel names (a future model's), a short row, a non-number cell.
        let csv = "time_s,tasks_running,nat_throughput_mbps_nat-a\n0,1,5\n60,x\n120\n";
        let panels = panels_of(&Table::parse(csv).unwrap(), 60.0);
        assert_eq!(titles(&panels), ["Tasks"]);
        let pts = &panels[0].series[0].points;
        assert_eq!(pts[0], (0.0, 1.0));
        assert!(pts[1].1.is_nan() && pts[2].1.is_nan());
        // Nothing at all: no panel, and the chart still draws ("no data").
        assert!(panels_of(&Table::parse("time_s\n").unwrap(), 60.0).is_empty());
    }
}
