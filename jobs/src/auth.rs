//! Bearer tokens for the admin and for clients.
//!
//! A token is `rf_<principal>_<secret>` where the secret is 32 random bytes
//! in base64url. Only the SHA-256 of the whole token is stored (the secret
//! has 256 bits of entropy, so a fast hash is enough); comparisons are in
//! constant time. The principal (`admin` or a client id) makes lookup direct.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ids::random_bytes;

/// The principal name of the studio's admin token.
pub const ADMIN: &str = "admin";

/// A freshly issued token: show `token` once, store `hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The bearer token.
    pub token: String,
    /// Its SHA-256.
    pub hash: [u8; 32],
}

/// Issue a token for `principal` (`admin` or a client id without `_`).
pub fn issue_token(principal: &str) -> IssuedToken {
    let secret = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    let token = format!("rf_{principal}_{secret}");
    let hash = hash_token(&token);
    IssuedToken { token, hash }
}

/// SHA-256 of a token.
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The principal a token claims to be (`admin` or a client id), if the token
/// is well-formed. This says nothing about whether it is valid.
pub fn token_principal(token: &str) -> Option<&str> {
    let rest = token.strip_prefix("rf_")?;
    let (principal, secret) = rest.split_once('_')?;
    let ok_principal = !principal.is_empty()
        && principal.len() <= 64
        && principal.bytes().all(|b| b.is_ascii_alphanumeric());
    let ok_secret = secret.len() == 43
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (ok_principal && ok_secret).then_some(principal)
}

/// Whether `token` hashes to `expected`, compared in constant time.
pub fn verify_token(token: &str, expected: &[u8; 32]) -> bool {
    bool::from(hash_token(token).ct_eq(expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_parse_verify() {
        let t = issue_token("00ff00ff00ff00ff");
        assert_eq!(token_principal(&t.token), Some("00ff00ff00ff00ff"));
        assert!(verify_token(&t.token, &t.hash));
        let other = issue_token("00ff00ff00ff00ff");
        assert!(!verify_token(&other.token, &t.hash));
        let admin = issue_token(ADMIN);
        assert_eq!(token_principal(&admin.token), Some(ADMIN));
    }

    #[test]
    fn malformed_tokens() {
        for bad in ["", "rf_", "rf_abc", "rf__x", "xx_abc_def", "rf_a b_cccc"] {
            assert_eq!(token_principal(bad), None, "{bad:?}");
        }
    }
}
