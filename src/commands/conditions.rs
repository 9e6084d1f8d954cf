//! What every writer (publish, prune, the action's cleanup) checks before it
//! writes into a bucket: that the server honours the conditions its
//! promises rest on, as measured once per bucket and endpoint. And the
//! rows `publish --check` and `infra validate` print for it.

use anyhow::{Result, bail};

use crate::model::checks::{Row, Status, row};
use crate::model::server::{
    self, Judgement, OPT_IN, PROBE_PREFIX, RECORD_DAYS, RECORD_PREFIX, ServerRecord, record_key,
};
use crate::output::Output;
use crate::state::server::{self as record, Keep, Known};
use crate::storage::Store;

/// Refuse, before anything is written, a server that does not keep the
/// promises; with `accept` (the opt-in), warn once instead where only the
/// conditions are missing.
pub async fn require(store: &Store, accept: bool, out: &Output) -> Result<()> {
    let known = match record::once(store).await? {
        // A refusal never rests on a record alone, which any writer of the
        // bucket could have left: the server is measured again first.
        Known::Measured {
            record,
            fresh: false,
            ..
        } if matches!(server::judge(&record, accept), Judgement::Refused(_)) => {
            record::measure(store, Keep::Record).await?
        }
        known => known,
    };
    decide(known, accept, out)
}

/// What the writer may do, told as it is decided.
fn decide(known: Known, accept: bool, out: &Output) -> Result<()> {
    match known {
        Known::Ours => Ok(()),
        Known::AwsDocumented { denied } => {
            out.note(format_args!("{}", aws_unmeasured(&denied)));
            Ok(())
        }
        Known::Unmeasured { denied } if accept => {
            out.warning(&format!(
                "the server's conditional writes could not be measured ({denied}); writing anyway because --unsafe-no-conditional-writes is set: run one publisher or prune at a time against this bucket"
            ));
            Ok(())
        }
        Known::Unmeasured { denied } => bail!(
            "the server's conditional writes could not be measured ({denied}), and every promise of a publish rests on them; nothing was written. Let the publisher write {PROBE_PREFIX}* and {RECORD_PREFIX}* (`allure-host infra policy` prints the policy), or, if one publisher writes at a time, pass {OPT_IN}"
        ),
        Known::Measured {
            record,
            fresh,
            unrecorded,
        } => {
            if fresh {
                out.note(format_args!("{}", measured_note(&record)));
            }
            if let Some(why) = unrecorded {
                out.warning(&format!(
                    "the measurement could not be kept in {} ({why}), so every write measures the server again; let the publisher write it",
                    record_key(&record.endpoint)
                ));
            }
            match server::judge(&record, accept) {
                Judgement::Safe => Ok(()),
                Judgement::Accepted(warning) => {
                    out.warning(&warning);
                    Ok(())
                }
                // Told when measured, and by every check; not on each write.
                Judgement::Caution(caution) => {
                    if fresh {
                        out.warning(&caution);
                    }
                    Ok(())
                }
                Judgement::Refused(refusal) => Err(refusal.into()),
            }
        }
    }
}

/// Measure the server now and give a row per capability; the bucket keeps
/// nothing of it. Nothing for a local directory.
pub async fn rows(store: &Store, accept: bool) -> Vec<Row> {
    match record::measure(store, Keep::Nothing).await {
        Ok(Known::Ours) => Vec::new(),
        Ok(Known::AwsDocumented { denied }) => {
            vec![row("server", Status::Warn, aws_unmeasured(&denied))]
        }
        Ok(Known::Unmeasured { denied }) => vec![row(
            "server",
            if accept { Status::Warn } else { Status::Fail },
            format!("could not measure its conditional writes ({denied})"),
        )],
        Ok(Known::Measured { record, .. }) => finding_rows(&record, accept),
        Err(e) => vec![row("server", Status::Fail, format!("{e:#}"))],
    }
}

/// A row per capability: a miss fails, unless it is a condition the user
/// accepted or a race lost, which warn.
fn finding_rows(record: &ServerRecord, accept: bool) -> Vec<Row> {
    let refused = matches!(server::judge(record, accept), Judgement::Refused(_));
    record
        .findings
        .iter()
        .map(|f| {
            let status = match (f.honoured, refused) {
                (true, _) => Status::Ok,
                (false, false) => Status::Warn,
                (false, true) => Status::Fail,
            };
            row(f.capability.row_name(), status, f.detail.clone())
        })
        .collect()
}

fn measured_note(record: &ServerRecord) -> String {
    let broken: Vec<&str> = record
        .findings
        .iter()
        .filter(|f| !f.honoured)
        .map(|f| f.capability.row_name())
        .collect();
    let verdict = match broken.is_empty() {
        true => "honours conditional writes, paging and batch deletes".to_string(),
        false => format!("does not honour: {}", broken.join(", ")),
    };
    format!(
        "Measured the server {}: it {verdict} (kept in {} for {RECORD_DAYS} days; `allure-host publish --check` measures it any time)",
        record.endpoint,
        record_key(&record.endpoint)
    )
}

fn aws_unmeasured(denied: &str) -> String {
    format!(
        "AWS S3 documents conditional writes; they were not measured here because the probe was refused ({denied}). `allure-host infra policy` prints a publisher policy that allows it"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::server::{Capability, Finding};

    fn record(broken: &[Capability]) -> ServerRecord {
        let findings = Capability::ALL
            .iter()
            .map(|c| match broken.contains(c) {
                true => Finding::broken(*c, "ignored"),
                false => Finding::honoured(*c, "ok"),
            })
            .collect();
        ServerRecord::new("http://s3.local", "now".into(), findings)
    }

    fn statuses(rows: &[Row]) -> Vec<(&'static str, Status)> {
        rows.iter().map(|r| (r.name, r.status)).collect()
    }

    #[test]
    fn ignored_conditions_fail_their_rows_unless_accepted() {
        let r = record(&[Capability::ConditionalCreate]);
        assert_eq!(
            statuses(&finding_rows(&r, false))[..2],
            [
                ("conditional create", Status::Fail),
                ("conditional update", Status::Ok)
            ]
        );
        assert_eq!(
            statuses(&finding_rows(&r, true))[0],
            ("conditional create", Status::Warn)
        );
        let r = record(&[Capability::ConditionalCreate, Capability::Paging]);
        assert!(
            finding_rows(&r, true)
                .iter()
                .filter(|row| row.status != Status::Ok)
                .all(|row| row.status == Status::Fail)
        );
    }

    #[test]
    fn the_note_names_what_is_missing() {
        assert!(measured_note(&record(&[])).contains("honours conditional writes"));
        let text = measured_note(&record(&[Capability::ConditionalUpdate]));
        assert!(
            text.contains("does not honour: conditional update"),
            "{text}"
        );
    }
}
