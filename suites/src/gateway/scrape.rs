//! Reading the gateway's metrics (contract §7) with a Prometheus text-format parser, and the
//! growth assertion the metrics cases use (other cases run at the same time).

use std::collections::BTreeSet;

use reqwest::Method;

use crate::{Ctx, Failure};

/// One scrape of the gateway's metrics, parsed with `prometheus-parse`.
#[derive(Debug)]
pub struct Metrics(prometheus_parse::Scrape);

/// `GET` the metrics URL; fails unless it answers 200 with parseable text exposition.
pub async fn scrape_metrics(ctx: &Ctx) -> Result<Metrics, Failure> {
    let answer = ctx.send(ctx.request_url(Method::GET, &ctx.config().metrics_url)).await?;
    answer.expect_status(200)?;
    let lines = answer.body.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines)
        .map_err(|e| Failure::new(format!("metrics are not Prometheus text exposition: {e}")))?;
    Ok(Metrics(scrape))
}

impl Metrics {
    fn matching<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&str, &str)],
    ) -> impl Iterator<Item = &'a prometheus_parse::Sample> {
        self.0
            .samples
            .iter()
            .filter(move |s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
    }

    /// Sum of the counter, gauge or untyped samples `name` whose labels include `labels`.
    pub fn total(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        positive_zero(self.matching(name, labels).map(scalar).sum())
    }

    /// The values label `label` takes on the samples `name` whose labels include `labels`.
    pub fn label_values(&self, name: &str, label: &str, labels: &[(&str, &str)]) -> BTreeSet<String> {
        self.matching(name, labels).filter_map(|s| s.labels.get(label)).map(str::to_owned).collect()
    }

    /// Sum of the samples `name` that carry label `label` with a value not in `excluded`.
    pub fn total_excluding(&self, name: &str, label: &str, excluded: &BTreeSet<String>) -> f64 {
        let samples =
            self.matching(name, &[]).filter(|s| s.labels.get(label).is_some_and(|v| !excluded.contains(v))).map(scalar);
        positive_zero(samples.sum())
    }

    /// Sum of the observation counts of histogram `name` (its `_count` series) matching `labels`.
    pub fn histogram_count(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.total(&format!("{name}_count"), labels)
    }

    /// Whether some sample's name starts with `prefix`.
    pub fn has_prefix(&self, prefix: &str) -> bool {
        self.0.samples.iter().any(|s| s.metric.starts_with(prefix))
    }

    /// The type of the samples of `name` (`counter`, `gauge`, `histogram`, ...), if any.
    pub fn kind(&self, name: &str) -> Option<&'static str> {
        use prometheus_parse::Value as V;
        self.0.samples.iter().find(|s| s.metric == name).map(|s| match s.value {
            V::Counter(_) => "counter",
            V::Gauge(_) => "gauge",
            V::Histogram(_) => "histogram",
            V::Summary(_) => "summary",
            V::Untyped(_) => "untyped",
        })
    }
}

/// `sum` with an empty sum's `-0` shown as `0` in messages.
fn positive_zero(sum: f64) -> f64 {
    sum + 0.0
}

/// The value of a counter, gauge or untyped sample (0 for histograms and summaries).
fn scalar(sample: &prometheus_parse::Sample) -> f64 {
    use prometheus_parse::Value as V;
    match sample.value {
        V::Counter(v) | V::Gauge(v) | V::Untyped(v) => v,
        V::Histogram(_) | V::Summary(_) => 0.0,
    }
}

/// Fails unless `after - before >= at_least` (other cases run at the same time: growth, never
/// equality).
pub fn ensure_grew(what: &str, before: f64, after: f64, at_least: f64) -> Result<(), Failure> {
    Failure::ensure(after - before >= at_least, || {
        format!("{what} should grow by at least {at_least}: was {before}, now {after}")
    })
}
