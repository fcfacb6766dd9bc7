//! Benchmarks for `make bench`: timing helpers and report output.
//!
//! The machines are shared and noisy, so every figure is a median or a
//! percentile over many runs within one process, and reports compare ratios
//! within one run rather than absolute times across runs.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

/// Latency percentiles of a set of samples, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Percentiles {
    pub samples: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Percentiles {
    pub fn of(samples: &mut [Duration]) -> Percentiles {
        samples.sort();
        let at = |q: f64| {
            let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
            samples.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        Percentiles {
            samples: samples.len(),
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

/// Where reports go: `target/bench/` (or under `CARGO_TARGET_DIR`).
pub fn report_dir() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".to_owned());
    PathBuf::from(target).join("bench")
}

/// Writes a report as pretty JSON to `target/bench/<name>.json`.
pub fn write_report(name: &str, report: &impl Serialize) -> anyhow::Result<PathBuf> {
    let dir = report_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(report)?)?;
    Ok(path)
}

/// One row of a printed table.
pub fn row(label: &str, value: String, target: &str) -> String {
    format!("| {label:<46} | {value:>22} | {target:<22} |")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let mut samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let p = Percentiles::of(&mut samples);
        assert_eq!(
            (p.p50_ms.round(), p.p99_ms.round(), p.max_ms.round()),
            (51.0, 99.0, 100.0)
        );
    }
}
