//! Lossless-JPEG DNGs (Compression 7) read straight from the mapped file:
//! tiles decoded in parallel, and the restart intervals of a strip too.
//!
//! The metadata is read by [`super::plain_dng::parse`], with `rawloader`'s
//! rules, so the result is the [`rawloader::RawImage`] `rawloader` would
//! give for the files it decodes (a test checks the two agree sample for
//! sample); this reader also decodes what `rawloader` does not (several
//! strips, predictors 2–7, one to four components, 2–16 bits, restart
//! markers).
//!
//! The layouts: the image is a grid of chunks, tiles (`TileWidth` ×
//! `TileLength`, padded at the right and bottom edges) or strips (the full
//! width × `RowsPerStrip`, the last one shorter). As in the DNG SDK, each
//! chunk's lossless JPEG decodes to a stream of samples read row by row
//! into the chunk, however the JPEG frame is shaped: one component of the
//! chunk's width, two components of half the width side by side (what DNG
//! converters write for CFA data), or two lines of the chunk per JPEG line
//! (as some cameras encode). Samples beyond the image are dropped.

use rayon::prelude::*;

use super::ljpeg::{Frame, LjpegError};
use super::plain_dng::{parse, Entry};

const COMPRESSION: u16 = 0x0103;
const STRIP_OFFSETS: u16 = 0x0111;
const ROWS_PER_STRIP: u16 = 0x0116;
const STRIP_BYTE_COUNTS: u16 = 0x0117;
const TILE_WIDTH: u16 = 0x0142;
const TILE_LENGTH: u16 = 0x0143;
const TILE_OFFSETS: u16 = 0x0144;
const TILE_BYTE_COUNTS: u16 = 0x0145;

/// Decode `bytes` when it is a lossless-JPEG CFA DNG: `None` when it is
/// not one this reader handles (the caller's other decoders get it),
/// `Some(Err)` when it is one and its data cannot be decoded.
pub(crate) fn decode(bytes: &[u8]) -> Option<Result<rawloader::RawImage, LjpegError>> {
    let dng = parse(bytes)?;
    let raw = &dng.raw;
    if raw.get(COMPRESSION)?.uint(0)? != 7 {
        return None;
    }
    let (width, height) = (dng.image.width, dng.image.height);
    // rawloader reads strips when StripOffsets is present, else tiles.
    let grid = if let Some(offsets) = raw.get(STRIP_OFFSETS) {
        let rows = match raw.get(ROWS_PER_STRIP).and_then(|e| e.uint(0)) {
            Some(r) if r > 0 => (r as usize).min(height),
            _ => height,
        };
        Grid::new(width, rows, offsets, raw.get(STRIP_BYTE_COUNTS))
    } else {
        let tw = raw.get(TILE_WIDTH)?.uint(0)? as usize;
        let th = raw.get(TILE_LENGTH)?.uint(0)? as usize;
        Grid::new(tw, th, raw.get(TILE_OFFSETS)?, raw.get(TILE_BYTE_COUNTS))
    };
    Some(grid.and_then(|g| {
        g.decode(bytes, width, height)
            .map(|data| dng.with_samples(data))
    }))
}

/// Where the chunks are.
struct Grid {
    /// Chunk size in pixels.
    tile_w: usize,
    tile_h: usize,
    /// Byte range of each chunk, row of chunks by row of chunks.
    chunks: Vec<(usize, Option<usize>)>,
}

impl Grid {
    fn new(
        tile_w: usize,
        tile_h: usize,
        offsets: Entry<'_>,
        counts: Option<Entry<'_>>,
    ) -> Result<Self, LjpegError> {
        if tile_w == 0 || tile_h == 0 {
            return Err(LjpegError::Corrupt("DNG tiles of zero size".into()));
        }
        let mut chunks = Vec::with_capacity(offsets.count.min(1 << 20));
        for i in 0..offsets.count {
            let off = offsets
                .uint(i)
                .ok_or_else(|| LjpegError::Corrupt("unreadable DNG tile offset".into()))?;
            let len = counts.and_then(|c| c.uint(i)).map(|n| n as usize);
            chunks.push((off as usize, len));
        }
        Ok(Self {
            tile_w,
            tile_h,
            chunks,
        })
    }

