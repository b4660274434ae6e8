//! JPEG output through libjpeg-turbo (the `turbojpeg` feature) or the
//! pure-Rust `jpeg-encoder` (without it), with EXIF (APP1) and ICC (APP2)
//! segments spliced in after SOI without re-encoding the entropy-coded data.
//!
//! Layout: `SOI, APP1 Exif, APP2 ICC_PROFILE…, <the encoder's stream after
//! SOI and its JFIF APP0>`. The JFIF APP0 is dropped when an EXIF segment is
//! written (EXIF requires APP1 to follow SOI directly, and Exif files are not
//! JFIF files); without EXIF the JFIF segment is kept first.

use super::exif::{exif_tiff, ColorSpace, Container, ExifContext};
use super::{check_dims, profile_of, Embed, Subsampling};
use crate::error::{Error, Result};
use crate::image::Rgb8;

const SOI: [u8; 2] = [0xFF, 0xD8];
const APP0: u8 = 0xE0;
const APP1: u8 = 0xE1;
const APP2: u8 = 0xE2;
const EXIF_ID: &[u8; 6] = b"Exif\0\0";
const ICC_ID: &[u8; 12] = b"ICC_PROFILE\0";
/// Largest segment payload (the length field counts itself).
const MAX_SEGMENT_PAYLOAD: usize = 65535 - 2;
/// ICC bytes per APP2 segment: 65535 − 2 (length) − 12 (id) − 2 (sequence, count).
pub(crate) const ICC_CHUNK: usize = MAX_SEGMENT_PAYLOAD - ICC_ID.len() - 2;
/// Bytes of SOI + a JFIF 1.0x APP0 segment as libjpeg-turbo writes it.
const SOI_JFIF_LEN: usize = 2 + 2 + 16;

pub(super) fn err(reason: impl Into<String>) -> Error {
    Error::Encode {
        format: "JPEG",
        reason: reason.into(),
    }
}

#[cfg(feature = "turbojpeg")]
pub(super) fn tj_err(e: turbojpeg::Error) -> Error {
    err(e.to_string())
}

/// The APP1 and APP2 segments to insert after SOI.
pub(super) fn marker_segments(width: usize, height: usize, embed: &Embed<'_>) -> Result<Vec<u8>> {
    let profile = profile_of(embed);
    let mut out = Vec::new();
    if let Some(meta) = embed.metadata {
        let ctx = ExifContext {
            width: dim_u32(width)?,
            height: dim_u32(height)?,
            container: Container::Jpeg,
            color_space: ColorSpace::for_profile(profile),
        };
        let tiff = exif_tiff(meta, &ctx)?;
        let payload = EXIF_ID.len() + tiff.len();
        if payload > MAX_SEGMENT_PAYLOAD {
            return Err(err("EXIF block does not fit in one APP1 segment"));
        }
        push_segment_header(&mut out, APP1, payload);
        out.extend_from_slice(EXIF_ID);
        out.extend_from_slice(&tiff);
    }
    if let Some(icc) = profile {
        let chunks = icc.len().div_ceil(ICC_CHUNK);
        let count = u8::try_from(chunks).map_err(|_| {
            Error::InvalidParameter(format!(
                "ICC profile of {} bytes is too large for JPEG (at most 255 segments)",
                icc.len()
            ))
        })?;
        for (i, chunk) in icc.chunks(ICC_CHUNK).enumerate() {
            push_segment_header(&mut out, APP2, ICC_ID.len() + 2 + chunk.len());
            out.extend_from_slice(ICC_ID);
            // `i < chunks <= 255`, so this cannot truncate.
            out.push((i + 1) as u8);
            out.push(count);
            out.extend_from_slice(chunk);
        }
    }
    Ok(out)
}

fn push_segment_header(out: &mut Vec<u8>, marker: u8, payload: usize) {
    out.extend_from_slice(&[0xFF, marker]);
    // Callers keep `payload <= MAX_SEGMENT_PAYLOAD`.
    out.extend_from_slice(&((payload + 2) as u16).to_be_bytes());
}

