//! Deep links, SMS segments and templates, with the texts and numbers masters really send.

use chrono::{TimeZone, Utc};
use kartka_core::messaging::deeplink::{self, LinkError, Platform};
use kartka_core::messaging::segments::{SmsEncoding, analyze};
use kartka_core::messaging::template::{
    Locale, RenderContext, Template, TemplateError, VisitContext,
};
use kartka_core::phone::{parse_region, to_e164};
use percent_encoding::percent_decode_str;

fn e164(raw: &str, region: &str) -> String {
    to_e164(raw, parse_region(region).unwrap()).unwrap_or_else(|| panic!("{raw} in {region}"))
}

fn decoded(link: &str, after: &str) -> String {
    let encoded = link.split_once(after).unwrap().1;
    percent_decode_str(encoded)
        .decode_utf8()
        .unwrap()
        .to_string()
}

const TEXT: &str =
    "Олена, чекаємо вас 1.12 о 10:00 💅\nZapraszamy! Cena 800 zł & 10% off #promo +1";

#[test]
fn numbers_typed_as_people_type_them_become_links_for_every_channel() {
    let cases = [
        ("067 123 45 67", "UA", "380671234567"),
        ("+38 (050) 111-22-33", "UA", "380501112233"),
        ("601 234 567", "PL", "48601234567"),
        ("8 912 345-67-89", "RU", "79123456789"),
        ("8 (701) 234 56 78", "KZ", "77012345678"),
        ("030 1234567", "DE", "49301234567"),
        ("(415) 555-2671", "US", "14155552671"),
    ];
    for (typed, region, digits) in cases {
        let n = e164(typed, region);
        assert_eq!(n, format!("+{digits}"), "{typed}");
        assert_eq!(deeplink::tel(&n).unwrap(), format!("tel:+{digits}"));
        assert_eq!(
            deeplink::whatsapp(&n, "").unwrap(),
            format!("https://wa.me/{digits}")
        );
        assert_eq!(
            deeplink::telegram(&n).unwrap(),
            format!("https://t.me/+{digits}")
        );
        assert_eq!(
            deeplink::viber(&n).unwrap(),
            format!("viber://chat?number=%2B{digits}")
        );
    }
}

#[test]
fn an_extension_is_an_rfc_3966_parameter_in_the_record_and_a_pause_for_the_dialer() {
    assert_eq!(
        deeplink::tel_record("+380442351234", Some("5")).unwrap(),
        "tel:+380442351234;ext=5"
    );
    assert_eq!(
        deeplink::dial("+380442351234", Some("5")).unwrap(),
        "tel:+380442351234,5"
    );
    assert_eq!(
        deeplink::tel_record("+380442351234", None).unwrap(),
        "tel:+380442351234"
    );
    assert_eq!(
        deeplink::dial("+380442351234", Some("5;ext=6")),
        Err(LinkError::BadExtension)
    );
}

#[test]
fn text_is_percent_encoded_and_comes_back_whole() {
    let n = "+380671234567";
    let wa = deeplink::whatsapp(n, TEXT).unwrap();
    assert!(wa.starts_with("https://wa.me/380671234567?text=%D0%9E%D0%BB%D0%B5%D0%BD%D0%B0%2C%20"));
    assert!(wa.contains("%0A") && wa.contains("%26") && wa.contains("%23") && wa.contains("%2B1"));
    assert!(!wa[wa.find('?').unwrap() + 1..].contains(['&', '#', '+', ' ', '\n']));
    assert_eq!(decoded(&wa, "?text="), TEXT);

    let android = deeplink::sms(n, TEXT, Platform::Android).unwrap();
    let ios = deeplink::sms(n, TEXT, Platform::Ios).unwrap();
    assert!(android.starts_with("sms:+380671234567?body="));
    assert!(ios.starts_with("sms:+380671234567&body="));
    assert_eq!(decoded(&android, "?body="), TEXT);
    assert_eq!(decoded(&ios, "&body="), TEXT);
    assert_eq!(
        deeplink::sms(n, "", Platform::Ios).unwrap(),
        "sms:+380671234567"
    );

    let mail = deeplink::mailto("anna@example.pl", "Wizyta", "Dzień dobry\nDo zobaczenia").unwrap();
    assert_eq!(
        mail,
        "mailto:anna@example.pl?subject=Wizyta&body=Dzie%C5%84%20dobry%0D%0ADo%20zobaczenia"
    );
}

