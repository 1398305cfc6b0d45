#![no_main]
//! Any text as a template, rendered with and without a visit: a text or a typed error, never a
//! panic; and every SMS text analysed.

use chrono::{TimeZone, Utc};
use kartka_core::messaging::template::{Locale, RenderContext, Template, VisitContext};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let _ = kartka_core::messaging::segments::analyze(body);
    let Ok(t) = Template::parse(body) else { return };
    for (locale, visit) in [
        (Locale::Uk, true),
        (Locale::En, false),
        (Locale::Pl, true),
        (Locale::Ru, false),
    ] {
        let ctx = RenderContext {
            locale,
            zone: chrono_tz::Europe::Kyiv,
            currency: kartka_core::money::currency("UAH").unwrap(),
            client_name: body.chars().take(40).collect(),
            client_first_name: None,
            visit: visit.then(|| VisitContext {
                start: Utc
                    .timestamp_opt(i64::from(data.len() as u32) * 86_400, 0)
                    .unwrap(),
                services: vec![body.chars().take(10).collect()],
                total_minor: i64::from(data.first().copied().unwrap_or(0)) * -1_000_003,
                staff_name: None,
            }),
            business_name: "Студія".into(),
            business_phone: None,
            review_link: None,
            confirm_link: None,
        };
        let _ = t.render(&ctx);
    }
});
