//! HMAC-SHA256-signed, expiring links to objects (the local stand-in for
//! S3 presigned URLs).
//!
//! The signature covers the HTTP method, the object key and the expiry
//! (Unix seconds); it is base64url without padding. Links have the form
//! `/v1/objects/<percent-encoded key>?expires=<secs>&sig=<sig>`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::key::ObjectKey;

type HmacSha256 = Hmac<Sha256>;

/// The path under which objects are served.
pub const OBJECTS_PATH: &str = "/v1/objects/";

/// Why a link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// The signature does not match (tampered link or another key).
    #[error("bad signature")]
    BadSignature,
    /// The link is past its expiry.
    #[error("link expired")]
    Expired,
}

/// Signs and checks links with a 32-byte secret.
#[derive(Clone)]
pub struct LinkSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner { .. }")
    }
}

impl LinkSigner {
    /// A signer with this secret.
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// A new random secret.
    pub fn generate_key() -> [u8; 32] {
        crate::ids::random_bytes()
    }

    fn mac(&self, method: &str, key: &str, expires: u64) -> HmacSha256 {
        // Hmac accepts keys of any length, so this cannot fail.
        let mut mac = match HmacSha256::new_from_slice(&self.key) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(method.to_ascii_uppercase().as_bytes());
        mac.update(b"\n");
        mac.update(key.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// The signature of (`method`, `key`, `expires`).
    pub fn sign(&self, method: &str, key: &ObjectKey, expires: u64) -> String {
        URL_SAFE_NO_PAD.encode(
            self.mac(method, key.as_str(), expires)
                .finalize()
                .into_bytes(),
        )
    }

    /// Check a signature (in constant time), then the expiry against `now` (Unix seconds).
    pub fn verify(
        &self,
        method: &str,
        key: &ObjectKey,
        expires: u64,
        sig: &str,
        now: u64,
    ) -> Result<(), LinkError> {
        let sig = URL_SAFE_NO_PAD
            .decode(sig.as_bytes())
            .map_err(|_| LinkError::BadSignature)?;
        self.mac(method, key.as_str(), expires)
            .verify_slice(&sig)
            .map_err(|_| LinkError::BadSignature)?;
        if now > expires {
            return Err(LinkError::Expired);
        }
        Ok(())
    }

    /// The signed path-and-query for `method` on `key`, valid until `expires`.
    pub fn signed_path(&self, method: &str, key: &ObjectKey, expires: u64) -> String {
        format!(
            "{OBJECTS_PATH}{}?expires={expires}&sig={}",
            encode_key(key),
            self.sign(method, key, expires)
        )
    }
}

/// Percent-encode each segment of a key (unreserved characters kept), keeping `/`.
pub fn encode_key(key: &ObjectKey) -> String {
    let mut out = String::with_capacity(key.as_str().len());
    for b in key.as_str().bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify() {
        let s = LinkSigner::new([7; 32]);
        let k = ObjectKey::new("processed/ab/cd/web.jpg").unwrap();
        let sig = s.sign("GET", &k, 1000);
        assert_eq!(s.verify("GET", &k, 1000, &sig, 999), Ok(()));
        assert_eq!(
            s.verify("GET", &k, 1000, &sig, 1001),
            Err(LinkError::Expired)
        );
        assert_eq!(
            s.verify("PUT", &k, 1000, &sig, 999),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            s.verify("GET", &k, 1001, &sig, 999),
            Err(LinkError::BadSignature)
        );
        let k2 = ObjectKey::new("processed/ab/cd/web.jpeg").unwrap();
        assert_eq!(
            s.verify("GET", &k2, 1000, &sig, 999),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            s.verify("GET", &k, 1000, "!!", 999),
            Err(LinkError::BadSignature)
        );
        let other = LinkSigner::new([8; 32]);
        assert_eq!(
            other.verify("GET", &k, 1000, &sig, 999),
            Err(LinkError::BadSignature)
        );
    }

    #[test]
    fn encodes_keys() {
        let k = ObjectKey::new("raw/ab/cd/shot (2).NEF").unwrap();
        assert_eq!(encode_key(&k), "raw/ab/cd/shot%20%282%29.NEF");
    }
}
