//! Running a report engine as a process group of its own, so that a publish
//! stopped by a signal ends all of it. The Allure 2 CLI is Node starting a
//! shell that becomes Java: killing Node alone left Java running, writing a
//! report into a folder already removed. In its own group the engine also
//! does not get the terminal's Ctrl-C; the publish decides when it stops.

use std::io;
use std::process::Output;

use tokio::process::Command;

/// Run `cmd` to completion; if the future is dropped first, every process
/// of its group is killed.
pub async fn output(cmd: &mut Command) -> io::Result<Output> {
    cmd.process_group(0).kill_on_drop(true);
    let child = cmd.spawn()?;
    let group = Group(child.id());
    let out = child.wait_with_output().await;
    // Finished: its group id may be reused from now on.
    std::mem::forget(group);
    out
}

/// Kills the process group on drop.
struct Group(Option<u32>);

impl Drop for Group {
    fn drop(&mut self) {
        if let Some(pid) = self.0.and_then(|p| i32::try_from(p).ok()) {
            // SAFETY: kill(2) takes plain integers and touches no memory.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
}
