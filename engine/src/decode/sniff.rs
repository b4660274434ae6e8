//! Guessing a RAW file's format from its first bytes, for error messages.

/// A short name of the container format of `bytes`, from magic numbers and
/// TIFF tags; "unknown" when nothing matches.
pub fn sniff_format(bytes: &[u8]) -> &'static str {
    let head = |n: usize| bytes.get(..n);
    if let Some(h) = head(16) {
        if &h[4..12] == b"ftypcrx " {
            return "CR3";
        }
        if &h[6..14] == b"HEAPCCDR" {
            return "CRW";
        }
        if h.starts_with(b"FUJIFILM") {
            return "RAF";
        }
        if h.starts_with(b"qktk") {
            return "QTK";
        }
    }
    if let Some(h) = head(4) {
        let tiff = h == b"II*\0" || h == b"MM\0*";
        if tiff {
            if let Some(ext) = bytes.get(8..10) {
                if ext == b"CR" {
                    return "CR2";
                }
            }
            if contains(bytes, b"DNGVersion") || has_tiff_tag(bytes, 0xC612) {
                return "DNG";
            }
            return "TIFF-based RAW";
        }
        if h == b"IIRO" || h == b"IIU\0" {
            return if h == b"IIRO" { "ORF" } else { "RW2" };
        }
    }
    "unknown"
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).take(1 << 16).any(|w| w == needle)
}

/// True when IFD0 of a TIFF holds `tag`.
fn has_tiff_tag(bytes: &[u8], tag: u16) -> bool {
    let le = bytes.starts_with(b"II");
    let u16_at = |o: usize| {
        bytes.get(o..o + 2).map(|b| {
            if le {
                u16::from_le_bytes([b[0], b[1]])
            } else {
                u16::from_be_bytes([b[0], b[1]])
            }
        })
    };
    let u32_at = |o: usize| {
        bytes.get(o..o + 4).map(|b| {
            if le {
                u32::from_le_bytes([b[0], b[1], b[2], b[3]])
            } else {
                u32::from_be_bytes([b[0], b[1], b[2], b[3]])
            }
        })
    };
    let Some(ifd) = u32_at(4) else { return false };
    let ifd = ifd as usize;
    let Some(count) = u16_at(ifd) else {
        return false;
    };
    (0..usize::from(count)).any(|i| u16_at(ifd + 2 + i * 12) == Some(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_unknown() {
        assert_eq!(sniff_format(b""), "unknown");
        assert_eq!(sniff_format(b"hello world, not a raw file"), "unknown");
    }
}
