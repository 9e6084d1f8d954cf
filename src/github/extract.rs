//! Unpacking artifact zips safely, and merging several results folders into
//! one. Pure file work, no network.
//!
//! Refused: entries that would land outside the target (`..`, absolute
//! paths), symbolic links, more bytes than the budget (counted as written,
//! not as the zip claims), and more files and folders than the budget (an
//! archive of millions of empty entries costs time and inodes for nothing).

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub files: u64,
    pub bytes: u64,
}

/// What all the artifacts of one step may unpack to, together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    max_bytes: u64,
    max_entries: u64,
    bytes: u64,
    entries: u64,
}

impl Budget {
    pub fn new(max_bytes: u64, max_entries: u64) -> Self {
        Self {
            max_bytes,
            max_entries,
            bytes: 0,
            entries: 0,
        }
    }

    /// Bytes that may still be written (or downloaded).
    pub fn bytes_left(&self) -> u64 {
        self.max_bytes - self.bytes
    }

    /// Spend `n` entries (files or folders created), or say which limit
    /// was hit and how to raise it.
    fn spend_entries(&mut self, n: u64) -> Result<()> {
        if n > self.max_entries - self.entries {
            bail!(
                "the artifacts hold more than {} files and folders (max-artifact-entries); \
                 raise ALLURE_MAX_ARTIFACT_ENTRIES if the results really have that many",
                self.max_entries
            );
        }
        self.entries += n;
        Ok(())
    }
}

/// Unpack `zip_path` into `dest`, spending from `budget`.
pub fn unzip(zip_path: &Path, dest: &Path, budget: &mut Budget) -> Result<Extracted> {
    let mut file =
        fs::File::open(zip_path).with_context(|| format!("cannot open {}", zip_path.display()))?;
    // The zip crate reads every record of the central directory into memory
    // (then keeps one entry per name), so too many records are refused
    // before it opens the archive, and before anything is written.
    let records = directory_records(&mut file)
        .with_context(|| format!("cannot read {}", zip_path.display()))?;
    budget.clone().spend_entries(records)?;
    let mut archive = zip::ZipArchive::new(file)
        .with_context(|| format!("{} is not a valid zip archive", zip_path.display()))?;
    let mut folders: HashSet<PathBuf> = HashSet::new();
    let mut done = Extracted::default();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i)?;
        let raw = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        // enclosed_name() refuses `..`; absolute names are refused here too
        // rather than silently made relative.
        let absolute = raw.starts_with(['/', '\\']) || raw.get(1..2) == Some(":");
        let Some(rel) = entry.enclosed_name().filter(|_| !absolute) else {
            bail!("refusing zip entry {raw:?}: it would land outside the results folder");
        };
        if entry.is_symlink() {
            bail!("refusing zip entry {raw:?}: links are not allowed in results");
        }
        // Folders an entry creates on its way count as entries too, so deep
        // names cannot create what the count forbids.
        let folder = if entry.is_dir() {
            Some(rel.as_path())
        } else {
            rel.parent()
        };
        budget.spend_entries(new_folders(folder, &mut folders))?;
        budget.spend_entries(u64::from(!entry.is_dir()))?;
        let out = dest.join(&rel);
        if entry.is_dir() {
            fs::create_dir_all(&out)?;
            continue;
        }
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&out)
            .with_context(|| format!("cannot create {}", out.display()))?;
        // One byte over the budget is enough to know it is exceeded.
        let left = budget.bytes_left();
        let written = io::copy(&mut (&mut entry).take(left + 1), &mut f)?;
        if written > left {
            bail!(
                "the artifacts unpack to more than the size limit (max-artifact-bytes); \
                 raise ALLURE_MAX_ARTIFACT_BYTES if the results really are that large"
            );
        }
        budget.bytes += written;
        done.files += 1;
        done.bytes += written;
    }
    Ok(done)
}