fn dim_u32(v: usize) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::InvalidParameter(format!("dimension {v} too large")))
}

/// Length of SOI plus a directly following APP0 segment in `jpeg` (2 when
/// there is no APP0).
fn soi_app0_len(jpeg: &[u8]) -> Result<usize> {
    if jpeg.get(..2) != Some(&SOI[..]) {
        return Err(err("libjpeg-turbo output does not start with SOI"));
    }
    match jpeg.get(2..6) {
        Some(&[0xFF, APP0, hi, lo]) => {
            let len = 2 + 2 + usize::from(u16::from_be_bytes([hi, lo]));
            if len > jpeg.len() {
                return Err(err("truncated APP0 in libjpeg-turbo output"));
            }
            Ok(len)
        }
        _ => Ok(2),
    }
}

/// Checks `quality` and the size of a `width` × `height` JPEG.
pub(super) fn check_settings(width: usize, height: usize, quality: u8) -> Result<()> {
    if !(1..=100).contains(&quality) {
        return Err(Error::InvalidParameter(format!(
            "JPEG quality must be 1..=100, got {quality}"
        )));
    }
    if width > 65_535 || height > 65_535 {
        return Err(Error::InvalidParameter(format!(
            "JPEG images are at most 65535 pixels a side, got {width}x{height}"
        )));
    }
    Ok(())
}

/// A libjpeg-turbo compressor for a `width` × `height` image at `quality`,
/// after checking both.
#[cfg(feature = "turbojpeg")]
pub(super) fn compressor(
    width: usize,
    height: usize,
    quality: u8,
    subsampling: Subsampling,
) -> Result<turbojpeg::Compressor> {
    check_settings(width, height, quality)?;
    let mut tj = turbojpeg::Compressor::new().map_err(tj_err)?;
    tj.set_quality(i32::from(quality)).map_err(tj_err)?;
    tj.set_subsamp(match subsampling {
        Subsampling::S420 => turbojpeg::Subsamp::Sub2x2,
        Subsampling::S422 => turbojpeg::Subsamp::Sub2x1,
        Subsampling::S444 => turbojpeg::Subsamp::None,
    })
    .map_err(tj_err)?;
    Ok(tj)
}

/// `image` as libjpeg-turbo's input.
#[cfg(feature = "turbojpeg")]
pub(super) fn tj_image(image: &Rgb8) -> turbojpeg::Image<&[u8]> {
    turbojpeg::Image {
        pixels: &image.data[..],
        width: image.width,
        pitch: image.width * 3,
        height: image.height,
        format: turbojpeg::PixelFormat::RGB,
    }
}

/// One complete baseline JPEG stream of `image` (SOI … EOI, with the
/// encoder's JFIF APP0 and standard Huffman tables), after checking the settings.
pub(super) fn compress(image: &Rgb8, quality: u8, subsampling: Subsampling) -> Result<Vec<u8>> {
    check_dims(image.width, image.height, image.data.len(), "JPEG")?;
    check_settings(image.width, image.height, quality)?;
    #[cfg(feature = "turbojpeg")]
    {
        let mut tj = compressor(image.width, image.height, quality, subsampling)?;
        tj.compress_to_vec(tj_image(image)).map_err(tj_err)
    }
    #[cfg(not(feature = "turbojpeg"))]
    {
        use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
        let dim = |v: usize| u16::try_from(v).map_err(|_| err("image too large"));
        let mut out = Vec::new();
        let mut encoder = Encoder::new(&mut out, quality);
        encoder.set_sampling_factor(match subsampling {
            Subsampling::S420 => SamplingFactor::R_4_2_0,
            Subsampling::S422 => SamplingFactor::R_4_2_2,
            Subsampling::S444 => SamplingFactor::R_4_4_4,
        });
        encoder
            .encode(
                &image.data,
                dim(image.width)?,
                dim(image.height)?,
                ColorType::Rgb,
            )
            .map_err(|e| err(e.to_string()))?;
        Ok(out)
    }
}

