//! JVM options for Allure 2's short run. Allure runs for seconds, so the
//! JVM's start and warm-up dominate: C1 only (C2's compiles never pay back
//! in a run this short), the serial GC (no GC threads to start), and a
//! class-data-sharing archive of Allure's classes. The project's own
//! `JAVA_OPTS` come last, so they win. Pure.

use std::path::Path;

const SHORT_RUN: [&str; 2] = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"];
/// The JVM ignores a missing, stale or foreign archive; it need not say so.
const QUIET_CDS: [&str; 2] = ["-Xlog:cds=off", "-Xlog:cds+dynamic=off"];

/// The class-data-sharing archive of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archive<'a> {
    /// Load Allure's classes from this archive.
    Use(&'a Path),
    /// Write the classes this run loads into this archive at exit.
    Create(&'a Path),
    /// No archive yet, and none made by this run.
    Without,
}

/// `JAVA_OPTS` for one `allure generate`.
pub fn java_opts(archive: Archive<'_>, user: Option<&str>) -> String {
    let archive = match archive {
        Archive::Use(p) => Some(format!("-XX:SharedArchiveFile={}", p.display())),
        Archive::Create(p) => Some(format!("-XX:ArchiveClassesAtExit={}", p.display())),
        Archive::Without => None,
    };
    let mut opts: Vec<&str> = SHORT_RUN.to_vec();
    if let Some(archive) = &archive {
        opts.push(archive);
        opts.extend(QUIET_CDS);
    }
    if let Some(user) = user.map(str::trim).filter(|u| !u.is_empty()) {
        opts.push(user);
    }
    opts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_run_options_then_the_archive_then_the_users_own() {
        let a = Path::new("/opt/allure/allure.jsa");
        assert_eq!(
            java_opts(Archive::Use(a), None),
            "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:SharedArchiveFile=/opt/allure/allure.jsa -Xlog:cds=off -Xlog:cds+dynamic=off"
        );
        let opts = java_opts(Archive::Create(a), Some(" -Xmx2g "));
        assert!(opts.contains("-XX:ArchiveClassesAtExit=/opt/allure/allure.jsa"));
        assert!(opts.ends_with(" -Xmx2g"), "the user's options win: {opts}");
        assert_eq!(
            java_opts(Archive::Without, None),
            "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
        );
    }
}
