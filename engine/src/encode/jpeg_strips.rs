//! A JPEG encoded as independent horizontal strips, joined into one baseline
//! stream with restart markers.
//!
//! Each strip is compressed on its own (so strips can be
//! encoded in parallel, and as soon as their pixels exist, without the whole
//! image in memory). Strips are a whole number of MCU rows high, so with a
//! restart interval of one strip's MCUs the joined stream decodes to exactly
//! the pixels of the whole image compressed at once: a restart only resets
//! the DC predictions, which are coded losslessly, and the encoders' chroma
//! downsampling never looks across an MCU row boundary.
//!
//! Layout of the result: `SOI, [JFIF APP0], APP1 Exif, APP2 ICC…, DQT, SOF
//! (full height), DHT, DRI, SOS, strip 0, RST0, strip 1, RST1, …, EOI`.

use super::jpeg::{check_settings, compress, err, marker_segments};
use super::{check_dims, Embed, Subsampling};
use crate::error::{Error, Result};
use crate::image::Rgb8;

const SOI: [u8; 2] = [0xFF, 0xD8];
const EOI: [u8; 2] = [0xFF, 0xD9];
const APP0: u8 = 0xE0;
const SOS: u8 = 0xDA;
const DRI: u8 = 0xDD;
const RST0: u8 = 0xD0;

/// Encodes one image as strips of a fixed height and joins them.
#[derive(Debug, Clone)]
pub struct StripJpeg {
    width: usize,
    height: usize,
    strip_rows: usize,
    quality: u8,
    subsampling: Subsampling,
    /// MCUs per strip: the restart interval.
    interval: u16,
}

/// The parts of one compressed strip.
struct Parts<'a> {
    /// The JFIF APP0 segment, if the strip has one.
    app0: &'a [u8],
    /// Every segment after SOI (and APP0) up to and including the SOS header.
    header: &'a [u8],
    /// Offset of the SOF height field inside `header`.
    sof_height_at: usize,
    /// The entropy-coded data.
    data: &'a [u8],
}

impl StripJpeg {
    /// Prepare a `width` × `height` JPEG made of strips of `strip_rows` rows
    /// (the last one may be shorter). `strip_rows` must be a multiple of the
    /// MCU height (16 for 4:2:0, 8 otherwise), and one strip must hold at most
    /// 65535 MCUs.
    pub fn new(
        width: usize,
        height: usize,
        strip_rows: usize,
        quality: u8,
        subsampling: Subsampling,
    ) -> Result<Self> {
        // Checks quality and the 65535-pixel limit.
        check_settings(width.max(1), height.max(1), quality)?;
        check_dims(width, height, width * height * 3, "JPEG")?;
        let (mcu_w, mcu_h) = match subsampling {
            Subsampling::S420 => (16, 16),
            Subsampling::S422 => (16, 8),
            Subsampling::S444 => (8, 8),
        };
        if strip_rows == 0 || strip_rows % mcu_h != 0 {
            return Err(Error::InvalidParameter(format!(
                "JPEG strips of {strip_rows} rows are not a multiple of the {mcu_h}-row MCU"
            )));
        }
        let interval =
            u16::try_from(width.div_ceil(mcu_w) * (strip_rows / mcu_h)).map_err(|_| {
                err(format!(
                    "strips of {strip_rows} rows × {width} are too large"
                ))
            })?;
        Ok(Self {
            width,
            height,
            strip_rows,
            quality,
            subsampling,
            interval,
        })
    }

    /// How many strips the image has.
    pub fn strips(&self) -> usize {
        self.height.div_ceil(self.strip_rows)
    }

    /// The rows `(first, count)` of strip `index`.
    pub fn rows_of(&self, index: usize) -> (usize, usize) {
        let first = index * self.strip_rows;
        (
            first,
            self.strip_rows.min(self.height.saturating_sub(first)),
        )
    }