/// See [`super::encode_jpeg`] (the pure-Rust encoder's stream, spliced).
#[cfg(not(feature = "turbojpeg"))]
pub(crate) fn encode(
    image: &Rgb8,
    quality: u8,
    subsampling: Subsampling,
    embed: Embed<'_>,
) -> Result<Vec<u8>> {
    check_dims(image.width, image.height, image.data.len(), "JPEG")?;
    let segments = marker_segments(image.width, image.height, &embed)?;
    let stream = compress(image, quality, subsampling)?;
    let n = stream.len();
    splice(stream, 0, n, &segments, embed.metadata.is_some())
}

/// See [`super::encode_jpeg`].
#[cfg(feature = "turbojpeg")]
pub(crate) fn encode(
    image: &Rgb8,
    quality: u8,
    subsampling: Subsampling,
    embed: Embed<'_>,
) -> Result<Vec<u8>> {
    check_dims(image.width, image.height, image.data.len(), "JPEG")?;
    let segments = marker_segments(image.width, image.height, &embed)?;
    let mut tj = compressor(image.width, image.height, quality, subsampling)?;
    let tj_image = tj_image(image);

    // libjpeg-turbo compresses straight into our buffer at `start`, chosen so
    // that its stream after SOI + JFIF APP0 already sits where it belongs once
    // our SOI + segments are written in front: no copy in the usual case.
    let drop_jfif = embed.metadata.is_some();
    let start = splice_offset(segments.len(), drop_jfif);
    let bound = tj.buf_len(image.width, image.height).map_err(tj_err)?;
    // A zeroed `vec!` is allocated lazily by the OS: untouched pages cost nothing.
    let mut out = vec![0u8; start + bound];
    let n = tj
        .compress_to_slice(tj_image, &mut out[start..])
        .map_err(tj_err)?;
    splice(out, start, n, &segments, drop_jfif)
}

/// Where in the output buffer the compressor should start writing so that
/// [`splice`] needs no copy when the compressor writes SOI + a 16-byte JFIF APP0.
#[cfg_attr(not(feature = "turbojpeg"), allow(dead_code))]
fn splice_offset(segments_len: usize, drop_jfif: bool) -> usize {
    let prefix = if drop_jfif { SOI.len() } else { SOI_JFIF_LEN } + segments_len;
    prefix.saturating_sub(SOI_JFIF_LEN)
}

