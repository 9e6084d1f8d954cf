//! Report files uploaded while the engine is still making the others: each
//! file it names as complete (`report::completed`) goes to the feed at
//! once, stamped with the size and time it had when it went. Once the
//! engine is done, every file of the report is checked against those
//! stamps: one never named, named twice, or changed since goes again
//! (`Streamed::sent_as_is`), so the run is uploaded whole whatever the
//! engine's hints missed.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::SystemTime;

use tokio::sync::{mpsc, oneshot};

use crate::report::completed::{Announcer, Named, Rel};
use crate::transfer::{Body, Feed, Upload};

/// A file as it was when it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub size: u64,
    pub modified: Option<SystemTime>,
}

impl Stamp {
    pub fn of(meta: &std::fs::Metadata) -> Self {
        Self {
            size: meta.len(),
            modified: meta.modified().ok(),
        }
    }
}

/// A file of the finished report, against what went while it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Never sent: it goes now.
    Send,
    /// In the store as it is.
    Sent,
    /// Sent, then written again: it goes once the first upload landed.
    SendAgain,
}

/// What went while the report was being made.
#[derive(Debug, Default)]
pub struct Streamed {
    sent: HashMap<Rel, Stamp>,
    /// Named again after it went: the engine rewrote it.
    again: HashSet<Rel>,
}

impl Streamed {
    /// Record `rel` as gone with `stamp`; false when it had gone before.
    pub fn record(&mut self, rel: &str, stamp: Stamp) -> bool {
        if self.sent.contains_key(rel) {
            self.again.insert(rel.to_string());
            return false;
        }
        self.sent.insert(rel.to_string(), stamp);
        true
    }

    /// What becomes of a file of the finished report.
    pub fn verdict(&self, rel: &str, now: Stamp) -> Verdict {
        if !self.sent.contains_key(rel) {
            Verdict::Send
        } else if self.sent_as_is(rel, now) {
            Verdict::Sent
        } else {
            Verdict::SendAgain
        }
    }

    /// True when the store already has `rel` as it is now on disk. A file
    /// whose time cannot be read is never taken as unchanged.
    fn sent_as_is(&self, rel: &str, now: Stamp) -> bool {
        now.modified.is_some() && !self.again.contains(rel) && self.sent.get(rel) == Some(&now)
    }

    /// The files sent that the finished report does not hold.
    pub fn strays<'a>(&'a self, holds: &'a HashSet<&str>) -> impl Iterator<Item = &'a str> + 'a {
        self.sent
            .keys()
            .map(String::as_str)
            .filter(|rel| !holds.contains(rel))
    }
}

/// Uploads started while the report is made: the feed, and how a report
/// file becomes an upload (None: it waits for the end).
pub struct During<'a> {
    pub feed: &'a Feed,
    /// An empty folder on the report's file system, for the links that
    /// hold each file as it was sent.
    pub links: &'a Path,
    pub upload: &'a (dyn Fn(&str, &Path, Stamp) -> Option<Upload> + Sync),
}

impl During<'_> {
    /// `generate`, with the files `announcer` names uploaded meanwhile.
    pub async fn run<T>(
        &self,
        generate: impl Future<Output = T>,
        announcer: Announcer,
        report: &Path,
    ) -> (T, Streamed) {
        alongside(generate, announcer, report, self, self.upload).await
    }
}

/// Run `generate` while the files `announcer` names go to `feed`.
pub async fn alongside<T>(
    generate: impl Future<Output = T>,
    announcer: Announcer,
    report: &Path,
    during: &During<'_>,
    upload: impl Fn(&str, &Path, Stamp) -> Option<Upload>,
) -> (T, Streamed) {
    // Names wait here while the feed is full: a few hundred paths at most.
    let (tx, rx) = mpsc::channel(256);
    let (exited, done) = oneshot::channel();
    let generate = async {
        let generated = generate.await;
        let _ = exited.send(());
        generated
    };
    let (generated, (), streamed) = tokio::join!(
        generate,
        announcer.forward(tx, done),
        forward(rx, report, during, upload)
    );
    (generated, streamed)
}

