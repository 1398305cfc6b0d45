//! Deep links into the phone's own apps. Every function takes an E.164 number (normalised by
//! the store with libphonenumber's rules) and percent-encodes text as UTF-8 (RFC 3986: only
//! unreserved characters stay as they are; a space is `%20`, never `+`, which some apps would
//! show as a plus).

use std::fmt;
use std::str::FromStr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986's unreserved characters is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Android,
    Ios,
}

impl Platform {
    pub fn as_str(&self) -> &'static str {
        match self {
            Platform::Android => "android",
            Platform::Ios => "ios",
        }
    }
}

impl FromStr for Platform {
    type Err = LinkError;
    fn from_str(s: &str) -> Result<Self, LinkError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "android" => Ok(Platform::Android),
            "ios" | "iphone" => Ok(Platform::Ios),
            _ => Err(LinkError::UnknownPlatform),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("not an E.164 number (+ and 8 to 15 digits)")]
    NotE164,
    #[error("not an extension (1 to 20 digits)")]
    BadExtension,
    #[error("not an email address")]
    BadEmail,
    #[error("unknown platform: expected android or ios")]
    UnknownPlatform,
    #[error("not a Telegram bot username (5-32 of a-z, 0-9, _, ending in \"bot\")")]
    BadBotName,
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// The digits of an E.164 number, checked.
fn digits(e164: &str) -> Result<&str, LinkError> {
    let d = e164.strip_prefix('+').ok_or(LinkError::NotE164)?;
    if (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0') {
        Ok(d)
    } else {
        Err(LinkError::NotE164)
    }
}

/// `tel:+380671234567` (RFC 3966).
pub fn tel(e164: &str) -> Result<String, LinkError> {
    Ok(format!("tel:+{}", digits(e164)?))
}

/// The extension's digits, checked (libphonenumber reads at most 20).
fn extension_digits(ext: &str) -> Result<&str, LinkError> {
    if !ext.is_empty() && ext.len() <= 20 && ext.bytes().all(|b| b.is_ascii_digit()) {
        Ok(ext)
    } else {
        Err(LinkError::BadExtension)
    }
}

/// The RFC 3966 record of a number with its extension: `tel:+380442351234;ext=5`.
pub fn tel_record(e164: &str, extension: Option<&str>) -> Result<String, LinkError> {
    let mut link = tel(e164)?;
    if let Some(ext) = extension {
        link.push_str(";ext=");
        link.push_str(extension_digits(ext)?);
    }
    Ok(link)
}

/// What the phone's dialer is given: the number, then a pause (`,`, which Android's and iOS's
/// dialers wait on before sending the rest as tones) and the extension. Neither dialer reads
/// RFC 3966's `;ext=`.
pub fn dial(e164: &str, extension: Option<&str>) -> Result<String, LinkError> {
    let mut link = tel(e164)?;
    if let Some(ext) = extension {
        link.push(',');
        link.push_str(extension_digits(ext)?);
    }
    Ok(link)
}

/// `sms:` with a body (RFC 5724). Android reads `?body=`; iOS expects `&body=` after the
/// number. An empty body adds no parameter.
pub fn sms(e164: &str, body: &str, platform: Platform) -> Result<String, LinkError> {
    let d = digits(e164)?;
    if body.is_empty() {
        return Ok(format!("sms:+{d}"));
    }
    let sep = match platform {
        Platform::Android => '?',
        Platform::Ios => '&',
    };
    Ok(format!("sms:+{d}{sep}body={}", encode(body)))
}

/// `https://wa.me/<digits>?text=…`: the full international number, digits only.
pub fn whatsapp(e164: &str, text: &str) -> Result<String, LinkError> {
    let d = digits(e164)?;
    if text.is_empty() {
        return Ok(format!("https://wa.me/{d}"));
    }
    Ok(format!("https://wa.me/{d}?text={}", encode(text)))
}

/// `https://t.me/+<digits>`: opens a chat with a person who can be found by number. Telegram
/// takes no text in this link; the master pastes it.
pub fn telegram(e164: &str) -> Result<String, LinkError> {
    Ok(format!("https://t.me/+{}", digits(e164)?))
}

/// `viber://chat?number=%2B<digits>`.
pub fn viber(e164: &str) -> Result<String, LinkError> {
    Ok(format!("viber://chat?number=%2B{}", digits(e164)?))
}

/// `mailto:` (RFC 6068), with subject and body when given.
pub fn mailto(email: &str, subject: &str, body: &str) -> Result<String, LinkError> {
    let e = email.trim();
    let ok = e
        .split_once('@')
        .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
        && !e.chars().any(|c| c.is_whitespace() || c == '?' || c == '&');
    if !ok {
        return Err(LinkError::BadEmail);
    }
    let mut params = Vec::new();
    if !subject.is_empty() {
        params.push(format!("subject={}", encode(subject)));
    }
    if !body.is_empty() {
        // RFC 6068: line breaks in a body are CRLF.
        params.push(format!(
            "body={}",
            encode(&body.replace("\r\n", "\n").replace('\n', "\r\n"))
        ));
    }
    let local_domain = e
        .split_once('@')
        .map(|(l, d)| format!("{}@{d}", encode(l)))
        .unwrap_or_default();
    Ok(if params.is_empty() {
        format!("mailto:{local_domain}")
    } else {
        format!("mailto:{local_domain}?{}", params.join("&"))
    })
}

/// Telegram's rule for bot usernames.
pub fn valid_bot_name(bot: &str) -> bool {
    (5..=32).contains(&bot.len())
        && bot.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && bot.to_ascii_lowercase().ends_with("bot")
}
