//! 8-bit RGB PNG output with `png::Compression::Fast`, the ICC profile in an
//! `iCCP` chunk and EXIF in an `eXIf` chunk.

use std::borrow::Cow;

use super::exif::{exif_tiff, ColorSpace, Container, ExifContext};
use super::{check_dims, profile_of, Embed};
use crate::error::{Error, Result};
use crate::image::Rgb8;

fn err(e: impl std::fmt::Display) -> Error {
    Error::Encode {
        format: "PNG",
        reason: e.to_string(),
    }
}

/// See [`super::encode_png8`].
pub(crate) fn encode(image: &Rgb8, embed: Embed<'_>) -> Result<Vec<u8>> {
    check_dims(image.width, image.height, image.data.len(), "PNG")?;
    let too_big = || {
        Error::InvalidParameter(format!(
            "{}x{} is too large for PNG",
            image.width, image.height
        ))
    };
    let width = u32::try_from(image.width).map_err(|_| too_big())?;
    let height = u32::try_from(image.height).map_err(|_| too_big())?;
    // PNG caps dimensions at 2^31 - 1.
    if width > i32::MAX as u32 || height > i32::MAX as u32 {
        return Err(too_big());
    }
    let profile = profile_of(&embed);

    let mut info = png::Info::with_size(width, height);
    info.color_type = png::ColorType::Rgb;
    info.bit_depth = png::BitDepth::Eight;
    info.icc_profile = profile.map(Cow::Borrowed);
    if let Some(meta) = embed.metadata {
        let ctx = ExifContext {
            width,
            height,
            container: Container::Png,
            color_space: ColorSpace::for_profile(profile),
        };
        info.exif_metadata = Some(Cow::Owned(exif_tiff(meta, &ctx)?));
    }

    // Fast compression typically halves raw size; reserve about that.
    let mut out = Vec::with_capacity(image.data.len() / 2 + 4096);
    let mut encoder = png::Encoder::with_info(&mut out, info).map_err(err)?;
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(err)?;
    writer.write_image_data(&image.data).map_err(err)?;
    writer.finish().map_err(err)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use super::super::{encode_png8, srgb_icc_profile, Embed};
    use crate::error::Error;
    use crate::image::Rgb8;
    use crate::metadata::Metadata;

    struct Decoded {
        width: u32,
        height: u32,
        pixels: Vec<u8>,
        icc: Option<Vec<u8>>,
        exif: Option<Vec<u8>>,
    }

    fn decode(bytes: &[u8]) -> Decoded {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .expect("png reads our PNG");
        let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
        let frame = reader.next_frame(&mut pixels).expect("frame");
        assert_eq!(frame.color_type, png::ColorType::Rgb);
        assert_eq!(frame.bit_depth, png::BitDepth::Eight);
        pixels.truncate(frame.buffer_size());
        let info = reader.info();
        Decoded {
            width: info.width,
            height: info.height,
            pixels,
            icc: info.icc_profile.as_ref().map(|p| p.to_vec()),
            exif: info.exif_metadata.as_ref().map(|p| p.to_vec()),
        }
    }

    #[test]
    fn round_trip_is_exact_with_icc_and_exif() {
        let meta = full_metadata();
        let icc = srgb_icc_profile();
        for (w, h) in [(200, 150)].into_iter().chain(ODD_SIZES) {
            let img = smooth_rgb8(w, h);
            let embed = Embed {
                icc_profile: Some(icc),
                metadata: Some(&meta),
            };
            let bytes = encode_png8(&img, embed).expect("encode");
            let d = decode(&bytes);
            assert_eq!((d.width as usize, d.height as usize), (w, h));
            assert_eq!(d.pixels, img.data);
            assert_eq!(d.icc.as_deref(), Some(icc));
            assert!(d.exif.is_some());
            assert_exif_matches(&read_exif(&bytes), &meta, 1);
        }
    }

    #[test]
    fn nothing_embedded_when_nothing_asked() {
        let img = smooth_rgb8(9, 7);
        let d = decode(&encode_png8(&img, Embed::default()).expect("encode"));
        assert_eq!(d.pixels, img.data);
        assert!(d.icc.is_none() && d.exif.is_none());
    }

    #[test]
    fn other_profile_marks_exif_uncalibrated() {
        let icc = big_profile(70_000);
        let meta = full_metadata();
        let embed = Embed {
            icc_profile: Some(&icc),
            metadata: Some(&meta),
        };
        let bytes = encode_png8(&smooth_rgb8(5, 5), embed).expect("encode");
        assert_eq!(decode(&bytes).icc.as_deref(), Some(&icc[..]));
        assert_exif_matches(&read_exif(&bytes), &meta, 0xFFFF);
    }

    #[test]
    fn huge_metadata_strings_are_fine() {
        let meta = Metadata {
            lens: Some("\0".repeat(10) + &"L".repeat(1 << 20)),
            ..full_metadata()
        };
        let embed = Embed {
            icc_profile: None,
            metadata: Some(&meta),
        };
        let bytes = encode_png8(&smooth_rgb8(3, 3), embed).expect("encode");
        let e = read_exif(&bytes);
        let lens = e
            .get_field(exif::Tag::LensModel, exif::In::PRIMARY)
            .expect("lens");
        assert_eq!(
            lens.display_value().to_string(),
            format!("\"{}\"", "L".repeat(128))
        );
    }

    #[test]
    fn bad_buffers_are_rejected() {
        let r = encode_png8(&Rgb8::new(0, 0), Embed::default());
        assert!(matches!(r, Err(Error::InvalidParameter(_))));
        let bad = Rgb8 {
            width: 4,
            height: 4,
            data: vec![0; 47],
        };
        assert!(matches!(
            encode_png8(&bad, Embed::default()),
            Err(Error::InvalidParameter(_))
        ));
    }
}
