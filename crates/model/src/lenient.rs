//! Reading documents other tools wrote: pytest-allure-host writes `null`
//! where a value is unknown (`"run_url": null` without `--cloudfront`), and
//! serde's `default` covers only a missing key.

use serde::{Deserialize, Deserializer};

/// A `null` reads as the type's default, like a missing key.
pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
