//! Random identifiers and wall-clock time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `n` random bytes from the operating system.
///
/// # Panics
/// Only if the operating system has no random source at all, in which case
/// no token or key could be made safely.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    if let Err(e) = getrandom::fill(&mut buf) {
        // There is no safe fallback for key material.
        panic!("the operating system's random source failed: {e}");
    }
    buf
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Parse lower- or upper-case hexadecimal of exactly `N` bytes.
pub fn parse_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.trim().as_bytes();
    if s.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        let hi = char::from(pair[0]).to_digit(16)?;
        let lo = char::from(pair[1]).to_digit(16)?;
        out[i] = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

/// A new client id: 16 hex digits (never contains `_`, so it can sit inside a token).
pub fn new_client_id() -> String {
    hex(&random_bytes::<8>())
}

/// A new job id: 24 hex digits.
pub fn new_job_id() -> String {
    hex(&random_bytes::<12>())
}

/// Whether `s` looks like an id made by this module (hex digits, 1–64 of them).
pub fn is_valid_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Saturating conversion of a duration to milliseconds.
pub fn duration_millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// RFC 3339 (UTC, seconds precision) for a time in milliseconds since the epoch.
pub fn rfc3339_millis(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}

/// RFC 3339 (UTC, seconds precision) for a time in seconds since the epoch.
pub fn rfc3339_secs(secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let b = random_bytes::<32>();
        assert_eq!(parse_hex::<32>(&hex(&b)), Some(b));
        assert_eq!(parse_hex::<2>("zz00"), None);
        assert_eq!(parse_hex::<2>("00"), None);
    }

    #[test]
    fn ids_are_hex() {
        assert!(is_valid_id(&new_client_id()));
        assert!(is_valid_id(&new_job_id()));
        assert!(!is_valid_id("../x"));
        assert_eq!(rfc3339_secs(0), "1970-01-01T00:00:00Z");
    }
}