    fn decode(&self, bytes: &[u8], width: usize, height: usize) -> Result<Vec<u16>, LjpegError> {
        let corrupt = |m: String| LjpegError::Corrupt(m);
        let across = width.div_ceil(self.tile_w);
        let down = height.div_ceil(self.tile_h);
        if across.checked_mul(down) != Some(self.chunks.len()) {
            return Err(corrupt(format!(
                "DNG has {} tile offsets for {across}x{down} tiles",
                self.chunks.len()
            )));
        }
        // Every sample takes at least one bit of a Huffman code: a file
        // cannot hold more samples than eight per byte. (This bounds the
        // allocation below by the file's size, whatever its header claims.)
        let samples = width
            .checked_mul(height)
            .filter(|&n| n / 8 <= bytes.len())
            .ok_or_else(|| {
                corrupt(format!(
                    "a {width}x{height} image cannot be held in {} bytes of lossless JPEG",
                    bytes.len()
                ))
            })?;
        // The padded chunks must not be out of all proportion to the image
        // either (the work is proportional to them).
        let padded = (across * self.tile_w).saturating_mul(down * self.tile_h);
        if padded > samples.saturating_mul(4).saturating_add(1 << 22) {
            return Err(corrupt(format!(
                "DNG tiles of {}x{} for a {width}x{height} image",
                self.tile_w, self.tile_h
            )));
        }
        let mut out = vec![0u16; samples];
        let band_len = width * self.tile_h;
        out.par_chunks_mut(band_len)
            .enumerate()
            .try_for_each(|(band, buf)| {
                let rows = buf.len() / width;
                let mut tiles = (0..across).map(|col| {
                    let (off, len) = self
                        .chunks
                        .get(band * across + col)
                        .copied()
                        .unwrap_or((usize::MAX, None));
                    let data = bytes.get(off..).unwrap_or(&[]);
                    let data = match len {
                        Some(n) => data.get(..n).unwrap_or(data),
                        None => data,
                    };
                    let x0 = col * self.tile_w;
                    (data, x0, self.tile_w.min(width - x0))
                });
                if across == 1 && self.tile_w == width {
                    // One chunk spans the band's rows: its restart intervals
                    // can go in parallel.
                    match tiles.next() {
                        Some((data, _, _)) => decode_strip(data, buf, width, rows, self.tile_h),
                        None => Ok(()),
                    }
                } else {
                    tiles.try_for_each(|(data, x0, cols)| {
                        let tile = Tile {
                            stride: width,
                            x0,
                            cols,
                            rows,
                            row_len: self.tile_w,
                            tile_rows: self.tile_h,
                        };
                        let frame = tile.frame(data)?;
                        decode_segments(&frame, data, 0, frame.height, &tile, buf, 0)
                    })
                }
            })?;
        Ok(out)
    }
}

/// Where one chunk's samples go in its band of the output.
struct Tile {
    /// Samples per output row.
    stride: usize,
    /// The chunk's first column.
    x0: usize,
    /// Columns and rows of the chunk inside the image.
    cols: usize,
    rows: usize,
    /// Samples per chunk row (the padded width) and rows of the chunk.
    row_len: usize,
    tile_rows: usize,
}

impl Tile {
    /// Parse the chunk's JPEG header and check its frame fits the chunk.
    fn frame(&self, data: &[u8]) -> Result<Frame, LjpegError> {
        let frame = Frame::parse(data)?;
        let have = frame.line_len().saturating_mul(frame.height);
        let room = self.row_len.saturating_mul(self.tile_rows);
        let need = (self.rows.saturating_sub(1))
            .saturating_mul(self.row_len)
            .saturating_add(self.cols);
        if have > room || have < need {
            return Err(LjpegError::Corrupt(format!(
                "a {}x{} lossless JPEG with {} components in a {}x{} DNG tile",
                frame.width, frame.height, frame.components, self.row_len, self.tile_rows
            )));
        }
        Ok(frame)
    }

