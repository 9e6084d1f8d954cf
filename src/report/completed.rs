//! Report files named as the engine completes them, so a publish can upload
//! them while the rest are still being made. Allure 3's driver names each
//! file on a Unix socket once its write resolves (`Socket`); Allure 2 is a
//! JVM we do not drive, so its files are seen as it closes them (`Watch`,
//! inotify's IN_CLOSE_WRITE, Linux only). Either may miss a file or name
//! one the engine writes again: the publish checks every file once the
//! engine is done, so a name here is a hint to start early, never the
//! record of what the report holds.

use std::path::{Component, Path, PathBuf};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::UnixListener;
use tokio::sync::{mpsc, oneshot};

/// A report file: its path relative to the report folder, '/'-separated.
pub type Rel = String;

/// A completed file: where it will be in the report, and where it is now
/// (Allure 3 moves a lone plugin's files up to the report's root when it
/// is done).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub rel: Rel,
    pub now: Rel,
}

/// Where the names of completed files come from.
pub enum Announcer {
    Socket(Socket),
    #[cfg(target_os = "linux")]
    Watch(Watch),
}

impl Announcer {
    /// Pass each completed file to `tx` until the engine is `done`.
    pub async fn forward(self, tx: mpsc::Sender<Named>, done: oneshot::Receiver<()>) {
        match self {
            Self::Socket(s) => s.forward(tx, done).await,
            #[cfg(target_os = "linux")]
            Self::Watch(w) => w.forward(tx, done).await,
        }
    }
}

/// True when `rel` names a path inside the folder: relative, and made of
/// plain names only (no `..`, no root, nothing empty).
pub fn inside(rel: &str) -> bool {
    !rel.is_empty()
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// The socket Allure 3's driver names its files on.
pub struct Socket {
    listener: UnixListener,
    path: PathBuf,
}

impl Socket {
    pub fn bind(dir: &Path) -> std::io::Result<Self> {
        let path = dir.join("files.sock");
        let listener = UnixListener::bind(&path)?;
        Ok(Self { listener, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Pass each file named on the socket to `tx`, until the driver closes
    /// it, or until `done` (the driver has exited) when it never connected.
    pub async fn forward(self, tx: mpsc::Sender<Named>, done: oneshot::Receiver<()>) {
        let conn = tokio::select! {
            // A connection made before the driver exited is already queued.
            biased;
            accepted = self.listener.accept() => match accepted {
                Ok((conn, _)) => conn,
                Err(_) => return,
            },
            _ = done => return,
        };
        let mut lines = BufReader::new(conn).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let Ok((rel, now)) = serde_json::from_str::<(String, String)>(&line) else {
                continue;
            };
            if inside(&rel) && inside(&now) && tx.send(Named { rel, now }).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(target_os = "linux")]
pub use watch::Watch;

#[cfg(target_os = "linux")]
mod watch {
    use std::collections::HashMap;
    use std::ffi::OsStr;
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use futures_util::StreamExt;
    use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask, Watches};
    use tokio::sync::{mpsc, oneshot};

    use super::{Named, Rel};

    /// After the engine exits, how long the watch keeps reading events the
    /// kernel already queued.
    const QUIET: Duration = Duration::from_millis(50);

    const FOLDER: WatchMask = WatchMask::CREATE
        .union(WatchMask::CLOSE_WRITE)
        .union(WatchMask::MOVED_TO)
        .union(WatchMask::ONLYDIR);

    /// Files closed after writing under a report folder the engine makes
    /// (Allure 2's `--clean` removes and makes it), its subfolders followed
    /// as they appear. A file written before its folder is followed is
    /// missed here and found by the publish's check at the end.
    pub struct Watch {
        inotify: Inotify,
        folders: Folders,
    }

    struct Folders {
        watches: Watches,
        report: PathBuf,
        /// Each watched folder: None for the report's parent, else its
        /// path in the report ("" for the report itself).
        by_wd: HashMap<WatchDescriptor, Option<Rel>>,
    }

    impl Watch {
        /// Watch for `report`, made by the engine inside its parent folder.
        pub fn new(report: &Path) -> std::io::Result<Self> {
            let parent = report.parent().unwrap_or(Path::new("."));
            let inotify = Inotify::init()?;
            let mut watches = inotify.watches();
            let wd = watches.add(parent, FOLDER)?;
            Ok(Self {
                inotify,
                folders: Folders {
                    watches,
                    report: report.to_path_buf(),
                    by_wd: HashMap::from([(wd, None)]),
                },
            })
        }

        /// Pass each file closed after writing to `tx`, until `done` (the
        /// engine has exited) and the events queued by then are read.
        pub async fn forward(self, tx: mpsc::Sender<Named>, done: oneshot::Receiver<()>) {
            let Watch {
                inotify,
                mut folders,
            } = self;
            let Ok(mut events) = inotify.into_event_stream([0u8; 16384]) else {
                return;
            };
            let mut done = std::pin::pin!(done);
            let mut exited = false;
            loop {
                let event = if exited {
                    match tokio::time::timeout(QUIET, events.next()).await {
                        Ok(event) => event,
                        Err(_) => return,
                    }
                } else {
                    tokio::select! {
                        event = events.next() => event,
                        _ = &mut done => {
                            exited = true;
                            continue;
                        }
                    }
                };
                let Some(Ok(event)) = event else { return };
                let Some(name) = event.name else { continue };
                let Some(file) = folders.seen(&event.wd, event.mask, &name) else {
                    continue;
                };
                let named = Named {
                    rel: file.clone(),
                    now: file,
                };
                if tx.send(named).await.is_err() {
                    return;
                }
            }
        }
    }

    impl Folders {
        /// A completed file's path in the report; a new folder is followed.
        fn seen(&mut self, wd: &WatchDescriptor, mask: EventMask, name: &OsStr) -> Option<Rel> {
            let dir = self.by_wd.get(wd)?.clone();
            let name = name.to_str()?;
            if mask.contains(EventMask::ISDIR) {
                match dir {
                    None if Path::new(name) == self.report.file_name()? => {
                        self.follow(String::new())
                    }
                    None => {}
                    Some(dir) => self.follow(join(&dir, name)),
                }
                return None;
            }
            let closed = mask.intersects(EventMask::CLOSE_WRITE | EventMask::MOVED_TO);
            match dir {
                Some(dir) if closed => Some(join(&dir, name)),
                _ => None,
            }
        }

        fn follow(&mut self, rel: Rel) {
            if let Ok(wd) = self.watches.add(self.report.join(&rel), FOLDER) {
                self.by_wd.insert(wd, Some(rel));
            }
        }
    }

    fn join(dir: &str, name: &str) -> Rel {
        if dir.is_empty() {
            name.to_string()
        } else {
            format!("{dir}/{name}")
        }
    }
}
