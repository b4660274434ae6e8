//! Validation of names that users choose: file names, recipe, rendition and client names.

/// The longest file name accepted, in bytes.
pub const MAX_FILENAME_LEN: usize = 200;

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}: {reason}")]
pub struct NameError {
    /// Which kind of name.
    pub what: &'static str,
    /// Why.
    pub reason: &'static str,
}

fn err(what: &'static str, reason: &'static str) -> NameError {
    NameError { what, reason }
}

/// A plain file name: 1–200 bytes of ASCII letters, digits, space and
/// `. _ - + ( )`; no path separators, no `..`, not starting with `.` or a
/// space, not ending with a space.
pub fn validate_filename(name: &str) -> Result<(), NameError> {
    const WHAT: &str = "file name";
    if name.is_empty() {
        return Err(err(WHAT, "empty"));
    }
    if name.len() > MAX_FILENAME_LEN {
        return Err(err(WHAT, "longer than 200 bytes"));
    }
    if name.contains('/') || name.contains('\\') {
        return Err(err(WHAT, "contains a path separator"));
    }
    if name.contains("..") {
        return Err(err(WHAT, "contains .."));
    }
    if name.starts_with('.') || name.starts_with(' ') || name.ends_with(' ') {
        return Err(err(
            WHAT,
            "starts with a dot or space, or ends with a space",
        ));
    }
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b" ._-+()".contains(&b);
    if !name.bytes().all(allowed) {
        return Err(err(
            WHAT,
            "only letters, digits, space and . _ - + ( ) are allowed",
        ));
    }
    Ok(())
}

/// A recipe or rendition name: 1–32 ASCII lower-case letters, digits, `-` or `_`.
pub fn validate_rendition_name(name: &str) -> Result<(), NameError> {
    const WHAT: &str = "recipe or rendition name";
    if name.is_empty() || name.len() > 32 {
        return Err(err(WHAT, "must be 1 to 32 bytes"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(err(WHAT, "only a-z, 0-9, - and _ are allowed"));
    }
    Ok(())
}

/// A client's display name: 1–100 printable characters.
pub fn validate_client_name(name: &str) -> Result<(), NameError> {
    const WHAT: &str = "client name";
    if name.trim().is_empty() || name.chars().count() > 100 {
        return Err(err(WHAT, "must be 1 to 100 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(err(WHAT, "contains a control character"));
    }
    Ok(())
}

/// The file name without its last extension (`IMG_0001.CR2` → `IMG_0001`).
pub fn file_stem(name: &str) -> &str {
    match name.rfind('.') {
        Some(i) if i > 0 => &name[..i],
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames() {
        for good in ["IMG_0001.CR2", "a", "shot (2).NEF", "x-y+z.dng"] {
            assert!(validate_filename(good).is_ok(), "{good}");
        }
        for bad in [
            "", "../x", "a/b", "a\\b", "..", ".", ".hidden", "a..b", "a\"b", "a\nb", " a", "é.dng",
        ] {
            assert!(validate_filename(bad).is_err(), "{bad:?}");
        }
        assert!(validate_filename(&"a".repeat(201)).is_err());
    }

    #[test]
    fn stems() {
        assert_eq!(file_stem("IMG_0001.CR2"), "IMG_0001");
        assert_eq!(file_stem("a.b.c"), "a.b");
        assert_eq!(file_stem("noext"), "noext");
    }

    #[test]
    fn renditions() {
        assert!(validate_rendition_name("web").is_ok());
        assert!(validate_rendition_name("Web").is_err());
        assert!(validate_rendition_name("").is_err());
    }
}
