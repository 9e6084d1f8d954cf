use std::process::ExitCode;

use allure_host::output::Reported;
use allure_host::stop::{Signal, Stop, Stopped};
use clap::Parser;

fn main() -> ExitCode {
    let cli = allure_host::cli::Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(ERROR);
        }
    };
    let result = runtime.block_on(async {
        // As PID 1 of a container, a process without handlers ignores
        // SIGTERM: `docker stop` would wait and then kill it.
        if let Err(e) = Stop::install(exit_at_once) {
            eprintln!(
                "warning: cannot listen for SIGINT/SIGTERM ({e}); a signal kills the process"
            );
        }
        allure_host::run(cli).await
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(FAILED),
        Err(e) => match e.chain().find_map(|c| c.downcast_ref::<Stopped>()) {
            Some(stopped) => {
                eprintln!("{stopped}");
                ExitCode::from(stopped.signal.exit_code())
            }
            None => {
                if !e.is::<Reported>() {
                    eprintln!("error: {e:#}");
                }
                ExitCode::from(ERROR)
            }
        },
    }
}

/// The command ran and reported a failure: the tests or the quality gate
/// failed as `fail-on` says, a check failed, a confirmation was declined.
const FAILED: u8 = 1;
/// The tool itself could not do its job: bad input, an unreachable or
/// refused server, a lost claim. (Clap's usage errors are 2 as well.)
const ERROR: u8 = 2;

/// A signal with no publish to stop, or a second one: the process exits now.
fn exit_at_once(signal: Signal) {
    eprintln!(
        "stopped at once by {}; a run being published keeps its claim until the lease lapses (up to 120 s), and a rerun says when",
        signal.name()
    );
}
