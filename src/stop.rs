//! SIGINT and SIGTERM. A publish asks to be told (`Stop::graceful`) and stops
//! at its next safe point; any other command, and a second signal, exit at
//! once with 130 / 143, as a shell reports a process killed by the signal.
//!
//! Signals are process-wide, so the handle is too: `Stop::current()` is the
//! one `install` set up (or one that never fires, when none was installed).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGTERM: a CI cancellation, `docker stop`, `kill`.
    Terminate,
}

impl Signal {
    /// 128 + the signal's number, as shells and CI runners expect.
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Interrupt => 130,
            Self::Terminate => 143,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
        }
    }
}

/// Whether a stop was asked for, and by which signal.
#[derive(Clone)]
pub struct Stop {
    asked: watch::Receiver<Option<Signal>>,
    graceful: Arc<AtomicUsize>,
}

/// While held, a first signal is reported to `Stop` instead of exiting.
pub struct Graceful(Arc<AtomicUsize>);

impl Drop for Graceful {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A command that stopped on a signal, having left things as the message
/// says; `main` exits with the signal's code.
#[derive(Debug, thiserror::Error)]
#[error("stopped by {} {what}", signal.name())]
pub struct Stopped {
    pub signal: Signal,
    pub what: String,
}

static CURRENT: OnceLock<Stop> = OnceLock::new();

impl Stop {
    /// Listen for SIGINT and SIGTERM from now on. Needs a Tokio runtime.
    /// `at_once` runs just before an immediate exit (to say why).
    pub fn install(at_once: fn(Signal)) -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let (tell, asked) = watch::channel(None);
        let stop = Self {
            asked,
            graceful: Arc::default(),
        };
        let graceful = stop.graceful.clone();
        tokio::spawn(async move {
            loop {
                let signal = tokio::select! {
                    Some(()) = interrupt.recv() => Signal::Interrupt,
                    Some(()) = terminate.recv() => Signal::Terminate,
                    else => return,
                };
                if tell.borrow().is_some() || graceful.load(Ordering::SeqCst) == 0 {
                    at_once(signal);
                    std::process::exit(i32::from(signal.exit_code()));
                }
                tell.send_replace(Some(signal));
            }
        });
        Ok(CURRENT.get_or_init(|| stop).clone())
    }

    /// The installed handle, or one that never fires.
    pub fn current() -> Self {
        CURRENT.get().cloned().unwrap_or_else(Self::never)
    }

    /// A handle no signal reaches (no handler installed: signals keep their
    /// default effect).
    pub fn never() -> Self {
        // One sender, kept for good, so `asked()` waits instead of ending.
        static NEVER: OnceLock<watch::Sender<Option<Signal>>> = OnceLock::new();
        Self {
            asked: NEVER.get_or_init(|| watch::channel(None).0).subscribe(),
            graceful: Arc::default(),
        }
    }

    /// Ask to be told of the first signal until the guard is dropped.
    pub fn graceful(&self) -> Graceful {
        self.graceful.fetch_add(1, Ordering::SeqCst);
        Graceful(self.graceful.clone())
    }

    /// The signal that asked for a stop, if one did.
    pub fn requested(&self) -> Option<Signal> {
        *self.asked.borrow()
    }

    /// Wait for a stop to be asked for.
    pub async fn asked(&self) -> Signal {
        let mut asked = self.asked.clone();
        loop {
            if let Some(signal) = *asked.borrow_and_update() {
                return signal;
            }
            if asked.changed().await.is_err() {
                // Never asked; wait forever, like a signal that never comes.
                std::future::pending::<()>().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_128_plus_the_signal() {
        assert_eq!(Signal::Interrupt.exit_code(), 128 + 2);
        assert_eq!(Signal::Terminate.exit_code(), 128 + 15);
    }

    #[tokio::test]
    async fn a_handle_without_handlers_never_fires() {
        let stop = Stop::never();
        let _g = stop.graceful();
        assert_eq!(stop.requested(), None);
        let waited = tokio::time::timeout(std::time::Duration::from_millis(20), stop.asked()).await;
        assert!(waited.is_err());
    }
}
