//! The interactive progress display (indicatif): a bar plus the names of running cases. Used only
//! when stderr is a terminal and `CI` is unset; elsewhere the reporter prints plain lines.

use std::collections::BTreeSet;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar on stderr with the running cases as its message.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    running: BTreeSet<String>,
}

impl Progress {
    /// A bar for `total` cases.
    pub fn new(total: usize) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{elapsed_precise:.dim} [{bar:30}] {pos}/{len} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        Self { bar, running: BTreeSet::new() }
    }

    /// A case started.
    pub fn started(&mut self, name: &str) {
        self.running.insert(name.to_owned());
        self.refresh();
    }

    /// A case finished; `line` is printed above the bar.
    pub fn finished(&mut self, name: &str, line: &str) {
        self.running.remove(name);
        self.bar.println(line);
        self.bar.inc(1);
        self.refresh();
    }

    /// Prints a line above the bar.
    pub fn println(&self, line: &str) {
        self.bar.println(line);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn refresh(&self) {
        let names: Vec<&str> = self.running.iter().map(String::as_str).take(3).collect();
        let more = self.running.len().saturating_sub(names.len());
        let mut message = names.join(", ");
        if more > 0 {
            message.push_str(&format!(" +{more}"));
        }
        self.bar.set_message(message);
    }
}