    /// Copy decoded JPEG line `line` (of `frame`'s line length) to where its
    /// samples belong: `buf` starts at chunk row `row_base`.
    #[inline]
    fn put(&self, buf: &mut [u16], row_base: usize, line_len: usize, line: usize, samples: &[u16]) {
        let mut k = line * line_len;
        let mut rest = samples;
        while !rest.is_empty() {
            let (r, c) = (k / self.row_len, k % self.row_len);
            let n = rest.len().min(self.row_len - c);
            if r >= self.rows {
                return;
            }
            if c < self.cols {
                let m = n.min(self.cols - c);
                let at = r.saturating_sub(row_base) * self.stride + self.x0 + c;
                if let Some(dst) = buf.get_mut(at..at + m) {
                    dst.copy_from_slice(&rest[..m]);
                }
            }
            k += n;
            rest = &rest[n..];
        }
    }
}

/// Decode JPEG lines `first..end` of `data`'s scan into `buf` (which starts at
/// chunk row `row_base`), one restart interval after another.
fn decode_segments(
    frame: &Frame,
    data: &[u8],
    first: usize,
    end: usize,
    tile: &Tile,
    buf: &mut [u16],
    row_base: usize,
) -> Result<(), LjpegError> {
    let segs = frame.segments(data)?;
    let per = if frame.restart_rows == 0 {
        frame.height
    } else {
        frame.restart_rows
    };
    let line_len = frame.line_len();
    for (i, &(s, e)) in segs.iter().enumerate() {
        let line0 = i * per;
        let lines = per.min(frame.height - line0);
        if line0 + lines <= first || line0 >= end {
            continue;
        }
        let seg = data.get(s..e).unwrap_or(&[]);
        frame.decode_lines(seg, line0, lines, &mut |line, samples| {
            tile.put(buf, row_base, line_len, line, samples)
        })?;
    }
    Ok(())
}