    /// Compress strip `index` (its pixels: full width, the rows of [`Self::rows_of`]).
    pub fn encode_strip(&self, index: usize, strip: &Rgb8) -> Result<Vec<u8>> {
        let (_, rows) = self.rows_of(index);
        if rows == 0 || strip.width != self.width || strip.height != rows {
            return Err(Error::InvalidParameter(format!(
                "JPEG strip {index} is {}x{}, expected {}x{rows}",
                strip.width, strip.height, self.width
            )));
        }
        check_dims(strip.width, strip.height, strip.data.len(), "JPEG")?;
        compress(strip, self.quality, self.subsampling)
    }

    /// Join every strip (in order) into one JPEG file with `embed`'s EXIF and
    /// ICC profile.
    pub fn finish(&self, strips: &[Vec<u8>], embed: Embed<'_>) -> Result<Vec<u8>> {
        if strips.len() != self.strips() {
            return Err(err(format!(
                "{} strips given, the image has {}",
                strips.len(),
                self.strips()
            )));
        }
        let parts = strips
            .iter()
            .map(|s| split(s))
            .collect::<Result<Vec<_>>>()?;
        let first = parts.first().ok_or_else(|| err("no strips"))?;
        let height = u16::try_from(self.height).map_err(|_| err("image too tall"))?;
        let mut header = first.header.to_vec();
        set_height(&mut header, first.sof_height_at, height)?;
        for (i, p) in parts.iter().enumerate().skip(1) {
            let mut h = p.header.to_vec();
            set_height(&mut h, p.sof_height_at, height)?;
            if h != header {
                return Err(err(format!(
                    "strip {i} was compressed with different tables"
                )));
            }
        }
        let sos_at = find_sos(&header).ok_or_else(|| err("no SOS in strip"))?;
        let segments = marker_segments(self.width, self.height, &embed)?;
        let data_len: usize = parts.iter().map(|p| p.data.len() + 2).sum();
        let mut out = Vec::with_capacity(
            SOI.len() + first.app0.len() + segments.len() + header.len() + 6 + data_len,
        );
        out.extend_from_slice(&SOI);
        // EXIF requires APP1 right after SOI; without it the JFIF APP0 stays.
        if embed.metadata.is_none() {
            out.extend_from_slice(first.app0);
        }
        out.extend_from_slice(&segments);
        out.extend_from_slice(header.get(..sos_at).unwrap_or_default());
        out.extend_from_slice(&[0xFF, DRI, 0, 4]);
        out.extend_from_slice(&self.interval.to_be_bytes());
        out.extend_from_slice(header.get(sos_at..).unwrap_or_default());
        let last = parts.len() - 1;
        for (i, p) in parts.iter().enumerate() {
            out.extend_from_slice(p.data);
            if i < last {
                // RSTn cycles through n = 0..=7.
                out.extend_from_slice(&[0xFF, RST0 + (i % 8) as u8]);
            }
        }
        out.extend_from_slice(&EOI);
        Ok(out)
    }
}

/// Split a libjpeg-turbo stream into its parts.
fn split(jpeg: &[u8]) -> Result<Parts<'_>> {
    if jpeg.get(..2) != Some(&SOI[..]) {
        return Err(err("strip does not start with SOI"));
    }
    if jpeg.len() < 4 || jpeg.get(jpeg.len() - 2..) != Some(&EOI[..]) {
        return Err(err("strip does not end with EOI"));
    }
    let mut at = 2;
    let mut app0 = &jpeg[..0];
    let mut header_start = 2;
    let mut sof_height_at = None;
    loop {
        let (marker, len) = match jpeg.get(at..at + 4) {
            Some(&[0xFF, m, hi, lo]) => (m, usize::from(u16::from_be_bytes([hi, lo]))),
            _ => return Err(err("malformed segment in strip")),
        };
        let end = at + 2 + len;
        if len < 2 || end > jpeg.len() {
            return Err(err("truncated segment in strip"));
        }
        match marker {
            APP0 if at == 2 => {
                app0 = &jpeg[at..end];
                header_start = end;
            }
            // SOF0–SOF2: precision (1 byte) then height.
            0xC0..=0xC2 => sof_height_at = Some(at + 5 - header_start),
            DRI => return Err(err("strip already has restart markers")),
            _ => {}
        }
        at = end;
        if marker == SOS {
            break;
        }
    }
    let sof_height_at = sof_height_at.ok_or_else(|| err("no SOF before SOS in strip"))?;
    Ok(Parts {
        app0,
        header: &jpeg[header_start..at],
        sof_height_at,
        data: &jpeg[at..jpeg.len() - 2],
    })
}