#[test]
fn links_refuse_what_is_not_a_number_or_an_address() {
    for bad in ["0671234567", "+", "+38 067", "+380abc", "+0123456789"] {
        assert_eq!(
            deeplink::whatsapp(bad, "x"),
            Err(LinkError::NotE164),
            "{bad}"
        );
    }
    assert_eq!(
        deeplink::mailto("not-an-address", "", ""),
        Err(LinkError::BadEmail)
    );
    assert!("ios".parse::<Platform>().is_ok() && "symbian".parse::<Platform>().is_err());
}

#[test]
fn sms_segments_follow_gsm_7_and_ucs_2() {
    let gsm = analyze(&"a".repeat(160));
    assert_eq!(
        (gsm.encoding, gsm.units, gsm.segments, gsm.remaining),
        (SmsEncoding::Gsm7, 160, 1, 0)
    );
    let two = analyze(&"a".repeat(161));
    assert_eq!(
        (two.segments, two.per_segment, two.remaining),
        (2, 153, 145)
    );
    assert_eq!(analyze(&"a".repeat(306)).segments, 2);
    assert_eq!(analyze(&"a".repeat(307)).segments, 3);
    // Extension characters take two septets.
    let euro = analyze(&format!("{}€", "a".repeat(158)));
    assert_eq!((euro.units, euro.segments), (160, 1));
    assert_eq!(analyze(&format!("{}€", "a".repeat(159))).segments, 2);
    // An escape pair is never split: 152 + € would straddle the first part's end.
    let straddle = analyze(&format!("{}€{}", "a".repeat(152), "a".repeat(10)));
    assert_eq!((straddle.units, straddle.segments), (164, 2));
    assert_eq!(straddle.remaining, 153 - 12);
    for c in ['€', '[', ']', '{', '}', '\\', '^', '~', '|'] {
        assert_eq!(analyze(&c.to_string()).units, 2, "{c}");
    }

    // One Cyrillic letter makes it all UCS-2.
    let ua = analyze(&format!("{}ї", "a".repeat(69)));
    assert_eq!(
        (ua.encoding, ua.units, ua.segments),
        (SmsEncoding::Ucs2, 70, 1)
    );
    assert_eq!(analyze(&"ї".repeat(71)).segments, 2);
    assert_eq!(analyze(&"ї".repeat(134)).segments, 2);
    assert_eq!(analyze(&"ї".repeat(135)).segments, 3);
    // An emoji is two UTF-16 units and is never split across parts.
    let emoji = analyze(&format!("{}💅", "ї".repeat(66)));
    assert_eq!((emoji.units, emoji.segments), (68, 1));
    let split = analyze(&format!("{}💅{}", "ї".repeat(66), "ї".repeat(10)));
    assert_eq!((split.units, split.segments), (78, 2));
    assert_eq!(analyze("ё").encoding, SmsEncoding::Ucs2);
    assert_eq!(analyze("Zażółć").encoding, SmsEncoding::Ucs2);
    assert_eq!(analyze("Ça va? ÄÖÜ ñ").encoding, SmsEncoding::Gsm7);
    assert_eq!(analyze("").segments, 1);
}

fn ctx(locale: Locale, zone: &str, currency: &str) -> RenderContext {
    RenderContext {
        locale,
        zone: zone.parse().unwrap(),
        currency: kartka_core::money::currency(currency).unwrap(),
        client_name: "Олена Коваленко".into(),
        client_first_name: Some("Олена".into()),
        visit: Some(VisitContext {
            start: Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap(),
            services: vec!["Манікюр".into(), "Дизайн".into()],
            total_minor: 120050,
            staff_name: Some("Марта".into()),
        }),
        business_name: "Студія".into(),
        business_phone: Some("+380441234567".into()),
        review_link: Some("https://g.page/r/x".into()),
        confirm_link: None,
    }
}