/// How many central directory records `file` can hold at most: each starts
/// with `PK\x01\x02`, so no reader finds more records than there are
/// signatures. One streaming pass; the file is left at its start.
fn directory_records(file: &mut fs::File) -> io::Result<u64> {
    use io::Seek;
    const SIGNATURE: [u8; 4] = *b"PK\x01\x02";
    let mut buf = vec![0u8; 1 << 16];
    // The last 3 bytes of the previous read, for a signature split across.
    let mut carry = 0;
    let mut count = 0u64;
    loop {
        let n = file.read(&mut buf[carry..])?;
        if n == 0 {
            break;
        }
        let filled = carry + n;
        count += buf[..filled].windows(4).filter(|w| *w == SIGNATURE).count() as u64;
        carry = filled.min(3);
        buf.copy_within(filled - carry..filled, 0);
    }
    file.seek(io::SeekFrom::Start(0))?;
    Ok(count)
}

/// How many folders of `folder` and its ancestors are not yet in `seen`
/// (then added). Ancestors of a seen folder are seen, so the walk stops at
/// the first one.
fn new_folders(folder: Option<&Path>, seen: &mut HashSet<PathBuf>) -> u64 {
    let mut n = 0;
    for f in folder.into_iter().flat_map(Path::ancestors) {
        if f.as_os_str().is_empty() || !seen.insert(f.to_path_buf()) {
            break;
        }
        n += 1;
    }
    n
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Merged {
    pub files: u64,
    /// Same name, same bytes: kept once.
    pub identical: u64,
    /// Same name, other bytes: kept under a new name `(from, to)`.
    pub renamed: Vec<(String, String)>,
}

/// Move every file of each `(label, folder)` into `target`. Result files have
/// unique names; a clash with different content keeps both, the newcomer
/// renamed `<label>-<name>` (Allure still reads `*-result.json` and
/// `*-container.json` so renamed). `environment.properties` is merged by key.
pub fn merge(sources: &[(String, PathBuf)], target: &Path) -> Result<Merged> {
    fs::create_dir_all(target).with_context(|| format!("cannot create {}", target.display()))?;
    let mut merged = Merged::default();
    for (label, dir) in sources {
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let entry = entry?;
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = entry.path().strip_prefix(dir)?.to_path_buf();
            let dest = target.join(&rel);
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent)?;
            }
            if !dest.exists() {
                move_file(entry.path(), &dest)?;
                merged.files += 1;
                continue;
            }
            let ours = fs::read(entry.path())?;
            if fs::read(&dest)? == ours {
                merged.identical += 1;
                continue;
            }
            if rel.as_os_str() == "environment.properties" {
                let text =
                    merge_properties(&fs::read_to_string(&dest)?, &String::from_utf8_lossy(&ours));
                fs::write(&dest, text)?;
                merged.files += 1;
                continue;
            }
            let renamed = free_name(&dest, label);
            move_file(entry.path(), &renamed)?;
            merged.renamed.push((
                rel.display().to_string(),
                renamed.strip_prefix(target)?.display().to_string(),
            ));
            merged.files += 1;
        }
    }
    Ok(merged)
}

fn move_file(from: &Path, to: &Path) -> Result<()> {
    if fs::rename(from, to).is_err() {
        fs::copy(from, to)
            .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    }
    Ok(())
}

/// `<dir>/<label>-<name>`, with a counter if even that is taken.
fn free_name(dest: &Path, label: &str) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let label: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut candidate = dest.with_file_name(format!("{label}-{name}"));
    let mut n = 2;
    while candidate.exists() {
        candidate = dest.with_file_name(format!("{label}-{n}-{name}"));
        n += 1;
    }
    candidate
}