fn set_height(header: &mut [u8], at: usize, height: u16) -> Result<()> {
    header
        .get_mut(at..at + 2)
        .ok_or_else(|| err("SOF outside the header"))?
        .copy_from_slice(&height.to_be_bytes());
    Ok(())
}

/// Offset of the SOS segment in a header of whole segments.
fn find_sos(header: &[u8]) -> Option<usize> {
    let mut at = 0;
    while let Some(&[0xFF, m, hi, lo]) = header.get(at..at + 4) {
        if m == SOS {
            return Some(at);
        }
        at += 2 + usize::from(u16::from_be_bytes([hi, lo]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::encode_jpeg;

    fn decode(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
        let mut d = zune_jpeg::JpegDecoder::new(zune_core::bytestream::ZCursor::new(bytes));
        let pixels = d.decode().expect("zune-jpeg decodes the joined JPEG");
        let info = d.info().expect("info");
        (usize::from(info.width), usize::from(info.height), pixels)
    }

    fn image(w: usize, h: usize) -> Rgb8 {
        let mut s = 0x1234_5678u32;
        let data = (0..w * h * 3)
            .map(|i| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                // Smooth ramps plus noise: real DC differences between blocks.
                ((i / 3 % w) as u32 * 2 + (i / 3 / w) as u32 + (s & 31)) as u8
            })
            .collect();
        Rgb8 {
            width: w,
            height: h,
            data,
        }
    }

    fn rows(img: &Rgb8, first: usize, count: usize) -> Rgb8 {
        let row = img.width * 3;
        Rgb8 {
            width: img.width,
            height: count,
            data: img.data[first * row..(first + count) * row].to_vec(),
        }
    }

    #[test]
    fn joined_strips_decode_to_the_whole_image_encode() {
        for (sub, strip) in [
            (Subsampling::S420, 16),
            (Subsampling::S420, 64),
            (Subsampling::S422, 8),
            (Subsampling::S444, 24),
        ] {
            // 20 strips of 16 rows: the RST marker numbers wrap around.
            for (w, h) in [(77, 320), (130, 61), (16, 16), (33, 5)] {
                let img = image(w, h);
                let enc = StripJpeg::new(w, h, strip, 85, sub).unwrap();
                let strips: Vec<Vec<u8>> = (0..enc.strips())
                    .map(|i| {
                        let (first, count) = enc.rows_of(i);
                        enc.encode_strip(i, &rows(&img, first, count)).unwrap()
                    })
                    .collect();
                let joined = enc.finish(&strips, Embed::default()).unwrap();
                let whole = encode_jpeg(&img, 85, sub, Embed::default()).unwrap();
                let (a, b) = (decode(&joined), decode(&whole));
                assert_eq!((a.0, a.1), (w, h));
                assert!(a == b, "{sub:?} strips of {strip}, {w}x{h}: pixels differ");
            }
        }
    }

    #[test]
    fn bad_strip_settings_are_refused() {
        assert!(StripJpeg::new(100, 100, 24, 90, Subsampling::S420).is_err());
        assert!(StripJpeg::new(100, 100, 16, 0, Subsampling::S420).is_err());
        assert!(StripJpeg::new(65_535, 100, 128, 90, Subsampling::S444).is_err());
        let enc = StripJpeg::new(40, 40, 16, 90, Subsampling::S420).unwrap();
        assert!(enc.encode_strip(0, &image(40, 8)).is_err());
        assert!(enc.finish(&[], Embed::default()).is_err());
    }
}
