//! 16-bit RGB TIFF output, uncompressed, written by hand (little-endian,
//! classic TIFF): IFD0 with the baseline image tags, Orientation = 1, the
//! capture tags and the ICC profile (tag 34675), an EXIF sub-IFD, then the
//! pixel strips.

use super::exif::{
    exif_ifd, ifd0_capture_entries, offset_u32, tag, ColorSpace, Container, Entry, ExifContext,
    Ifd, TIFF_MAGIC_LE,
};
use super::{check_dims, profile_of, Embed};
use crate::error::{Error, Result};
use crate::image::Rgb16;
use crate::metadata::Rational;

/// Target size of one strip in bytes.
const STRIP_BYTES: usize = 256 * 1024;

fn err(reason: impl Into<String>) -> Error {
    Error::Encode {
        format: "TIFF",
        reason: reason.into(),
    }
}

/// See [`super::encode_tiff16`].
pub(crate) fn encode(image: &Rgb16, embed: Embed<'_>) -> Result<Vec<u8>> {
    check_dims(image.width, image.height, image.data.len(), "TIFF")?;
    let too_big = || err("image too large for classic TIFF (4 GiB)");
    let width = u32::try_from(image.width).map_err(|_| too_big())?;
    let height = u32::try_from(image.height).map_err(|_| too_big())?;
    let row_bytes = image.width * 3 * 2;
    let rows_per_strip = (STRIP_BYTES / row_bytes).clamp(1, image.height);
    let strips = image.height.div_ceil(rows_per_strip);
    let pixel_bytes = image.data.len() * 2;
    let profile = profile_of(&embed);

    let mut ifd0 = Ifd::default();
    ifd0.set(Entry::long(tag::IMAGE_WIDTH, width));
    ifd0.set(Entry::long(tag::IMAGE_LENGTH, height));
    ifd0.set(Entry::shorts(tag::BITS_PER_SAMPLE, &[16, 16, 16]));
    ifd0.set(Entry::short(tag::COMPRESSION, 1));
    ifd0.set(Entry::short(tag::PHOTOMETRIC, 2));
    ifd0.set(Entry::short(tag::ORIENTATION, 1));
    ifd0.set(Entry::short(tag::SAMPLES_PER_PIXEL, 3));
    ifd0.set(Entry::long(
        tag::ROWS_PER_STRIP,
        offset_u32(rows_per_strip)?,
    ));
    ifd0.set(Entry::rational(
        tag::X_RESOLUTION,
        Rational { num: 72, den: 1 },
    ));
    ifd0.set(Entry::rational(
        tag::Y_RESOLUTION,
        Rational { num: 72, den: 1 },
    ));
    ifd0.set(Entry::short(tag::PLANAR_CONFIG, 1));
    ifd0.set(Entry::short(tag::RESOLUTION_UNIT, 2));
    // Placeholders of the final size; the values are set once the layout is known.
    ifd0.set(Entry::longs(tag::STRIP_OFFSETS, &vec![0; strips]));
    ifd0.set(Entry::longs(tag::STRIP_BYTE_COUNTS, &vec![0; strips]));
    if let Some(icc) = profile {
        ifd0.set(Entry::undefined(tag::INTER_COLOR_PROFILE, icc));
    }
    let exif = match embed.metadata {
        Some(meta) => {
            ifd0_capture_entries(&mut ifd0, meta);
            ifd0.set(Entry::long(tag::EXIF_IFD, 0));
            let ctx = ExifContext {
                width,
                height,
                container: Container::Tiff,
                color_space: ColorSpace::for_profile(profile),
            };
            Some(exif_ifd(meta, &ctx))
        }
        None => None,
    };

    let ifd0_at = 8;
    let exif_at = ifd0_at + ifd0.len();
    let exif_len = exif.as_ref().map_or(0, Ifd::len);
    // Pixels start 16-byte aligned (helps readers that map the file).
    let pixels_at = (exif_at + exif_len).next_multiple_of(16);
    let total = pixels_at + pixel_bytes;
    offset_u32(total).map_err(|_| too_big())?;

    let strip_len = rows_per_strip * row_bytes;
    let mut offsets = Vec::with_capacity(strips);
    let mut counts = Vec::with_capacity(strips);
    for s in 0..strips {
        let begin = s * strip_len;
        offsets.push(offset_u32(pixels_at + begin)?);
        counts.push(offset_u32(strip_len.min(pixel_bytes - begin))?);
    }
    ifd0.set(Entry::longs(tag::STRIP_OFFSETS, &offsets));
    ifd0.set(Entry::longs(tag::STRIP_BYTE_COUNTS, &counts));
    if exif.is_some() {
        ifd0.set(Entry::long(tag::EXIF_IFD, offset_u32(exif_at)?));
    }

    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&TIFF_MAGIC_LE);
    out.extend_from_slice(&offset_u32(ifd0_at)?.to_le_bytes());
    ifd0.write(&mut out, 0)?;
    if let Some(exif) = &exif {
        exif.write(&mut out, 0)?;
    }
    out.resize(pixels_at, 0);
    // Convert through a small cache-resident block: no zero-filling of the
    // large output, and the conversion loop vectorises (a plain copy on
    // little-endian machines).
    let mut block = [0u8; 16 * 1024];
    for chunk in image.data.chunks(block.len() / 2) {
        let bytes = &mut block[..chunk.len() * 2];
        for (dst, v) in bytes.chunks_exact_mut(2).zip(chunk) {
            dst.copy_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(bytes);
    }
    debug_assert_eq!(out.len(), total);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use super::super::{encode_tiff16, srgb_icc_profile, Embed};
    use crate::error::Error;
    use crate::image::Rgb16;
    use crate::metadata::Metadata;
    use ::tiff::decoder::{Decoder, DecodingResult};
    use ::tiff::tags::Tag;
    use ::tiff::ColorType;

    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u16>, Option<Vec<u8>>) {
        let mut d = Decoder::new(std::io::Cursor::new(bytes)).expect("tiff reads our TIFF");
        assert_eq!(d.colortype().expect("colour type"), ColorType::RGB(16));
        let (w, h) = d.dimensions().expect("dimensions");
        let icc = d.get_tag_u8_vec(Tag::IccProfile).ok();
        let orientation = d.get_tag_u32(Tag::Orientation).expect("orientation");
        assert_eq!(orientation, 1);
        match d.read_image().expect("pixels") {
            DecodingResult::U16(px) => (w, h, px, icc),
            _ => panic!("not 16-bit"),
        }
    }

    #[test]
    fn round_trip_is_exact_with_icc_and_exif() {
        let meta = full_metadata();
        let icc = srgb_icc_profile();
        // 300 columns → 1800-byte rows: several strips, the last one short.
        for (w, h) in [(300, 250)].into_iter().chain(ODD_SIZES) {
            let img = ramp_rgb16(w, h);
            let embed = Embed {
                icc_profile: Some(icc),
                metadata: Some(&meta),
            };
            let bytes = encode_tiff16(&img, embed).expect("encode");
            let (dw, dh, px, icc_back) = decode(&bytes);
            assert_eq!((dw as usize, dh as usize), (w, h));
            assert_eq!(px, img.data);
            assert_eq!(icc_back.as_deref(), Some(icc));
            assert_exif_matches(&read_exif(&bytes), &meta, 1);
        }
    }

    #[test]
    fn many_strips_cover_the_image() {
        let img = ramp_rgb16(1000, 300);
        let bytes = encode_tiff16(&img, Embed::default()).expect("encode");
        let mut d = Decoder::new(std::io::Cursor::new(&bytes[..])).expect("open");
        let offsets = d.get_tag_u32_vec(Tag::StripOffsets).expect("offsets");
        let counts = d.get_tag_u32_vec(Tag::StripByteCounts).expect("counts");
        assert!(offsets.len() > 1);
        assert_eq!(
            counts.iter().map(|&c| c as usize).sum::<usize>(),
            img.data.len() * 2
        );
        assert_eq!(offsets[0] % 16, 0);
        let (_, _, px, icc) = decode(&bytes);
        assert_eq!(px, img.data);
        assert!(icc.is_none());
    }

    #[test]
    fn without_metadata_there_is_no_exif_ifd() {
        let bytes = encode_tiff16(&ramp_rgb16(4, 4), Embed::default()).expect("encode");
        let mut d = Decoder::new(std::io::Cursor::new(&bytes[..])).expect("open");
        assert!(d.get_tag(Tag::ExifDirectory).is_err());
        assert!(d.get_tag(Tag::Software).is_err());
    }

    #[test]
    fn huge_metadata_strings_are_fine() {
        let meta = Metadata {
            model: Some("M\0".repeat(1 << 20)),
            ..full_metadata()
        };
        let embed = Embed {
            icc_profile: Some(srgb_icc_profile()),
            metadata: Some(&meta),
        };
        let bytes = encode_tiff16(&ramp_rgb16(3, 2), embed).expect("encode");
        let e = read_exif(&bytes);
        let model = e
            .get_field(exif::Tag::Model, exif::In::PRIMARY)
            .expect("model");
        assert_eq!(
            model.display_value().to_string(),
            format!("\"{}\"", "M".repeat(128))
        );
        decode(&bytes);
    }

    #[test]
    fn bad_buffers_are_rejected() {
        let r = encode_tiff16(&Rgb16::new(3, 0), Embed::default());
        assert!(matches!(r, Err(Error::InvalidParameter(_))));
        let bad = Rgb16 {
            width: usize::MAX,
            height: 2,
            data: vec![0; 6],
        };
        assert!(matches!(
            encode_tiff16(&bad, Embed::default()),
            Err(Error::InvalidParameter(_))
        ));
    }
}
