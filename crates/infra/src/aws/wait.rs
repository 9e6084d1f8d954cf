//! Polling a distribution until CloudFront has deployed it.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::Aws;
use crate::state::DistributionState;

#[derive(Debug, Clone, Copy)]
pub struct Wait {
    pub timeout: Duration,
    pub interval: Duration,
}

/// Deployed with `Enabled` as wanted: the only state CloudFront lets us
/// delete from (disabled) or calls ready (enabled).
pub fn settled(d: &DistributionState, want_enabled: bool) -> bool {
    d.deployed() && d.config.enabled() == want_enabled
}

impl Aws {
    pub async fn wait_for(
        &self,
        id: &str,
        want_enabled: bool,
        wait: Wait,
        mut progress: impl FnMut(&DistributionState, Duration),
    ) -> Result<DistributionState> {
        let start = Instant::now();
        loop {
            let Some(d) = self.distribution(id).await? else {
                bail!("distribution {id} disappeared while waiting for it");
            };
            if settled(&d, want_enabled) {
                return Ok(d);
            }
            let elapsed = start.elapsed();
            if elapsed + wait.interval > wait.timeout {
                bail!(
                    "distribution {id} is still {} after {}s; CloudFront can take 15 minutes or more. Run the same command again to keep waiting, or raise --wait-timeout",
                    d.status,
                    elapsed.as_secs()
                );
            }
            progress(&d, elapsed);
            tokio::time::sleep(wait.interval).await;
        }
    }
}
