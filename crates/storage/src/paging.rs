//! The rules a listing's pages must keep, checked page by page before a
//! page is used: a truncated page names the next token, no token comes
//! twice, no key comes twice, every key is under the prefix, no endless
//! run of empty pages, and the listing stays within a bound. A listing that
//! breaks one stops with an error, so nothing (prune above all) ever acts
//! on a partial or looping view. Pure: the S3 store feeds it pages.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};

/// How far a listing may go before it is judged runaway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Keys (and folders) in all.
    pub keys: u64,
}

impl Limit {
    /// For listings whose size nothing predicts (a whole site).
    pub const UNBOUNDED: Limit = Limit { keys: 100_000_000 };

    /// For a listing of a few keys the caller wrote itself.
    pub const fn at_most(keys: u64) -> Limit {
        Limit { keys }
    }
}

/// Empty truncated pages in a row that end a listing: S3 may answer a few
/// (e.g. past delete markers), never this many.
const EMPTY_RUN: u64 = 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PagingError {
    #[error("page {page} says more follows but gives no continuation token")]
    MissingToken { page: u64 },
    #[error("page {page} repeats the continuation token of an earlier page")]
    RepeatedToken { page: u64 },
    #[error("page {page} repeats the key {key:?} of an earlier page")]
    RepeatedKey { page: u64, key: String },
    #[error("page {page} holds {key:?}, which is not under the prefix asked for")]
    Foreign { page: u64, key: String },
    #[error("the listing went past {limit} keys in {page} pages, past the bound set for it")]
    Runaway { page: u64, limit: u64 },
    #[error("page {page} ends a run of {EMPTY_RUN} empty pages that each say more follows")]
    EmptyPages { page: u64 },
}

/// One page as the server answered it.
pub struct Page<'a> {
    /// Keys and folder prefixes, in the order given.
    pub keys: Vec<&'a str>,
    /// `IsTruncated`; None when the server left it out.
    pub truncated: Option<bool>,
    pub next_token: Option<&'a str>,
}

/// The state of one listing.
pub struct Pager<'a> {
    prefix: &'a str,
    limit: Limit,
    pages: u64,
    keys: u64,
    /// Empty pages in a row, up to the current one.
    empty_run: u64,
    tokens: HashSet<String>,
    /// Hashes of the keys seen: 8 bytes a key, however long the key.
    seen: HashSet<u64>,
    hasher: RandomState,
}

impl<'a> Pager<'a> {
    pub fn new(prefix: &'a str, limit: Limit) -> Self {
        Self {
            prefix,
            limit,
            pages: 0,
            keys: 0,
            empty_run: 0,
            tokens: HashSet::new(),
            seen: HashSet::new(),
            hasher: RandomState::new(),
        }
    }

    /// Check `page`; the token to ask for next, or None when it was the last.
    pub fn next(&mut self, page: &Page) -> Result<Option<String>, PagingError> {
        self.pages += 1;
        let at = self.pages;
        for key in &page.keys {
            self.take_key(key)?;
        }
        self.empty_run = if page.keys.is_empty() {
            self.empty_run + 1
        } else {
            0
        };
        if self.keys > self.limit.keys {
            return Err(PagingError::Runaway {
                page: at,
                limit: self.limit.keys,
            });
        }
        let token = page.next_token.filter(|t| !t.is_empty());
        let more = page.truncated.unwrap_or(token.is_some());
        if !more {
            return Ok(None);
        }
        let Some(token) = token else {
            return Err(PagingError::MissingToken { page: at });
        };
        if !self.tokens.insert(token.to_string()) {
            return Err(PagingError::RepeatedToken { page: at });
        }
        if self.empty_run >= EMPTY_RUN {
            return Err(PagingError::EmptyPages { page: at });
        }
        Ok(Some(token.to_string()))
    }

    fn take_key(&mut self, key: &str) -> Result<(), PagingError> {
        let page = self.pages;
        if !key.starts_with(self.prefix) {
            return Err(PagingError::Foreign {
                page,
                key: key.to_string(),
            });
        }
        if !self.seen.insert(self.hasher.hash_one(key)) {
            return Err(PagingError::RepeatedKey {
                page,
                key: key.to_string(),
            });
        }
        self.keys += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn page<'a>(keys: &[&'a str], truncated: Option<bool>, next: Option<&'a str>) -> Page<'a> {
        Page {
            keys: keys.to_vec(),
            truncated,
            next_token: next,
        }
    }

