//! Device tokens and invite codes: random secrets the server keeps only as SHA-256 hashes.
//!
//! A token is 32 random bytes (256 bits), given to the device once, in hex. The server looks
//! devices up by the hash of the presented token: a database dump yields no usable token, and the
//! lookup compares hashes, never the secret itself, so the time it takes says nothing about how
//! much of a guessed token was right.

use rand::Rng;
use sha2::{Digest, Sha256};

/// The alphabet of invite codes: no 0/O, 1/I/L, so a code read aloud or typed from a screen
/// survives. 32 symbols, 5 bits each.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Length of an invite code: 10 symbols, about 49 bits. Codes live 15 minutes, are single-use,
/// and joining is rate-limited per address, so guessing one is hopeless.
const CODE_LEN: usize = 10;

pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

pub fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

pub fn new_invite_code() -> String {
    let mut rng = rand::rng();
    (0..CODE_LEN)
        .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
        .collect()
}

/// The form of a code that is hashed: typed codes may carry spaces, dashes or lower case.
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A presented token is 64 hex digits; anything else is refused before touching the database.
pub fn plausible_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bits_and_distinct() {
        let a = new_token();
        assert!(plausible_token(&a));
        assert_ne!(a, new_token());
        assert_ne!(hash(&a), hash(&new_token()));
    }

    #[test]
    fn codes_survive_being_typed_sloppily() {
        let code = new_invite_code();
        assert_eq!(code.len(), CODE_LEN);
        let typed = format!(" {}-{} ", &code[..5].to_lowercase(), &code[5..]);
        assert_eq!(hash(&normalize_code(&typed)), hash(&code));
    }
}
