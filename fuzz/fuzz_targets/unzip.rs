//! Artifact zips, unpacked into a results folder: whatever the archive
//! holds, nothing lands outside the folder, no link is created, and the
//! bytes written stay within the budget.
//!
//! Input starting with `PK` is a zip as downloaded; anything else describes
//! entries (names, kinds, bodies) that are packed into a well-formed zip
//! first, so the fuzzer reaches the name checks without forging checksums.
#![no_main]

use std::fs;
use std::io::{Cursor, Write};
use std::path::Path;

use allure_host::github::extract::{Budget, unzip};
use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

const BUDGET: u64 = 64 * 1024;
// Few enough that generated archives reach the entry limit too.
const ENTRIES: u64 = 64;
const SENTINEL: &[u8] = b"untouched";

#[derive(Arbitrary, Debug)]
enum Kind {
    File,
    Dir,
    Link,
}

#[derive(Arbitrary, Debug)]
struct Entry {
    name: String,
    kind: Kind,
    deflate: bool,
    body: Vec<u8>,
    /// Repeats the body, for entries larger than the input.
    repeat: u16,
}

fn pack(entries: &[Entry]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for e in entries {
        let method = if e.deflate {
            CompressionMethod::Deflated
        } else {
            CompressionMethod::Stored
        };
        let options = SimpleFileOptions::default().compression_method(method);
        let written = match e.kind {
            Kind::File => w.start_file(e.name.as_str(), options).and_then(|()| {
                for _ in 0..=e.repeat {
                    w.write_all(&e.body)?;
                }
                Ok(())
            }),
            Kind::Dir => w.add_directory(e.name.as_str(), options),
            Kind::Link => {
                let target = String::from_utf8_lossy(&e.body).into_owned();
                w.add_symlink(e.name.as_str(), target, options)
            }
        };
        if written.is_err() {
            return Vec::new();
        }
    }
    w.finish().map(Cursor::into_inner).unwrap_or_default()
}

/// Files under `dir` and their total size; panics on a link.
fn files_in(dir: &Path) -> (u64, u64) {
    let (mut files, mut bytes) = (0, 0);
    for entry in fs::read_dir(dir).expect("readable folder") {
        let path = entry.expect("readable entry").path();
        let meta = fs::symlink_metadata(&path).expect("metadata");
        assert!(
            !meta.file_type().is_symlink(),
            "a link was created: {path:?}"
        );
        if meta.is_dir() {
            let (f, b) = files_in(&path);
            files += f;
            bytes += b;
        } else {
            files += 1;
            bytes += meta.len();
        }
    }
    (files, bytes)
}

fuzz_target!(|data: &[u8]| {
    let archive = if data.starts_with(b"PK") {
        data.to_vec()
    } else {
        let Ok(entries) = Vec::<Entry>::arbitrary_take_rest(Unstructured::new(data)) else {
            return;
        };
        pack(&entries)
    };

    let base = Path::new("/dev/shm");
    let root = if base.is_dir() {
        tempfile::tempdir_in(base)
    } else {
        tempfile::tempdir()
    }
    .expect("temp dir");
    let zip_path = root.path().join("artifact.zip");
    fs::write(&zip_path, &archive).expect("write zip");
    let inside = root.path().join("box");
    let dest = inside.join("results");
    fs::create_dir_all(&dest).expect("dest");
    let sentinel = inside.join("sentinel");
    fs::write(&sentinel, SENTINEL).expect("sentinel");

    let mut budget = Budget::new(BUDGET, ENTRIES);
    let result = unzip(&zip_path, &dest, &mut budget);

    // Only the results folder changed: nothing beside it, nothing above it.
    let mut beside: Vec<_> = fs::read_dir(&inside)
        .expect("box")
        .map(|e| e.expect("entry").file_name())
        .collect();
    beside.sort();
    assert_eq!(beside, ["results", "sentinel"], "something landed outside");
    assert_eq!(fs::read(&sentinel).expect("sentinel"), SENTINEL);
    assert_eq!(
        fs::read_dir(root.path()).expect("root").count(),
        2,
        "something landed above the results folder"
    );

    let (files, bytes) = files_in(&dest);
    match result {
        Ok(done) => {
            assert_eq!((done.files, done.bytes), (files, bytes));
            assert_eq!(
                BUDGET - budget.bytes_left(),
                bytes,
                "the budget pays for every byte"
            );
            assert!(files <= ENTRIES, "{files} files past the entry limit");
        }
        // The entry that overran may hold one byte past the budget.
        Err(_) => assert!(bytes <= BUDGET + 1, "{bytes} bytes written past the budget"),
    }
});