/// Hand each completed file named on `rx` to the feed, as `upload` makes it
/// (None: a file that waits for the end, such as the page we rewrite).
/// What goes is the file as it was named (`hold`), so the engine moving or
/// removing it cannot take it from under its upload. Returns when `rx`
/// closes; the feed refusing more (a signal) stops the uploads, not the
/// reading.
async fn forward(
    mut rx: mpsc::Receiver<Named>,
    report: &Path,
    during: &During<'_>,
    upload: impl Fn(&str, &Path, Stamp) -> Option<Upload>,
) -> Streamed {
    let mut streamed = Streamed::default();
    let mut open = true;
    let mut n = 0u64;
    while let Some(Named { rel, now }) = rx.recv().await {
        if !open {
            continue;
        }
        if streamed.sent.contains_key(&rel) {
            streamed.again.insert(rel);
            continue;
        }
        n += 1;
        let link = during.links.join(n.to_string());
        let Some((held, stamp)) = hold(&report.join(&now), &link) else {
            continue;
        };
        let Some(mut item) = upload(&rel, &link, stamp) else {
            continue;
        };
        if let Held::Bytes(bytes) = held {
            item.size = bytes.len() as u64;
            item.body = Body::Bytes(bytes);
        }
        streamed.record(&rel, stamp);
        open = during.feed.send(item).await;
    }
    streamed
}

/// Files up to this size go from memory, sparing a link to make and
/// remove; the feed holds at most twice its concurrency of them.
const IN_MEMORY: u64 = 256 * 1024;

/// A report file as it was when named.
enum Held {
    Bytes(Vec<u8>),
    /// A hard link at the path given to `hold`.
    Link,
}

