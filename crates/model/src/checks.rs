//! Rows of a check table (publish --check, infra precheck and validate): pure
//! data; `output::check_table` prints them.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
}

pub fn row(name: &'static str, status: Status, detail: impl Into<String>) -> Row {
    Row {
        name,
        status,
        detail: detail.into(),
    }
}

/// A row that passes when `ok`, and fails with the same detail otherwise.
pub fn pass_if(name: &'static str, ok: bool, detail: impl Into<String>) -> Row {
    row(name, if ok { Status::Ok } else { Status::Fail }, detail)
}

pub fn all_ok(rows: &[Row]) -> bool {
    !rows.iter().any(|r| r.status == Status::Fail)
}