/// Decode a chunk that spans whole output rows (`rows` rows of `width`
/// samples in `buf`): its restart intervals in parallel when each covers
/// whole output rows, else one after another. `rows` of the strip's
/// `strip_rows` are inside the image.
fn decode_strip(
    data: &[u8],
    buf: &mut [u16],
    width: usize,
    rows: usize,
    strip_rows: usize,
) -> Result<(), LjpegError> {
    let tile = Tile {
        stride: width,
        x0: 0,
        cols: width,
        rows,
        row_len: width,
        tile_rows: strip_rows,
    };
    let frame = tile.frame(data)?;
    let line_len = frame.line_len();
    let seg_samples = frame.restart_rows * line_len;
    if frame.restart_rows == 0 || seg_samples % width != 0 {
        return decode_segments(&frame, data, 0, frame.height, &tile, buf, 0);
    }
    let segs = frame.segments(data)?;
    let rows_per_seg = seg_samples / width;
    buf.par_chunks_mut(rows_per_seg * width)
        .zip(segs.par_iter())
        .enumerate()
        .try_for_each(|(i, (part, &(s, e)))| {
            let line0 = i * frame.restart_rows;
            let lines = frame.restart_rows.min(frame.height.saturating_sub(line0));
            let seg = data.get(s..e).unwrap_or(&[]);
            let row_base = i * rows_per_seg;
            frame.decode_lines(seg, line0, lines, &mut |line, samples| {
                tile.put(part, row_base, line_len, line, samples)
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rawflow_corpus::{
        encode_dng_as, scenes, synthesize, BayerPhase, BlackLevels, CfaLayout, DngLayout,
        LjpegLayout, Noise, Orientation, SynthParams,
    };

    fn samples(r: &rawloader::RawImage) -> &[u16] {
        match &r.data {
            rawloader::RawImageData::Integer(v) => v,
            rawloader::RawImageData::Float(_) => &[],
        }
    }

    /// Everything but the samples, as text (floats by their bits).
    fn meta(r: &rawloader::RawImage) -> String {
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        format!(
            "{} {} {}x{}x{} wb {:?} white {:?} black {:?} m {:?} cfa {} crops {:?} {:?}",
            r.make,
            r.model,
            r.width,
            r.height,
            r.cpp,
            bits(&r.wb_coeffs),
            r.whitelevels,
            r.blacklevels,
            r.xyz_to_cam.iter().map(|row| bits(row)).collect::<Vec<_>>(),
            r.cfa.name,
            r.crops,
            r.orientation,
        )
    }

    fn params_cases() -> Vec<SynthParams> {
        let noisy = Some(Noise {
            seed: 7,
            read_noise_dn: 6.0,
            shot_gain_dn: 0.8,
        });
        vec![
            SynthParams {
                noise: noisy,
                ..SynthParams::default()
            },
            SynthParams {
                cfa: CfaLayout::Bayer(BayerPhase::Gbrg),
                bits: 12,
                black: BlackLevels::PerPosition([250, 260, 270, 280]),
                orientation: Orientation::Rotate90Cw,
                camera: rawflow_corpus::NIKON_D700,
                noise: noisy,
                ..SynthParams::default()
            },
            SynthParams {
                bits: 16,
                black: BlackLevels::Uniform(0),
                camera: rawflow_corpus::SONY_ILCE_7M3,
                noise: noisy,
                ..SynthParams::default()
            },
            SynthParams {
                cfa: CfaLayout::XTrans,
                camera: rawflow_corpus::FUJIFILM_X_T2,
                noise: noisy,
                ..SynthParams::default()
            },
        ]
    }

    /// Every lossless-JPEG DNG rawloader decodes, this reader decodes to the
    /// very same image, sample for sample.
    #[test]
    fn lossless_jpeg_dngs_decode_exactly_as_rawloader_decodes_them() {
        // Sizes that leave partial tiles at the right and bottom edges (an
        // even width: rawloader writes two-component pixels in pairs and
        // indexes past the end of an odd-width row, a panic).
        let truth = scenes::color_chart(304, 203);
        let tiles_64 = LjpegLayout {
            tile: Some((64, 32)),
            ..LjpegLayout::TILED
        };
        // (rawloader reads four-component JPEGs only at the image's left
        // edge: a strip.)
        let four = LjpegLayout {
            components: 4,
            ..LjpegLayout::STRIP
        };
        let mut checked = 0;
        for params in params_cases() {
            // Upright, so the stored width stays even. And no sample of 0
            // at 16 bits: its difference from the first prediction (32768)
            // is category 16, which T.81 codes without extra bits but
            // rawloader's table cache reads 16 extra bits for (the "DNG
            // bug16" reading), so rawloader misreads such files (the round
            // trips below check this reader on them).
            let params = SynthParams {
                orientation: Orientation::Normal,
                black: match params.black {
                    BlackLevels::Uniform(0) => BlackLevels::Uniform(1024),
                    b => b,
                },
                ..params
            };
            let raw = synthesize(&truth, &params).expect("synthesize");
            for layout in [LjpegLayout::TILED, LjpegLayout::STRIP, tiles_64, four] {
                let dng = encode_dng_as(&raw, &params, &DngLayout::Ljpeg(layout)).expect("dng");
                let ours = decode(&dng).expect("takes this path").expect("decodes");
                let theirs = rawloader::decode(&mut std::io::Cursor::new(&dng))
                    .unwrap_or_else(|e| panic!("rawloader: {e} {layout:?}"));
                assert_eq!(meta(&ours), meta(&theirs), "{params:?} {layout:?}");
                assert!(samples(&ours) == samples(&theirs), "{params:?} {layout:?}");
                assert!(
                    samples(&ours) == raw.data.as_slice(),
                    "{params:?} {layout:?}"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 16);
    }

    /// The layouts rawloader does not read decode to the samples written.
    #[test]
    fn every_predictor_component_count_strip_and_restart_layout_round_trips() {
        let truth = scenes::color_chart(97, 67);
        for params in params_cases() {
            let raw = synthesize(&truth, &params).expect("synthesize");
            let mut layouts = Vec::new();
            for predictor in 1..=7 {
                for components in [1, 2, 4] {
                    layouts.push(LjpegLayout {
                        tile: Some((32, 16)),
                        components,
                        predictor,
                        ..LjpegLayout::TILED
                    });
                }
                layouts.push(LjpegLayout {
                    predictor,
                    restart_lines: 4,
                    components: 1,
                    ..LjpegLayout::STRIP
                });
            }
            // Several strips, restarts that do and do not cover whole rows,
            // two rows per JPEG line.
            layouts.push(LjpegLayout {
                rows_per_strip: Some(16),
                ..LjpegLayout::STRIP
            });
            layouts.push(LjpegLayout {
                rows_per_strip: Some(10),
                restart_lines: 3,
                components: 1,
                predictor: 6,
                ..LjpegLayout::STRIP
            });
            layouts.push(LjpegLayout {
                rows_per_line: 2,
                tile: Some((48, 32)),
                restart_lines: 2,
                ..LjpegLayout::TILED
            });
            for layout in layouts {
                let dng = match encode_dng_as(&raw, &params, &DngLayout::Ljpeg(layout)) {
                    Ok(d) => d,
                    // An odd strip height cannot be coded two rows a line.
                    Err(_) => continue,
                };
                let ours = decode(&dng).expect("takes this path").expect("decodes");
                assert!(
                    samples(&ours) == raw.data.as_slice(),
                    "{params:?} {layout:?}"
                );
            }
        }
    }

    /// Every precision from 2 to 16 bits, with and without restarts, through
    /// the codec alone.
    #[test]
    fn every_precision_round_trips() {
        use super::super::ljpeg::Frame;
        let (w, h) = (37, 23);
        for precision in 2..=16u8 {
            for (components, predictor, restart_lines) in
                [(1, 1, 0), (2, 4, 5), (3, 7, 1), (4, 5, 0)]
            {
                let mut state = 0x1234_5678u32 ^ u32::from(precision);
                let mut data = Vec::new();
                for i in 0..w * components * h {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    // Smooth with noise, and now and then a full-range jump
                    // (differences of every category, 16 included).
                    let v = if i % 97 == 0 {
                        state >> 16
                    } else {
                        (i as u32 * 13) + (state >> 28)
                    };
                    data.push((v & ((1 << precision) - 1)) as u16);
                }
                if precision == 16 {
                    // Differences of 32768 (category 16, no extra bits).
                    data[0] = 0;
                    data[w * components] = 32768;
                }
                let p = rawflow_corpus::ljpeg::LjpegParams {
                    precision,
                    components,
                    predictor,
                    restart_lines,
                };
                let jpeg =
                    rawflow_corpus::ljpeg::encode(&data, w * components, h, &p).expect("encode");
                let frame = Frame::parse(&jpeg).expect("header");
                let mut out = vec![0u16; data.len()];
                let per = if restart_lines == 0 { h } else { restart_lines };
                for (i, (s, e)) in frame
                    .segments(&jpeg)
                    .expect("segments")
                    .into_iter()
                    .enumerate()
                {
                    let first = i * per;
                    frame
                        .decode_lines(&jpeg[s..e], first, per.min(h - first), &mut |line, v| {
                            out[line * v.len()..(line + 1) * v.len()].copy_from_slice(v)
                        })
                        .expect("decode");
                }
                assert!(out == data, "P{precision} {p:?}");
            }
        }
    }

    /// A stream cut anywhere is an error (or, cut inside the padding, the
    /// same samples), never a panic.
    #[test]
    fn cut_streams_are_errors() {
        let truth = scenes::color_chart(64, 40);
        let params = SynthParams::default();
        let raw = synthesize(&truth, &params).expect("synthesize");
        let dng = encode_dng_as(&raw, &params, &DngLayout::Ljpeg(LjpegLayout::STRIP)).expect("dng");
        let full = decode(&dng).expect("ours").expect("decodes");
        for cut in (dng.len() - 2000..dng.len()).step_by(7) {
            if let Some(Ok(img)) = decode(&dng[..cut]) {
                assert!(samples(&img) == samples(&full));
            }
        }
    }
}