/// Keys of `a`, then new keys of `b`; a key with two different values shows
/// both (`3.11, 3.12`), since legs differ exactly there.
pub fn merge_properties(a: &str, b: &str) -> String {
    let parse = |t: &str| -> Vec<(String, String)> {
        t.lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with(['#', '!']))
            .filter_map(|l| {
                l.split_once(['=', ':'])
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            })
            .collect()
    };
    let mut order: Vec<String> = Vec::new();
    let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in parse(a).into_iter().chain(parse(b)) {
        let vs = values.entry(k.clone()).or_insert_with(|| {
            order.push(k.clone());
            Vec::new()
        });
        if !vs.contains(&v) {
            vs.push(v);
        }
    }
    order
        .iter()
        .map(|k| format!("{k}={}\n", values[k].join(", ")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::context::DEFAULT_MAX_ARTIFACT_ENTRIES;
    use std::io::Write;

    fn zip_with(entries: &[(&str, &[u8])]) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        let mut w = zip::ZipWriter::new(f.reopen().unwrap());
        for (name, body) in entries {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(body).unwrap();
        }
        w.finish().unwrap();
        f
    }

    #[test]
    fn unzips_nested_files_within_budget() {
        let z = zip_with(&[("a-result.json", b"{}"), ("sub/b.txt", b"hello")]);
        let dest = tempfile::tempdir().unwrap();
        let mut budget = Budget::new(100, 3);
        let got = unzip(z.path(), dest.path(), &mut budget).unwrap();
        assert_eq!(got, Extracted { files: 2, bytes: 7 });
        assert_eq!(budget.bytes_left(), 93);
        assert_eq!(budget.entries, 3, "two files and the folder sub");
        assert_eq!(fs::read(dest.path().join("sub/b.txt")).unwrap(), b"hello");
    }

    #[test]
    fn refuses_escapes_absolute_paths_and_oversize() {
        for bad in ["../evil.txt", "/etc/evil", "a/../../evil"] {
            let z = zip_with(&[(bad, b"x")]);
            let dest = tempfile::tempdir().unwrap();
            let err = unzip(z.path(), dest.path(), &mut Budget::new(100, 10)).unwrap_err();
            assert!(err.to_string().contains("outside"), "{bad}: {err}");
        }
        let z = zip_with(&[("big.bin", &[0u8; 1000])]);
        let dest = tempfile::tempdir().unwrap();
        let err = unzip(z.path(), dest.path(), &mut Budget::new(999, 10)).unwrap_err();
        assert!(err.to_string().contains("size limit"), "{err}");
    }

    /// A zip of `n` empty files.
    fn zip_of_empty_files(n: usize) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        let mut w = zip::ZipWriter::new(io::BufWriter::new(f.reopen().unwrap()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for i in 0..n {
            w.start_file(format!("{i}.txt"), options).unwrap();
        }
        w.finish().unwrap();
        f
    }

    fn count_in(dir: &Path) -> usize {
        walkdir::WalkDir::new(dir).min_depth(1).into_iter().count()
    }

    #[test]
    fn an_archive_of_more_entries_than_the_limit_is_refused_before_any_is_written() {
        let z = zip_of_empty_files(DEFAULT_MAX_ARTIFACT_ENTRIES as usize + 1);
        let dest = tempfile::tempdir().unwrap();
        let mut budget = Budget::new(100, DEFAULT_MAX_ARTIFACT_ENTRIES);
        let err = unzip(z.path(), dest.path(), &mut budget).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("max-artifact-entries") && msg.contains("ALLURE_MAX_ARTIFACT_ENTRIES"),
            "{msg}"
        );
        assert_eq!(count_in(dest.path()), 0, "nothing written");
        assert_eq!(budget, Budget::new(100, DEFAULT_MAX_ARTIFACT_ENTRIES));
    }

    /// A zip whose central directory lists `n` records, all for one empty
    /// file `a` (one local header): the zip crate reads every record, then
    /// keeps one entry per name.
    fn zip_repeating_one_name(n: u32) -> tempfile::NamedTempFile {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        bytes.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        bytes.extend_from_slice(&[0; 12]);
        bytes.extend_from_slice(&[1, 0, 0, 0, b'a']);
        let cd_start = bytes.len() as u32;
        for _ in 0..n {
            bytes.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            bytes.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            bytes.extend_from_slice(&[0; 12]);
            bytes.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            bytes.extend_from_slice(&[0; 4]);
            bytes.push(b'a');
        }
        let cd_size = bytes.len() as u32 - cd_start;
        bytes.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        bytes.extend_from_slice(&[0; 4]);
        let count = u16::try_from(n).unwrap().to_le_bytes();
        bytes.extend_from_slice(&count);
        bytes.extend_from_slice(&count);
        bytes.extend_from_slice(&cd_size.to_le_bytes());
        bytes.extend_from_slice(&cd_start.to_le_bytes());
        bytes.extend_from_slice(&[0, 0]);
        let f = tempfile::NamedTempFile::new().unwrap();
        fs::write(f.path(), bytes).unwrap();
        f
    }

    /// The records an archive lists count, not the names left after the
    /// zip crate merges repeats: reading millions of records costs memory
    /// and time before any count, so they are counted first.
    #[test]
    fn repeated_records_count_against_the_entry_limit() {
        let z = zip_repeating_one_name(5_000);
        let dest = tempfile::tempdir().unwrap();
        let err = unzip(z.path(), dest.path(), &mut Budget::new(1 << 20, 1_000)).unwrap_err();
        assert!(err.to_string().contains("max-artifact-entries"), "{err}");
        assert_eq!(count_in(dest.path()), 0);
        // Under the limit it unpacks (the one file).
        let z = zip_repeating_one_name(10);
        let got = unzip(z.path(), dest.path(), &mut Budget::new(1 << 20, 1_000)).unwrap();
        assert_eq!(got.files, 1);
    }

    #[test]
    fn the_entry_limit_holds_across_artifacts_and_counts_folders() {
        let mut budget = Budget::new(1000, 10);
        let dest = tempfile::tempdir().unwrap();
        let first = zip_with(&[("a/b/1.txt", b"x"), ("2.txt", b"y")]);
        unzip(first.path(), &dest.path().join("0"), &mut budget).unwrap();
        assert_eq!(budget.entries, 4, "two files, folders a and a/b");
        // Few entries, but deep names: each folder counts.
        let deep = zip_with(&[("c/d/e/f/g/h/3.txt", b"z")]);
        let err = unzip(deep.path(), &dest.path().join("1"), &mut budget).unwrap_err();
        assert!(err.to_string().contains("max-artifact-entries"), "{err}");
        // Six entries fit exactly after the first four.
        let mut budget = Budget::new(1000, 10);
        unzip(first.path(), &dest.path().join("2"), &mut budget).unwrap();
        unzip(
            zip_of_empty_files(6).path(),
            &dest.path().join("3"),
            &mut budget,
        )
        .unwrap();
        let err = unzip(
            zip_of_empty_files(1).path(),
            &dest.path().join("4"),
            &mut budget,
        )
        .unwrap_err();
        assert!(err.to_string().contains("more than 10 files"), "{err}");
        assert!(!dest.path().join("4").exists());
    }

    #[test]
    fn refuses_links() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let mut w = zip::ZipWriter::new(f.reopen().unwrap());
        w.add_symlink(
            "link",
            "/etc/passwd",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        w.finish().unwrap();
        let dest = tempfile::tempdir().unwrap();
        let err = unzip(f.path(), dest.path(), &mut Budget::new(100, 10)).unwrap_err();
        assert!(err.to_string().contains("links"), "{err}");
        assert!(!dest.path().join("link").exists());
    }

    #[test]
    fn merge_keeps_every_file() {
        let root = tempfile::tempdir().unwrap();
        let leg = |name: &str, files: &[(&str, &str)]| {
            let dir = root.path().join(name);
            for (f, body) in files {
                fs::create_dir_all(dir.join(f).parent().unwrap()).unwrap();
                fs::write(dir.join(f), body).unwrap();
            }
            (name.to_string(), dir)
        };
        let sources = [
            leg(
                "leg-a",
                &[
                    ("1-result.json", "a"),
                    ("categories.json", "[]"),
                    ("environment.properties", "python=3.11\nos=linux\n"),
                    ("same-result.json", "A"),
                ],
            ),
            leg(
                "leg-b",
                &[
                    ("2-result.json", "b"),
                    ("categories.json", "[]"),
                    ("environment.properties", "python=3.12\nos=linux\n"),
                    ("same-result.json", "B"),
                ],
            ),
        ];
        let target = root.path().join("merged");
        let m = merge(&sources, &target).unwrap();
        assert_eq!(m.identical, 1, "categories.json once");
        assert_eq!(
            m.renamed,
            [(
                "same-result.json".to_string(),
                "leg-b-same-result.json".to_string()
            )]
        );
        assert_eq!(
            fs::read_to_string(target.join("same-result.json")).unwrap(),
            "A"
        );
        assert_eq!(
            fs::read_to_string(target.join("leg-b-same-result.json")).unwrap(),
            "B"
        );
        assert_eq!(
            fs::read_to_string(target.join("environment.properties")).unwrap(),
            "python=3.11, 3.12\nos=linux\n"
        );
        let count = walkdir::WalkDir::new(&target)
            .into_iter()
            .filter(|e| e.as_ref().unwrap().file_type().is_file())
            .count();
        assert_eq!(count, 6);
    }
}