/// Turn `buf`, holding a complete JPEG stream of `n` bytes at `start`, into the
/// final file: SOI, the APP0 segment the stream began with (unless
/// `drop_jfif`), `segments`, then the rest of the stream.
fn splice(
    mut buf: Vec<u8>,
    start: usize,
    n: usize,
    segments: &[u8],
    drop_jfif: bool,
) -> Result<Vec<u8>> {
    let produced = start
        .checked_add(n)
        .and_then(|end| buf.get(start..end))
        .ok_or_else(|| err("libjpeg-turbo reported more bytes than its buffer"))?;
    let app0_end = soi_app0_len(produced)?;

    let mut prefix = Vec::with_capacity(SOI_JFIF_LEN + segments.len());
    if drop_jfif {
        prefix.extend_from_slice(&SOI);
    } else {
        prefix.extend_from_slice(produced.get(..app0_end).unwrap_or(&SOI));
    }
    prefix.extend_from_slice(segments);

    let body = start + app0_end..start + n;
    let final_len = prefix.len() + body.len();
    if body.start != prefix.len() {
        // Only when the stream does not start with SOI + a 16-byte JFIF APP0.
        if final_len > buf.len() {
            buf.resize(final_len, 0);
        }
        buf.copy_within(body, prefix.len());
    }
    buf[..prefix.len()].copy_from_slice(&prefix);
    buf.truncate(final_len);
    buf.shrink_to_fit();
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use super::super::{encode_jpeg, srgb_icc_profile, Embed, Subsampling};
    use super::{splice, splice_offset, ICC_CHUNK};
    use crate::error::Error;
    use crate::image::Rgb8;
    use crate::metadata::Metadata;

    const ALL: [Subsampling; 3] = [Subsampling::S420, Subsampling::S422, Subsampling::S444];

    /// Width, height, pixels, ICC profile, EXIF.
    type Decoded = (usize, usize, Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);

    /// Decode with zune-jpeg (independent of libjpeg-turbo).
    fn decode(bytes: &[u8]) -> Decoded {
        let mut d = zune_jpeg::JpegDecoder::new(zune_core::bytestream::ZCursor::new(bytes));
        let pixels = d.decode().expect("zune-jpeg decodes our JPEG");
        let info = d.info().expect("info");
        (
            usize::from(info.width),
            usize::from(info.height),
            pixels,
            d.icc_profile(),
            d.exif().cloned(),
        )
    }

    /// (marker, payload) of every segment before SOS.
    fn segments(jpeg: &[u8]) -> Vec<(u8, Vec<u8>)> {
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
        let mut out = Vec::new();
        let mut i = 2;
        loop {
            assert_eq!(jpeg[i], 0xFF);
            let marker = jpeg[i + 1];
            let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
            out.push((marker, jpeg[i + 4..i + 2 + len].to_vec()));
            if marker == 0xDA {
                return out;
            }
            i += 2 + len;
        }
    }

    fn embed_all<'a>(meta: &'a Metadata, icc: &'a [u8]) -> Embed<'a> {
        Embed {
            icc_profile: Some(icc),
            metadata: Some(meta),
        }
    }

    /// A stand-in JPEG stream: SOI, optional APP0 with `app0_payload` bytes, body, EOI.
    fn fake_stream(app0_payload: Option<usize>) -> Vec<u8> {
        let mut s = vec![0xFF, 0xD8];
        if let Some(len) = app0_payload {
            s.extend_from_slice(&[0xFF, 0xE0]);
            s.extend_from_slice(&((len + 2) as u16).to_be_bytes());
            s.extend((0..len).map(|i| i as u8));
        }
        s.extend_from_slice(&[0xFF, 0xDB, 0, 4, 9, 9, 0xFF, 0xD9]);
        s
    }

    #[test]
    fn splice_handles_every_app0_shape() {
        let segs = [0xFF, 0xE1, 0, 6, b'a', b'b', b'c', b'd'];
        let body = [0xFF, 0xDB, 0, 4, 9, 9, 0xFF, 0xD9];
        for app0 in [None, Some(14), Some(0), Some(300)] {
            for drop_jfif in [false, true] {
                for slack in [0, 50] {
                    let stream = fake_stream(app0);
                    let start = splice_offset(segs.len(), drop_jfif);
                    let mut buf = vec![0u8; start + stream.len() + slack];
                    buf[start..start + stream.len()].copy_from_slice(&stream);
                    let out = splice(buf, start, stream.len(), &segs, drop_jfif).expect("splice");
                    let mut expected = vec![0xFF, 0xD8];
                    if !drop_jfif {
                        let app0_len = app0.map_or(0, |l| l + 4);
                        expected.extend_from_slice(&stream[2..2 + app0_len]);
                    }
                    expected.extend_from_slice(&segs);
                    expected.extend_from_slice(&body);
                    assert_eq!(
                        out, expected,
                        "app0 {app0:?} drop {drop_jfif} slack {slack}"
                    );
                }
            }
        }
    }

    #[test]
    fn splice_rejects_bad_streams() {
        assert!(splice(vec![0; 10], 0, 10, &[], true).is_err(), "no SOI");
        assert!(
            splice(vec![0xFF, 0xD8], 0, 3, &[], true).is_err(),
            "n beyond buffer"
        );
        let truncated = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x10, 0x00, 1, 2];
        assert!(
            splice(truncated, 0, 8, &[], true).is_err(),
            "APP0 longer than stream"
        );
    }

    #[test]
    fn pixels_survive_at_q90() {
        let img = smooth_rgb8(256, 192);
        for s in ALL {
            let jpeg = encode_jpeg(&img, 90, s, Embed::default()).expect("encode");
            let (w, h, px, _, _) = decode(&jpeg);
            assert_eq!((w, h), (256, 192));
            let p = psnr(&img.data, &px);
            assert!(p > 38.0, "{s:?}: PSNR {p:.1} dB");
        }
    }

    #[test]
    fn segment_order_with_metadata_is_soi_exif_icc() {
        let meta = full_metadata();
        let icc = srgb_icc_profile();
        let jpeg = encode_jpeg(
            &smooth_rgb8(40, 30),
            85,
            Subsampling::S420,
            embed_all(&meta, icc),
        )
        .expect("encode");
        let segs = segments(&jpeg);
        assert_eq!(segs[0].0, 0xE1);
        assert!(segs[0].1.starts_with(b"Exif\0\0"));
        assert_eq!(segs[1].0, 0xE2);
        assert_eq!(&segs[1].1[..14], b"ICC_PROFILE\0\x01\x01");
        assert_eq!(&segs[1].1[14..], icc);
        assert!(
            segs.iter().all(|(m, _)| *m != 0xE0),
            "no JFIF alongside EXIF"
        );
        assert_eq!(&jpeg[jpeg.len() - 2..], &[0xFF, 0xD9]);
    }

    #[test]
    fn without_metadata_jfif_stays_first() {
        let icc = srgb_icc_profile();
        let embed = Embed {
            icc_profile: Some(icc),
            metadata: None,
        };
        let jpeg = encode_jpeg(&smooth_rgb8(40, 30), 85, Subsampling::S444, embed).expect("encode");
        let segs = segments(&jpeg);
        assert_eq!(segs[0].0, 0xE0);
        assert!(segs[0].1.starts_with(b"JFIF\0"));
        assert_eq!(segs[1].0, 0xE2);
        assert!(segs.iter().all(|(m, _)| *m != 0xE1));
        let (_, _, _, icc_back, exif) = decode(&jpeg);
        assert_eq!(icc_back.as_deref(), Some(icc));
        assert!(exif.is_none());
    }

    #[test]
    #[cfg(feature = "turbojpeg")]
    fn plain_jpeg_equals_libjpeg_turbo_output() {
        let img = smooth_rgb8(50, 20);
        let ours = encode_jpeg(&img, 75, Subsampling::S420, Embed::default()).expect("encode");
        let tj_img = turbojpeg::Image {
            pixels: &img.data[..],
            width: 50,
            pitch: 150,
            height: 20,
            format: turbojpeg::PixelFormat::RGB,
        };
        let theirs = turbojpeg::compress(tj_img, 75, turbojpeg::Subsamp::Sub2x2).expect("tj");
        assert_eq!(&ours[..], &theirs[..]);
    }

    #[test]
    fn icc_and_exif_read_back() {
        let meta = full_metadata();
        let icc = srgb_icc_profile();
        let jpeg = encode_jpeg(
            &smooth_rgb8(64, 64),
            90,
            Subsampling::S420,
            embed_all(&meta, icc),
        )
        .expect("encode");
        let (_, _, _, icc_back, exif_back) = decode(&jpeg);
        assert_eq!(icc_back.as_deref(), Some(icc));
        assert!(exif_back.is_some());
        let e = read_exif(&jpeg);
        assert_exif_matches(&e, &meta, 1);
    }

    #[test]
    fn large_profile_is_split_into_numbered_chunks() {
        let icc = big_profile(ICC_CHUNK * 3 + 1000);
        let meta = full_metadata();
        let jpeg = encode_jpeg(
            &smooth_rgb8(16, 16),
            90,
            Subsampling::S420,
            embed_all(&meta, &icc),
        )
        .expect("encode");
        let chunks: Vec<_> = segments(&jpeg)
            .into_iter()
            .filter(|(m, _)| *m == 0xE2)
            .collect();
        assert_eq!(chunks.len(), 4);
        let mut joined = Vec::new();
        for (i, (_, payload)) in chunks.iter().enumerate() {
            assert_eq!(&payload[..12], b"ICC_PROFILE\0");
            assert_eq!((payload[12], payload[13]), (i as u8 + 1, 4));
            assert!(payload.len() - 14 <= 65519);
            joined.extend_from_slice(&payload[14..]);
        }
        assert_eq!(joined, icc);
        let (_, _, _, icc_back, _) = decode(&jpeg);
        assert_eq!(icc_back.as_deref(), Some(&icc[..]));
        // A profile that is not ours is not sRGB: ColorSpace = uncalibrated.
        assert_exif_matches(&read_exif(&jpeg), &meta, 0xFFFF);
    }

    #[test]
    fn oversized_profile_is_rejected() {
        let icc = vec![0u8; ICC_CHUNK * 255 + 1];
        let embed = Embed {
            icc_profile: Some(&icc),
            metadata: None,
        };
        let r = encode_jpeg(&smooth_rgb8(8, 8), 90, Subsampling::S420, embed);
        assert!(matches!(r, Err(Error::InvalidParameter(_))), "{r:?}");
    }

    #[test]
    fn quality_is_validated() {
        let img = smooth_rgb8(8, 8);
        for q in [0u8, 101, 255] {
            let r = encode_jpeg(&img, q, Subsampling::S420, Embed::default());
            assert!(matches!(r, Err(Error::InvalidParameter(_))), "q={q}: {r:?}");
        }
        for q in [1u8, 50, 100] {
            assert!(encode_jpeg(&img, q, Subsampling::S420, Embed::default()).is_ok());
        }
    }

    #[test]
    fn tiny_and_odd_sizes() {
        let meta = full_metadata();
        let icc = srgb_icc_profile();
        for (w, h) in ODD_SIZES {
            let img = smooth_rgb8(w, h);
            for s in ALL {
                let jpeg = encode_jpeg(&img, 95, s, embed_all(&meta, icc)).expect("encode");
                let (dw, dh, px, icc_back, _) = decode(&jpeg);
                assert_eq!((dw, dh), (w, h), "{s:?}");
                assert_eq!(px.len(), w * h * 3);
                assert_eq!(icc_back.as_deref(), Some(icc));
                assert_exif_matches(&read_exif(&jpeg), &meta, 1);
            }
        }
    }

    #[test]
    fn bad_buffers_are_rejected() {
        let mut img = smooth_rgb8(8, 8);
        img.data.pop();
        let r = encode_jpeg(&img, 90, Subsampling::S420, Embed::default());
        assert!(matches!(r, Err(Error::InvalidParameter(_))));
        let empty = Rgb8::new(0, 5);
        let r = encode_jpeg(&empty, 90, Subsampling::S420, Embed::default());
        assert!(matches!(r, Err(Error::InvalidParameter(_))));
        let wide = Rgb8 {
            width: 70_000,
            height: 1,
            data: vec![0; 70_000 * 3],
        };
        let r = encode_jpeg(&wide, 90, Subsampling::S420, Embed::default());
        assert!(matches!(r, Err(Error::InvalidParameter(_))));
    }

    #[test]
    fn huge_metadata_strings_do_not_break_exif() {
        let meta = Metadata {
            make: Some("\0".repeat(100_000) + "Nikon"),
            model: Some("Z".repeat(1_000_000)),
            lens: Some("a\u{0}b\u{7}c\ndé".into()),
            ..full_metadata()
        };
        let jpeg = encode_jpeg(
            &smooth_rgb8(8, 8),
            90,
            Subsampling::S420,
            embed_all(&meta, srgb_icc_profile()),
        )
        .expect("encode");
        let e = read_exif(&jpeg);
        let get = |t| {
            e.get_field(t, exif::In::PRIMARY)
                .map(|f| f.display_value().to_string())
                .unwrap_or_default()
        };
        assert_eq!(get(exif::Tag::Make), "\"Nikon\"");
        assert_eq!(get(exif::Tag::Model).len(), 128 + 2);
        // Control characters are gone; non-ASCII text is kept as UTF-8 bytes.
        let lens = e
            .get_field(exif::Tag::LensModel, exif::In::PRIMARY)
            .expect("lens");
        assert!(matches!(&lens.value, exif::Value::Ascii(v) if v == &[b"abcd\xc3\xa9".to_vec()]));
        assert_eq!(
            get(exif::Tag::Orientation),
            "row 0 at top and column 0 at left"
        );
        decode(&jpeg);
    }

    /// A 6000x4000 photographic test image: the Kodak ground-truth images tiled.
    fn kodak_mosaic(width: usize, height: usize) -> Option<Rgb8> {
        let mut tiles = Vec::new();
        for i in 1..=24 {
            let path = rawflow_corpus::kodak_path(i);
            let file = std::fs::File::open(&path)
                .unwrap_or_else(|e| panic!("Kodak image {} ({e})", path.display()));
            let mut dec = png::Decoder::new(std::io::BufReader::new(file));
            dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
            let mut r = dec.read_info().expect("kodak png");
            let mut buf = vec![0; r.output_buffer_size().expect("size")];
            let f = r.next_frame(&mut buf).expect("frame");
            assert_eq!(f.color_type, png::ColorType::Rgb);
            tiles.push((f.width as usize, f.height as usize, buf));
        }
        let mut img = Rgb8::new(width, height);
        let (tw, th) = (tiles[0].0, tiles[0].1);
        for y in 0..height {
            for x in 0..width {
                let (tx, ty) = (x / tw, y / th);
                let (w, h, t) = &tiles[(ty * 7 + tx) % tiles.len()];
                let (sx, sy) = ((x % tw).min(w - 1), (y % th).min(h - 1));
                let (d, s) = ((y * width + x) * 3, (sy * w + sx) * 3);
                img.data[d..d + 3].copy_from_slice(&t[s..s + 3]);
            }
        }
        Some(img)
    }

    /// Timing of a 24-megapixel encode (smooth synthetic and tiled Kodak images); run with
    /// `cargo test --release -p rawflow --lib jpeg_6000x4000 -- --ignored --nocapture`.
    #[test]
    #[ignore]
    #[cfg(feature = "turbojpeg")]
    fn jpeg_6000x4000_timing() {
        let meta = full_metadata();
        let embed = embed_all(&meta, srgb_icc_profile());
        let images = [
            ("smooth", Some(smooth_rgb8(6000, 4000))),
            ("kodak", kodak_mosaic(6000, 4000)),
        ];
        for (name, img) in images {
            let Some(img) = img else { continue };
            let _ = encode_jpeg(&img, 90, Subsampling::S420, embed).expect("warm-up");
            let runs = 5;
            let t = std::time::Instant::now();
            let mut len = 0;
            for _ in 0..runs {
                len = encode_jpeg(&img, 90, Subsampling::S420, embed)
                    .expect("encode")
                    .len();
            }
            let per = t.elapsed() / runs;
            println!("6000x4000 RGB8 JPEG q90 4:2:0 ({name}): {per:?} per image, {len} bytes");
            let tj_img = turbojpeg::Image {
                pixels: &img.data[..],
                width: img.width,
                pitch: img.width * 3,
                height: img.height,
                format: turbojpeg::PixelFormat::RGB,
            };
            let t = std::time::Instant::now();
            for _ in 0..runs {
                let _ = turbojpeg::compress(tj_img, 90, turbojpeg::Subsamp::Sub2x2).expect("tj");
            }
            println!(
                "  libjpeg-turbo alone, no metadata: {:?}",
                t.elapsed() / runs
            );
        }
    }
}