    #[test]
    fn a_well_paged_listing_ends() {
        let mut p = Pager::new("b/", Limit::UNBOUNDED);
        assert_eq!(
            p.next(&page(&["b/1"], Some(true), Some("t1"))),
            Ok(Some("t1".into()))
        );
        assert_eq!(p.next(&page(&["b/2"], Some(false), Some("t2"))), Ok(None));
        // A server that leaves IsTruncated out: the token decides.
        let mut p = Pager::new("b/", Limit::UNBOUNDED);
        assert_eq!(
            p.next(&page(&["b/1"], None, Some("t1"))),
            Ok(Some("t1".into()))
        );
        assert_eq!(p.next(&page(&["b/2"], None, Some(""))), Ok(None));
    }

    #[test]
    fn each_misbehaviour_stops_the_listing() {
        let mut p = Pager::new("b/", Limit::UNBOUNDED);
        assert_eq!(
            p.next(&page(&["b/1"], Some(true), None)),
            Err(PagingError::MissingToken { page: 1 })
        );
        let mut p = Pager::new("b/", Limit::UNBOUNDED);
        p.next(&page(&["b/1"], Some(true), Some("t"))).unwrap();
        assert_eq!(
            p.next(&page(&["b/2"], Some(true), Some("t"))),
            Err(PagingError::RepeatedToken { page: 2 })
        );
        let mut p = Pager::new("b/", Limit::UNBOUNDED);
        p.next(&page(&["b/1"], Some(true), Some("t1"))).unwrap();
        assert!(matches!(
            p.next(&page(&["b/1"], Some(true), Some("t2"))),
            Err(PagingError::RepeatedKey { page: 2, .. })
        ));
        let mut p = Pager::new("b/", Limit::UNBOUNDED);
        assert!(matches!(
            p.next(&page(&["b/1", "c/1"], Some(false), None)),
            Err(PagingError::Foreign { .. })
        ));
        let mut p = Pager::new("b/", Limit { keys: 2 });
        p.next(&page(&["b/1", "b/2"], Some(true), Some("t1")))
            .unwrap();
        assert!(matches!(
            p.next(&page(&["b/3"], Some(true), Some("t2"))),
            Err(PagingError::Runaway { .. })
        ));
    }

    #[test]
    fn endless_empty_pages_end_and_a_few_do_not() {
        let mut p = Pager::new("b/", Limit::UNBOUNDED);
        let tokens: Vec<String> = (0..2 * EMPTY_RUN).map(|i| format!("t{i}")).collect();
        let stopped = tokens
            .iter()
            .map(|t| p.next(&page(&[], Some(true), Some(t))))
            .find_map(Result::err);
        assert_eq!(stopped, Some(PagingError::EmptyPages { page: EMPTY_RUN }));

        let mut p = Pager::new("b/", Limit::UNBOUNDED);
        for t in &tokens[..10] {
            p.next(&page(&[], Some(true), Some(t))).unwrap();
        }
        assert_eq!(p.next(&page(&["b/1"], Some(false), None)), Ok(None));
    }

    proptest! {
        /// Any listing a server could return either ends with every key
        /// exactly once, or is stopped: it never loops past its limit.
        #[test]
        fn a_listing_ends_or_stops_within_its_limit(
            pages in prop::collection::vec(
                (prop::collection::vec(0u8..20, 0..4), any::<Option<bool>>(), prop::option::of(0u8..6)),
                1..30,
            ),
            limit in 1u64..40,
        ) {
            let keys: Vec<Vec<String>> = pages.iter()
                .map(|(k, _, _)| k.iter().map(|n| format!("b/{n}")).collect())
                .collect();
            let tokens: Vec<Option<String>> = pages.iter().map(|(_, _, t)| t.map(|t| format!("t{t}"))).collect();
            let mut pager = Pager::new("b/", Limit { keys: limit });
            let mut taken = Vec::new();
            let mut ended = false;
            for (i, (_, truncated, _)) in pages.iter().enumerate() {
                let page = Page {
                    keys: keys[i].iter().map(String::as_str).collect(),
                    truncated: *truncated,
                    next_token: tokens[i].as_deref(),
                };
                match pager.next(&page) {
                    Ok(next) => {
                        taken.extend(keys[i].iter().cloned());
                        if next.is_none() { ended = true; break; }
                    }
                    Err(_) => break,
                }
            }
            prop_assert!(taken.len() as u64 <= limit);
            if ended {
                let mut unique = taken.clone();
                unique.sort();
                unique.dedup();
                prop_assert_eq!(unique.len(), taken.len());
            }
        }
    }
}
