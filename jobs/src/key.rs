//! Object keys: validated, relative, `/`-separated names.
//!
//! The key layout of the studio:
//! - `raw/<client>/<job>/<filename>` — an uploaded RAW file;
//! - `processed/<client>/<job>/<rendition>.<ext>` — a developed output.

use std::fmt;

use crate::ids::is_valid_id;
use crate::names::{validate_filename, validate_rendition_name};

/// The longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 1024;

/// Why a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key is empty.
    #[error("empty key")]
    Empty,
    /// The key is longer than [`MAX_KEY_LEN`] bytes.
    #[error("key longer than {MAX_KEY_LEN} bytes")]
    TooLong,
    /// The key starts with `/`.
    #[error("absolute key")]
    Absolute,
    /// The key has a NUL, control character or backslash.
    #[error("key contains a forbidden character")]
    ForbiddenChar,
    /// The key has an empty segment (`a//b`, trailing `/`).
    #[error("key has an empty segment")]
    EmptySegment,
    /// A segment is `.`, `..` or starts with `.` (reserved for temporary files).
    #[error("key has a dot segment")]
    DotSegment,
    /// The key is valid but not of the expected shape.
    #[error("key is not of the form {0}")]
    Shape(&'static str),
}

/// A validated object key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// Validate `key`: non-empty, at most [`MAX_KEY_LEN`] bytes, relative,
    /// printable (no NUL, control characters or backslash), with no empty
    /// segments and no segment starting with `.` (so no `.` or `..`).
    pub fn new(key: &str) -> Result<Self, KeyError> {
        validate_key(key)?;
        Ok(Self(key.to_string()))
    }

    /// The key as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `/`-separated segments.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The last segment.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// `raw/<client>/<job>/<filename>`.
    pub fn raw_input(client_id: &str, job_id: &str, filename: &str) -> Result<Self, KeyError> {
        check_id(client_id)?;
        check_id(job_id)?;
        validate_filename(filename)
            .map_err(|_| KeyError::Shape("raw/<client>/<job>/<filename>"))?;
        Self::new(&format!("raw/{client_id}/{job_id}/{filename}"))
    }

    /// `processed/<client>/<job>/<rendition>.<ext>`.
    pub fn output(
        client_id: &str,
        job_id: &str,
        rendition: &str,
        ext: &str,
    ) -> Result<Self, KeyError> {
        const SHAPE: &str = "processed/<client>/<job>/<rendition>.<ext>";
        check_id(client_id)?;
        check_id(job_id)?;
        validate_rendition_name(rendition).map_err(|_| KeyError::Shape(SHAPE))?;
        if ext.is_empty() || ext.len() > 8 || !ext.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(KeyError::Shape(SHAPE));
        }
        Self::new(&format!("processed/{client_id}/{job_id}/{rendition}.{ext}"))
    }

    /// Split `raw/<client>/<job>/<filename>` into its parts.
    pub fn parse_raw_input(&self) -> Result<RawInputKey<'_>, KeyError> {
        const SHAPE: &str = "raw/<client>/<job>/<filename>";
        let mut parts = self.0.split('/');
        match (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) {
            (Some("raw"), Some(client_id), Some(job_id), Some(filename), None)
                if is_valid_id(client_id)
                    && is_valid_id(job_id)
                    && validate_filename(filename).is_ok() =>
            {
                Ok(RawInputKey {
                    client_id,
                    job_id,
                    filename,
                })
            }
            _ => Err(KeyError::Shape(SHAPE)),
        }
    }

    /// Split `processed/<client>/<job>/<file>` into client, job and file name.
    pub fn parse_output(&self) -> Option<(&str, &str, &str)> {
        let mut parts = self.0.split('/');
        match (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) {
            (Some("processed"), Some(c), Some(j), Some(f), None)
                if is_valid_id(c) && is_valid_id(j) =>
            {
                Some((c, j, f))
            }
            _ => None,
        }
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The parts of a RAW input key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawInputKey<'a> {
    /// The owning client.
    pub client_id: &'a str,
    /// The job the upload belongs to.
    pub job_id: &'a str,
    /// The file name the client gave.
    pub filename: &'a str,
}

fn check_id(id: &str) -> Result<(), KeyError> {
    if is_valid_id(id) {
        Ok(())
    } else {
        Err(KeyError::Shape("hexadecimal ids"))
    }
}

/// Validate a key (see [`ObjectKey::new`]).
pub fn validate_key(key: &str) -> Result<(), KeyError> {
    if key.is_empty() {
        return Err(KeyError::Empty);
    }
    if key.len() > MAX_KEY_LEN {
        return Err(KeyError::TooLong);
    }
    if key.starts_with('/') {
        return Err(KeyError::Absolute);
    }
    if key.chars().any(|c| c.is_control() || c == '\\') {
        return Err(KeyError::ForbiddenChar);
    }
    for segment in key.split('/') {
        if segment.is_empty() {
            return Err(KeyError::EmptySegment);
        }
        if segment.starts_with('.') {
            return Err(KeyError::DotSegment);
        }
    }
    Ok(())
}

/// Validate a listing prefix: empty, or a key optionally followed by `/`.
pub fn validate_prefix(prefix: &str) -> Result<(), KeyError> {
    if prefix.is_empty() {
        return Ok(());
    }
    validate_key(prefix.strip_suffix('/').unwrap_or(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_keys() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a/./b",
            "a//b",
            "a/",
            "a\\b",
            "a\0b",
            "a\nb",
            ".rf-tmp-1",
            "a/.hidden",
        ] {
            assert!(ObjectKey::new(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(ObjectKey::new(&"a".repeat(1025)), Err(KeyError::TooLong));
        assert!(ObjectKey::new(&"a".repeat(1024)).is_ok());
    }

    #[test]
    fn accepts_good_keys() {
        for good in [
            "a",
            "raw/c/j/IMG_0001.CR2",
            "processed/x/y/web.jpg",
            "a b/é",
        ] {
            assert!(ObjectKey::new(good).is_ok(), "{good:?} refused");
        }
    }

    #[test]
    fn raw_keys_round_trip() {
        let k = ObjectKey::raw_input("00ff", "abcd", "IMG_1.CR2").unwrap();
        let p = k.parse_raw_input().unwrap();
        assert_eq!(
            (p.client_id, p.job_id, p.filename),
            ("00ff", "abcd", "IMG_1.CR2")
        );
        assert!(ObjectKey::new("raw/00ff/abcd")
            .unwrap()
            .parse_raw_input()
            .is_err());
        assert!(ObjectKey::new("raw/zz/abcd/x.dng")
            .unwrap()
            .parse_raw_input()
            .is_err());
        assert!(ObjectKey::raw_input("00ff", "abcd", "a/b").is_err());
        let o = ObjectKey::output("00ff", "abcd", "web", "jpg").unwrap();
        assert_eq!(o.as_str(), "processed/00ff/abcd/web.jpg");
        assert_eq!(o.parse_output(), Some(("00ff", "abcd", "web.jpg")));
    }
}
