//! Money at the FFI edge, in the business's currency and locale: the apps show amounts and read
//! typed prices through the core, so every device formats and rounds them alike.

use kartka_core::messaging::template::{self, Locale};

use crate::{ApiError, ClientBook};

#[uniffi::export]
impl ClientBook {
    /// `1 200,50 ₴` for 120050 in a Ukrainian business; `₴1,200.50` in English.
    pub fn format_money(&self, minor: i64) -> Result<String, ApiError> {
        let store = self.store()?;
        let locale = store
            .business()?
            .locale
            .parse::<Locale>()
            .unwrap_or(Locale::En);
        Ok(template::money(minor, store.currency()?, locale))
    }

    /// A price as typed (`800`, `800,50`, `1 200.5`) in minor units of the business's currency.
    pub fn parse_money(&self, input: String) -> Result<i64, ApiError> {
        let store = self.store()?;
        Ok(kartka_core::money::parse_major(&input, store.currency()?)?)
    }
}
