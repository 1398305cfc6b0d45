//! What a client's reply means: a confirmation of their visit, a cancellation, or an opt-out,
//! in Ukrainian, Russian, Polish and English. Anything else is a message for the master to read,
//! and so is a long reply that merely starts with "yes": only short replies are taken as
//! answers, because acting on "yes, but can we move it to 11?" would be wrong.

use crate::fold::{fold, words};

/// What a short reply asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyIntent {
    /// "1", "так", "да", "tak", "yes": the client will come.
    Confirm,
    /// "2", "ні", "нет", "nie", "no": the client will not come.
    Cancel,
    /// "STOP", "стоп", "відписатися": no more messages on this channel.
    Stop,
}

/// Replies longer than this many words are read by the master, not parsed.
const MAX_WORDS: usize = 4;

/// Opt-out words first: carriers treat these as STOP whatever the conversation, so must we.
/// ("cancel" is among them, as it is for Twilio and US carriers: in English a visit is
/// cancelled with "no" or "2".)
const STOP: &[&str] = &[
    "stop",
    "stopall",
    "unsubscribe",
    "cancel",
    "end",
    "quit",
    "стоп",
    "відписатися",
    "отписаться",
    "відписка",
    "отписка",
    "rezygnuję",
    "wypisz",
];

const CONFIRM: &[&str] = &[
    "1",
    "+",
    "yes",
    "y",
    "ok",
    "okay",
    "confirm",
    "confirmed",
    "sure",
    "так",
    "ок",
    "підтверджую",
    "буду",
    "прийду",
    "да",
    "подтверждаю",
    "приду",
    "tak",
    "potwierdzam",
    "będę",
    "przyjdę",
    "👍",
];

/// Checked before [`CONFIRM`], so that "не буду" / "nie będę" are cancellations.
const CANCEL: &[&str] = &[
    "2",
    "-",
    "no",
    "n",
    "can't come",
    "cannot come",
    "ні",
    "не буду",
    "не прийду",
    "не зможу",
    "скасувати",
    "скасовую",
    "нет",
    "не приду",
    "не смогу",
    "отменить",
    "отменяю",
    "отмена",
    "nie",
    "nie będę",
    "nie przyjdę",
    "nie mogę",
    "anuluj",
    "anuluję",
    "odwołuję",
    "👎",
];

/// The reply with case, diacritics, punctuation and emoji around words folded away, as words.
fn normalized(text: &str) -> Vec<String> {
    let folded = fold(text);
    // Keep the one-character answers that are not letters or digits.
    if let t @ ("+" | "-" | "👍" | "👎") = folded.trim() {
        return vec![t.to_string()];
    }
    words(&folded).map(str::to_string).collect()
}

/// Whether `reply` (its words) starts with the phrase `keyword`.
fn starts_with(reply: &[String], keyword: &str) -> bool {
    let kw = normalized(keyword);
    !kw.is_empty() && reply.len() >= kw.len() && reply[..kw.len()] == kw[..]
}

/// The intent of a short reply, or `None` when a person should read it.
pub fn parse_reply(text: &str) -> Option<ReplyIntent> {
    let reply = normalized(text);
    if reply.is_empty() || reply.len() > MAX_WORDS {
        return None;
    }
    // An opt-out must be the whole reply ("stop", "STOP!", "відписатися"), never a word
    // inside a longer sentence.
    if reply.len() == 1 && STOP.iter().any(|k| starts_with(&reply, k)) {
        return Some(ReplyIntent::Stop);
    }
    if CANCEL.iter().any(|k| starts_with(&reply, k)) {
        return Some(ReplyIntent::Cancel);
    }
    if CONFIRM.iter().any(|k| starts_with(&reply, k)) {
        return Some(ReplyIntent::Confirm);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::ReplyIntent::*;
    use super::*;

    #[test]
    fn short_answers_in_four_languages() {
        let cases: &[(&str, Option<ReplyIntent>)] = &[
            // Ukrainian
            ("Так", Some(Confirm)),
            ("так, дякую!", Some(Confirm)),
            ("Буду", Some(Confirm)),
            ("Ні", Some(Cancel)),
            ("ні, не зможу", Some(Cancel)),
            ("Не прийду(", Some(Cancel)),
            ("Скасувати", Some(Cancel)),
            ("ВІДПИСАТИСЯ", Some(Stop)),
            // Russian
            ("Да", Some(Confirm)),
            ("да, приду", Some(Confirm)),
            ("Нет", Some(Cancel)),
            ("не приду", Some(Cancel)),
            ("Отменить", Some(Cancel)),
            ("СТОП", Some(Stop)),
            // Polish
            ("Tak", Some(Confirm)),
            ("tak, będę", Some(Confirm)),
            ("Bede", Some(Confirm)),
            ("Nie", Some(Cancel)),
            ("nie będę", Some(Cancel)),
            ("Anuluj", Some(Cancel)),
            ("Rezygnuję", Some(Stop)),
            // English and digits
            ("Yes", Some(Confirm)),
            ("yes!", Some(Confirm)),
            ("OK", Some(Confirm)),
            ("1", Some(Confirm)),
            (" 1.", Some(Confirm)),
            ("+", Some(Confirm)),
            ("👍", Some(Confirm)),
            ("No", Some(Cancel)),
            ("2", Some(Cancel)),
            ("can't come, sorry", Some(Cancel)),
            ("STOP", Some(Stop)),
            ("Cancel", Some(Stop)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_reply(text), *want, "{text:?}");
        }
    }

    #[test]
    fn anything_longer_or_unclear_is_for_the_master_to_read() {
        for text in [
            "",
            "   ",
            "Добрий день! Можна перенести на 11?",
            "yes but can we move it to 11",
            "Tak, ale czy mogę przyjść o 11?",
            "Дякую",
            "12",
            "10:00?",
            "stop sending me the wrong time",
            "а можна о другій?",
        ] {
            assert_eq!(parse_reply(text), None, "{text:?}");
        }
    }
}