#[test]
fn templates_render_dates_and_money_the_locales_way() {
    let t = Template::parse("{client_first_name}, {visit_weekday} {visit_date} о {visit_time}: {services}, {total}. {staff_name}, {business_name} {business_phone}").unwrap();
    assert_eq!(
        t.render(&ctx(Locale::Uk, "Europe/Kyiv", "UAH")).unwrap(),
        "Олена, вівторок 1 грудня 2026 о 10:00: Манікюр, Дизайн, 1\u{a0}200,50\u{a0}₴. Марта, Студія +380441234567"
    );
    let date = Template::parse("{visit_date} {visit_time} {total}").unwrap();
    assert_eq!(
        date.render(&ctx(Locale::Pl, "Europe/Warsaw", "PLN"))
            .unwrap(),
        "1 grudnia 2026 09:00 1\u{a0}200,50\u{a0}zł"
    );
    assert_eq!(
        date.render(&ctx(Locale::Ru, "Europe/Moscow", "RUB"))
            .unwrap(),
        "1 декабря 2026 11:00 1\u{a0}200,50\u{a0}₽"
    );
    // Mid-sentence, as Russian writes it (chrono's data capitalises "Вторник").
    assert_eq!(
        Template::parse("ждём вас во {visit_weekday}")
            .unwrap()
            .render(&ctx(Locale::Ru, "Europe/Moscow", "RUB"))
            .unwrap(),
        "ждём вас во вторник"
    );
    assert_eq!(
        date.render(&ctx(Locale::En, "Europe/London", "GBP"))
            .unwrap(),
        "1 December 2026 08:00 £1,200.50"
    );
    // Summer time: Kyiv is UTC+3, Warsaw UTC+2.
    let mut summer = ctx(Locale::Uk, "Europe/Kyiv", "UAH");
    summer.visit.as_mut().unwrap().start = Utc.with_ymd_and_hms(2026, 7, 1, 7, 0, 0).unwrap();
    assert_eq!(
        date.render(&summer).unwrap(),
        "1 липня 2026 10:00 1\u{a0}200,50\u{a0}₴"
    );
    summer.zone = "Europe/Warsaw".parse().unwrap();
    summer.locale = Locale::Pl;
    assert_eq!(
        Template::parse("{visit_time}")
            .unwrap()
            .render(&summer)
            .unwrap(),
        "09:00"
    );
    assert_eq!("uk-UA".parse::<Locale>(), Ok(Locale::Uk));
}

#[test]
fn template_errors_are_caught_when_saved() {
    assert_eq!(
        Template::parse("Привіт, {client_nam}!"),
        Err(TemplateError::UnknownPlaceholder {
            name: "client_nam".into(),
            position: 8
        })
    );
    assert_eq!(
        Template::parse("Знижка {visit_date"),
        Err(TemplateError::Unclosed { position: 7 })
    );
    assert_eq!(
        Template::parse("a } b"),
        Err(TemplateError::Unopened { position: 2 })
    );
    assert_eq!(Template::parse("   "), Err(TemplateError::Empty));
    assert!(matches!(
        Template::parse(&"a".repeat(700)),
        Err(TemplateError::TooLong { .. })
    ));
    let literal = Template::parse("{{client_name}} = {client_name}").unwrap();
    assert_eq!(literal.placeholders(), ["client_name"]);
    assert_eq!(
        literal.render(&ctx(Locale::En, "UTC", "EUR")).unwrap(),
        "{client_name} = Олена Коваленко"
    );
    // A message without a visit cannot fill {visit_date}.
    let mut no_visit = ctx(Locale::Uk, "Europe/Kyiv", "UAH");
    no_visit.visit = None;
    assert_eq!(
        Template::parse("{visit_date}").unwrap().render(&no_visit),
        Err(TemplateError::MissingValue {
            name: "visit_date".into()
        })
    );
}
