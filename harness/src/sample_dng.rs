//! A tiny synthetic DNG (uncompressed 14-bit RGGB Bayer, linear sRGB camera),
//! for the demo and the server tests.
//!
//! Stand-in until the `rawflow-corpus` crate's sample generator is wired in.
//! Self-contained on purpose: the harness tests include this file directly.

/// Write a `width` × `height` DNG of a smooth colour scene; `seed` shifts the
/// scene so that files differ.
pub fn sample_dng(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let (w, h) = (width.max(2) & !1, height.max(2) & !1);
    let white: u32 = 16383;
    // Pixels: a colour scene sampled through an RGGB mosaic.
    let mut pixels = Vec::with_capacity((w * h * 2) as usize);
    for y in 0..h {
        for x in 0..w {
            let fx = (x as f32 + 0.5) / w as f32;
            let fy = (y as f32 + 0.5) / h as f32;
            let phase = (seed % 97) as f32 / 97.0;
            let rgb = [
                0.1 + 0.7 * fx,
                0.15 + 0.5 * (1.0 - (fx - fy).abs()) * (0.8 + 0.2 * phase),
                0.1 + 0.7 * fy,
            ];
            let c = match (y % 2, x % 2) {
                (0, 0) => 0,
                (1, 1) => 2,
                _ => 1,
            };
            let v = (rgb[c].clamp(0.0, 1.0) * white as f32).round() as u16;
            pixels.extend_from_slice(&v.to_le_bytes());
        }
    }

    // XYZ → camera for a camera that sees linear sRGB (inverse of sRGB → XYZ), ×10000.
    let color_matrix: [i32; 9] = [32406, -15372, -4986, -9689, 18758, 415, 557, -2040, 10570];

    enum Val {
        Short(Vec<u16>),
        Long(Vec<u32>),
        Byte(Vec<u8>),
        Ascii(&'static str),
        Rational(Vec<(u32, u32)>),
        SRational(Vec<(i32, i32)>),
    }
    let entries: Vec<(u16, Val)> = vec![
        (254, Val::Long(vec![0])),
        (256, Val::Long(vec![w])),
        (257, Val::Long(vec![h])),
        (258, Val::Short(vec![16])),
        (259, Val::Short(vec![1])),
        (262, Val::Short(vec![32803])),
        (271, Val::Ascii("Rawflow")),
        (272, Val::Ascii("Synthetic")),
        (273, Val::Long(vec![0])), // patched below
        (274, Val::Short(vec![1])),
        (277, Val::Short(vec![1])),
        (278, Val::Long(vec![h])),
        (279, Val::Long(vec![w * h * 2])),
        (33421, Val::Short(vec![2, 2])),
        (33422, Val::Byte(vec![0, 1, 1, 2])),
        (50706, Val::Byte(vec![1, 4, 0, 0])),
        (50708, Val::Ascii("Rawflow Synthetic")),
        (50714, Val::Long(vec![0])),
        (50717, Val::Long(vec![white])),
        (
            50721,
            Val::SRational(color_matrix.iter().map(|&v| (v, 10000)).collect()),
        ),
        (50728, Val::Rational(vec![(1, 1), (1, 1), (1, 1)])),
        (50778, Val::Short(vec![21])),
    ];

    let ifd_offset = 8u32;
    let ifd_len = 2 + 12 * entries.len() as u32 + 4;
    let mut extra: Vec<u8> = Vec::new();
    let extra_base = ifd_offset + ifd_len;
    let mut ifd: Vec<u8> = Vec::new();
    ifd.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    let mut strip_entry_pos = 0usize;
    for (tag, val) in &entries {
        let (ty, count, bytes): (u16, u32, Vec<u8>) = match val {
            Val::Short(v) => (
                3,
                v.len() as u32,
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ),
            Val::Long(v) => (
                4,
                v.len() as u32,
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ),
            Val::Byte(v) => (1, v.len() as u32, v.clone()),
            Val::Ascii(s) => {
                let mut b = s.as_bytes().to_vec();
                b.push(0);
                (2, b.len() as u32, b)
            }
            Val::Rational(v) => (
                5,
                v.len() as u32,
                v.iter()
                    .flat_map(|(n, d)| n.to_le_bytes().into_iter().chain(d.to_le_bytes()))
                    .collect(),
            ),
            Val::SRational(v) => (
                10,
                v.len() as u32,
                v.iter()
                    .flat_map(|(n, d)| n.to_le_bytes().into_iter().chain(d.to_le_bytes()))
                    .collect(),
            ),
        };
        ifd.extend_from_slice(&tag.to_le_bytes());
        ifd.extend_from_slice(&ty.to_le_bytes());
        ifd.extend_from_slice(&count.to_le_bytes());
        if *tag == 273 {
            strip_entry_pos = ifd.len();
        }
        if bytes.len() <= 4 {
            let mut inline = bytes.clone();
            inline.resize(4, 0);
            ifd.extend_from_slice(&inline);
        } else {
            let off = extra_base + extra.len() as u32;
            ifd.extend_from_slice(&off.to_le_bytes());
            extra.extend_from_slice(&bytes);
            if extra.len() % 2 == 1 {
                extra.push(0);
            }
        }
    }
    ifd.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    let strip_offset = extra_base + extra.len() as u32;
    ifd[strip_entry_pos..strip_entry_pos + 4].copy_from_slice(&strip_offset.to_le_bytes());

    let mut out = Vec::with_capacity(strip_offset as usize + pixels.len());
    out.extend_from_slice(b"II*\0");
    out.extend_from_slice(&ifd_offset.to_le_bytes());
    out.extend_from_slice(&ifd);
    out.extend_from_slice(&extra);
    out.extend_from_slice(&pixels);
    out
}
