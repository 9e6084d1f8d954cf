//! A progress bar on a terminal; plain lines (every 10 %) in CI logs.

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use crate::output::Output;

pub struct Progress {
    bar: Option<ProgressBar>,
    plain: Mutex<PlainState>,
    total_files: u64,
    /// Where the plain lines go.
    out: Output,
}

struct PlainState {
    files: u64,
    next_report: u64,
}

impl Progress {
    pub fn new(total_files: u64, total_bytes: u64, out: &Output) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total_bytes);
            bar.set_style(
                ProgressStyle::with_template(
                    "uploading {bar:30} {bytes}/{total_bytes} {msg} ({bytes_per_sec}, {eta})",
                )
                .expect("valid template"),
            );
            bar
        });
        Self {
            bar,
            plain: Mutex::new(PlainState {
                files: 0,
                next_report: 10,
            }),
            total_files,
            out: out.clone(),
        }
    }

    pub fn advance(&self, bytes: u64) {
        let mut state = self.plain.lock().expect("progress lock");
        state.files += 1;
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
            bar.set_message(format!("{}/{} files", state.files, self.total_files));
            return;
        }
        let percent = state.files * 100 / self.total_files.max(1);
        if percent >= state.next_report {
            self.out.note(format_args!(
                "uploaded {}/{} files ({percent}%)",
                state.files, self.total_files
            ));
            state.next_report = (percent / 10 + 1) * 10;
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