/// Hold the regular file at `path` as it is now, with its stamp: read when
/// small, else hard-linked at `link`. None for anything else: a symbolic
/// link is never followed (`O_NOFOLLOW`; a hard link to one would hold
/// the link, which the type check refuses).
fn hold(path: &Path, link: &Path) -> Option<(Held, Stamp)> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    if !meta.file_type().is_file() {
        return None;
    }
    if meta.len() <= IN_MEMORY {
        // Never more than the bound, even when the file grew since.
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        (&mut file)
            .take(IN_MEMORY + 1)
            .read_to_end(&mut bytes)
            .ok()?;
        if bytes.len() as u64 <= IN_MEMORY {
            return Some((Held::Bytes(bytes), Stamp::of(&meta)));
        }
    }
    drop(file);
    std::fs::hard_link(path, link).ok()?;
    let meta = std::fs::symlink_metadata(link).ok()?;
    meta.file_type()
        .is_file()
        .then(|| (Held::Link, Stamp::of(&meta)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn stamp(size: u64, secs: u64) -> Stamp {
        Stamp {
            size,
            modified: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)),
        }
    }

    #[test]
    fn a_file_goes_again_unless_it_went_as_it_is_now() {
        let mut s = Streamed::default();
        assert!(s.record("a.json", stamp(10, 1)));
        assert!(s.record("b.json", stamp(5, 1)));
        assert_eq!(s.verdict("a.json", stamp(10, 1)), Verdict::Sent);
        // Grown, or touched after it went.
        assert_eq!(s.verdict("a.json", stamp(11, 1)), Verdict::SendAgain);
        assert_eq!(s.verdict("a.json", stamp(10, 2)), Verdict::SendAgain);
        // Never named.
        assert_eq!(s.verdict("c.json", stamp(1, 1)), Verdict::Send);
        // Named twice: rewritten, so it goes again even if it looks the same.
        assert!(!s.record("b.json", stamp(5, 1)));
        assert_eq!(s.verdict("b.json", stamp(5, 1)), Verdict::SendAgain);
    }

    proptest::proptest! {
        /// Against a model: a file counts as in the store only when it went
        /// once, with a known time, and is now exactly as it went; every
        /// file that went and the report no longer holds is a stray.
        #[test]
        fn sent_only_when_it_went_once_and_is_unchanged(
            events in proptest::collection::vec((0u8..6, 0u64..3, proptest::option::of(0u64..3)), 0..40),
            finals in proptest::collection::vec((0u8..6, 0u64..3, proptest::option::of(0u64..3)), 0..6),
        ) {
            let at = |size, secs: Option<u64>| Stamp {
                size,
                modified: secs.map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s)),
            };
            let mut s = Streamed::default();
            let mut went: HashMap<String, (Stamp, usize)> = HashMap::new();
            for (f, size, secs) in &events {
                let rel = format!("f{f}");
                let stamp = at(*size, *secs);
                let first = s.record(&rel, stamp);
                let seen = went.entry(rel).or_insert((stamp, 0));
                seen.1 += 1;
                proptest::prop_assert_eq!(first, seen.1 == 1);
            }
            for (f, size, secs) in &finals {
                let rel = format!("f{f}");
                let now = at(*size, *secs);
                let expected = match went.get(&rel) {
                    None => Verdict::Send,
                    Some((first, 1)) if *first == now && now.modified.is_some() => Verdict::Sent,
                    Some(_) => Verdict::SendAgain,
                };
                proptest::prop_assert_eq!(s.verdict(&rel, now), expected);
            }
            let names: Vec<String> = finals.iter().map(|(f, _, _)| format!("f{f}")).collect();
            let holds: HashSet<&str> = names.iter().map(String::as_str).collect();
            let mut strays: Vec<&str> = s.strays(&holds).collect();
            strays.sort_unstable();
            let mut model: Vec<&str> = went
                .keys()
                .map(String::as_str)
                .filter(|r| !holds.contains(r))
                .collect();
            model.sort_unstable();
            proptest::prop_assert_eq!(strays, model);
        }
    }

    #[test]
    fn small_files_are_read_large_ones_linked_and_symbolic_links_refused() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small.json");
        std::fs::write(&small, b"{}").unwrap();
        let large = dir.path().join("large.png");
        std::fs::write(&large, vec![7u8; IN_MEMORY as usize + 1]).unwrap();
        let outside = dir.path().join("outside");
        std::fs::write(&outside, b"secret").unwrap();
        let sneaky = dir.path().join("sneaky.txt");
        std::os::unix::fs::symlink(&outside, &sneaky).unwrap();

        let (held, stamp) = hold(&small, &dir.path().join("1")).unwrap();
        assert!(matches!(held, Held::Bytes(ref b) if b == b"{}"));
        assert_eq!(stamp.size, 2);
        assert!(!dir.path().join("1").exists(), "a small file needs no link");

        let link = dir.path().join("2");
        let (held, stamp) = hold(&large, &link).unwrap();
        assert!(matches!(held, Held::Link));
        assert_eq!(stamp.size, IN_MEMORY + 1);
        assert_eq!(std::fs::read(&link).unwrap().len() as u64, IN_MEMORY + 1);

        assert!(hold(&sneaky, &dir.path().join("3")).is_none());
        assert!(
            hold(dir.path(), &dir.path().join("4")).is_none(),
            "a folder"
        );
        assert!(hold(&dir.path().join("gone"), &dir.path().join("5")).is_none());
    }

    #[test]
    fn no_time_is_no_proof() {
        let mut s = Streamed::default();
        let unknown = Stamp {
            size: 3,
            modified: None,
        };
        s.record("x", unknown);
        assert_eq!(s.verdict("x", unknown), Verdict::SendAgain);
        assert_eq!(s.verdict("x", stamp(3, 1)), Verdict::SendAgain);
    }

    #[test]
    fn a_file_sent_that_the_report_does_not_hold_is_a_stray() {
        let mut s = Streamed::default();
        s.record("awesome/summary.json", stamp(1, 1));
        s.record("data/a.json", stamp(1, 1));
        let holds: HashSet<&str> = ["data/a.json", "index.html"].into();
        assert_eq!(
            s.strays(&holds).collect::<Vec<_>>(),
            ["awesome/summary.json"]
        );
    }
}
