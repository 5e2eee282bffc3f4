//! Password hashing (argon2id) and the strength rule.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::UserError;

/// A valid hash of a password nobody has, verified against for unknown
/// accounts so they take as long as known ones.
pub(crate) const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2Q1iJ1AKB1fFgIU4tcXzzw+CGZtpiQ1cj3L1nWxk6Ho";

/// Passwords too common to allow whatever their length.
const COMMON: &[&str] = &[
    "password",
    "password1",
    "12345678",
    "123456789",
    "1234567890",
    "qwertyuiop",
    "qwerty123",
    "iloveyou",
    "11111111",
    "00000000",
    "abc12345",
    "passw0rd",
    "letmein1",
    "welcome1",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "superman",
    "trustno1",
];

/// Refuses passwords shorter than 8 characters, made of one repeated
/// character, containing the user name, or among the most common ones.
pub fn check_strength(username: &str, password: &str) -> Result<(), UserError> {
    let lower = password.to_lowercase();
    if password.chars().count() < 8 {
        return Err(UserError::WeakPassword("shorter than 8 characters"));
    }
    if password.chars().all(|c| password.starts_with(c)) {
        return Err(UserError::WeakPassword("one character repeated"));
    }
    if !username.is_empty() && lower.contains(&username.to_lowercase()) {
        return Err(UserError::WeakPassword("contains the user name"));
    }
    if COMMON.contains(&lower.as_str()) {
        return Err(UserError::WeakPassword("one of the most common passwords"));
    }
    Ok(())
}

/// The argon2id PHC string of `password` with a random salt.
pub(crate) fn hash(password: &str) -> Result<String, UserError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| UserError::Invalid(format!("hashing the password: {e}")))
}

/// True when `password` matches the PHC string `hash`.
pub(crate) fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_rules() {
        assert!(check_strength("alice", "short").is_err());
        assert!(check_strength("alice", "aaaaaaaaaa").is_err());
        assert!(check_strength("alice", "my-Alice-2024").is_err());
        assert!(check_strength("alice", "Password1").is_err());
        assert!(check_strength("alice", "correct horse").is_ok());
    }

    #[test]
    fn hash_verifies_and_the_dummy_parses() {
        let h = hash("correct horse").expect("hash");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("correct horse", &h));
        assert!(!verify("wrong horse", &h));
        assert!(PasswordHash::new(DUMMY).is_ok());
        assert!(!verify("anything", DUMMY));
    }
}
