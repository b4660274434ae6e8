//! Lossless JPEG (ITU-T T.81 Annex H, process 14: `SOF3`, Huffman-coded
//! differences of predicted samples), as DNG (Compression 7), CR2 and
//! lossless NEF store CFA data.
//!
//! What it decodes: 2–16-bit precision, 1–4 interleaved components (all
//! sampling factors 1), predictors 1–7, a point transform, restart intervals
//! of whole rows (the only kind T.81 allows in lossless mode). Differences are
//! decoded through a lookup table on the next [`LUT_BITS`] bits that gives the
//! code length, and for most codes the difference itself, in one load; only
//! codes longer than the table fall back to the canonical bit-by-bit search.
//! Restart segments are found up front, so a caller can decode them in
//! parallel.
//!
//! Bounded on hostile bytes: every read is checked, the work is bounded by
//! the frame size the caller accepted, and an entropy-coded segment that ends
//! before its samples do is an error rather than a source of invented zeros.

use std::fmt;

/// Bits of lookahead the first-level Huffman table is indexed by (4096
/// entries of 4 bytes: two tables fit in L1 together).
pub(crate) const LUT_BITS: u32 = 12;

/// Why a lossless JPEG stream could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LjpegError {
    /// A stream this decoder does not handle (lossy JPEG, subsampling,
    /// several scans…).
    Unsupported(String),
    /// The stream is malformed or cut short.
    Corrupt(String),
}

impl fmt::Display for LjpegError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unsupported(s) | Self::Corrupt(s) => f.write_str(s),
        }
    }
}

fn corrupt<T>(msg: impl Into<String>) -> Result<T, LjpegError> {
    Err(LjpegError::Corrupt(msg.into()))
}

fn unsupported<T>(msg: impl Into<String>) -> Result<T, LjpegError> {
    Err(LjpegError::Unsupported(msg.into()))
}

/// One Huffman table of difference categories (SSSS, 0–16).
#[derive(Clone)]
pub(crate) struct Huffman {
    /// Indexed by the next [`LUT_BITS`] bits: bits 0–7 the number of bits to
    /// consume (0: the code is longer than the table, take the slow path),
    /// bits 8–15 how many difference bits still follow (0: none, the
    /// difference is complete), bits 16–31 the difference as an `i16`.
    lut: Vec<u32>,
    /// Largest code of each length (−1 when none), for the slow path.
    maxcode: [i32; 17],
    /// `huffval` index of the first code of each length, minus that code.
    valoffset: [i32; 17],
    /// Categories in code order.
    huffval: Vec<u8>,
}

impl Huffman {
    /// Build a table from a DHT's 16 code counts and its values.
    pub(crate) fn new(counts: &[u8; 16], values: &[u8]) -> Result<Self, LjpegError> {
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        if total != values.len() || total == 0 || total > 17 {
            return corrupt(format!("Huffman table with {total} codes"));
        }
        if let Some(&v) = values.iter().find(|&&v| v > 16) {
            return corrupt(format!("Huffman table codes difference category {v}"));
        }
        let mut lut = vec![0u32; 1 << LUT_BITS];
        let mut maxcode = [-1i32; 17];
        let mut valoffset = [0i32; 17];
        let mut code: u32 = 0;
        let mut k = 0usize;
        for len in 1..=16u32 {
            let n = u32::from(counts[len as usize - 1]);
            valoffset[len as usize] = k as i32 - code as i32;
            for _ in 0..n {
                if code >= (1 << len) {
                    return corrupt("Huffman table with more codes than fit their lengths");
                }
                let ssss = u32::from(values[k]);
                if len <= LUT_BITS {
                    fill_lut(&mut lut, code, len, ssss);
                }
                code += 1;
                k += 1;
            }
            if n > 0 {
                maxcode[len as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        Ok(Self {
            lut,
            maxcode,
            valoffset,
            huffval: values.to_vec(),
        })
    }

    /// Decode one difference. The reader must hold at least 32 bits.
    #[inline(always)]
    fn decode(&self, br: &mut BitReader<'_>) -> i32 {
        let e = match self.lut.get(br.peek(LUT_BITS) as usize) {
            Some(&e) => e,
            None => 0,
        };
        let len = e & 0xFF;
        if len != 0 {
            br.consume(len);
            let s = (e >> 8) & 0xFF;
            if s == 0 {
                return i32::from((e >> 16) as u16 as i16);
            }
            return extend(br.take(s), s);
        }
        self.decode_slow(br)
    }

    #[cold]
    fn decode_slow(&self, br: &mut BitReader<'_>) -> i32 {
        let mut code: i32 = 0;
        for len in 1..=16usize {
            code = (code << 1) | br.take(1) as i32;
            if code <= self.maxcode[len] {
                let idx = (self.valoffset[len] + code) as usize;
                let s = self.huffval.get(idx).copied().map_or(0, u32::from);
                return match s {
                    0 => 0,
                    16 => -32768,
                    s => extend(br.take(s), s),
                };
            }
        }
        br.bad_code = true;
        0
    }
}

/// Fill every table slot whose top `len` bits are `code`.
fn fill_lut(lut: &mut [u32], code: u32, len: u32, ssss: u32) {
    let spare = LUT_BITS - len;
    let first = (code << spare) as usize;
    for i in 0..(1usize << spare) {
        let entry = if ssss == 0 {
            len
        } else if ssss == 16 {
            // T.81 H.1.2.2: category 16 is the difference 32768, no extra bits.
            len | ((-32768i16 as u16 as u32) << 16)
        } else if len + ssss <= LUT_BITS {
            let bits = (i as u32) >> (spare - ssss);
            let diff = extend(bits, ssss);
            (len + ssss) | ((diff as i16 as u16 as u32) << 16)
        } else {
            len | (ssss << 8)
        };
        if let Some(slot) = lut.get_mut(first + i) {
            *slot = entry;
        }
    }
}

/// T.81's EXTEND: `s` bits `v` as a signed difference.
#[inline(always)]
fn extend(v: u32, s: u32) -> i32 {
    let v = v as i32;
    if v < (1 << (s - 1)) {
        v - (1 << s) + 1
    } else {
        v
    }
}

/// Reads entropy-coded bits MSB first, removing stuffed zero bytes; at a
/// marker or the end of the data it feeds zero bytes and counts them, so a
/// segment that ends early is detected afterwards.
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Valid bits left-aligned: the next bit is bit 63.
    acc: u64,
    nbits: u32,
    /// Zero bytes fed past the end of the segment.
    fake: u64,
    /// An invalid Huffman code was read.
    bad_code: bool,
}

impl<'a> BitReader<'a> {
    fn new(data: &'a [u8]) -> Self {
        let mut br = Self {
            data,
            pos: 0,
            acc: 0,
            nbits: 0,
            fake: 0,
            bad_code: false,
        };
        br.refill();
        br
    }

    #[inline(always)]
    fn peek(&self, n: u32) -> u32 {
        (self.acc >> (64 - n)) as u32
    }

    #[inline(always)]
    fn consume(&mut self, n: u32) {
        self.acc <<= n;
        self.nbits = self.nbits.saturating_sub(n);
    }

    #[inline(always)]
    fn take(&mut self, n: u32) -> u32 {
        let v = self.peek(n);
        self.consume(n);
        v
    }

    /// Make sure at least 32 bits are held.
    #[inline(always)]
    fn ensure(&mut self) {
        if self.nbits < 32 {
            self.refill();
        }
    }

    #[inline(always)]
    fn refill(&mut self) {
        // Fast path: the next eight bytes hold no 0xFF, so whole bytes can be
        // taken as they are. Bits of a partly taken byte below `nbits` are
        // that byte's true bits and are OR-ed again identically next time.
        if let Some(chunk) = self.data.get(self.pos..self.pos + 8) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            let w = u64::from_be_bytes(b);
            let inv = !w;
            let has_ff =
                inv.wrapping_sub(0x0101_0101_0101_0101) & !inv & 0x8080_8080_8080_8080 != 0;
            if !has_ff {
                self.acc |= w >> self.nbits;
                let k = (63 - self.nbits) >> 3;
                self.pos += k as usize;
                self.nbits += k * 8;
                return;
            }
        }
        self.refill_slow();
    }

    #[cold]
    fn refill_slow(&mut self) {
        while self.nbits <= 56 {
            let byte = match self.data.get(self.pos) {
                Some(&0xFF) => match self.data.get(self.pos + 1) {
                    Some(0x00) => {
                        self.pos += 2;
                        Some(0xFF)
                    }
                    // A marker (or fill before one): the segment ends here.
                    _ => None,
                },
                Some(&b) => {
                    self.pos += 1;
                    Some(b)
                }
                None => None,
            };
            let byte = match byte {
                Some(b) => b,
                None => {
                    self.fake += 1;
                    // Clear any stale low bits from the fast path's lookahead
                    // (they were real bytes, but these slots are past the end).
                    0
                }
            };
            let shift = 56 - self.nbits;
            self.acc &= !(0xFFu64 << shift);
            self.acc |= u64::from(byte) << shift;
            self.nbits += 8;
        }
    }

    /// Whether the reader consumed bits that were not in the segment.
    fn overran(&self) -> bool {
        self.fake * 8 > u64::from(self.nbits)
    }
}

/// The frame and scan parameters of one lossless JPEG stream.
#[derive(Clone)]
pub(crate) struct Frame {
    /// Sample precision P, 2–16 bits.
    pub(crate) precision: u32,
    /// Samples per line (per component), X.
    pub(crate) width: usize,
    /// Lines, Y.
    pub(crate) height: usize,
    /// Interleaved components, 1–4.
    pub(crate) components: usize,
    /// Predictor selection value, 1–7.
    pub(crate) predictor: u32,
    /// Point transform Pt.
    pub(crate) point_transform: u32,
    /// Restart interval in lines (0: none).
    pub(crate) restart_rows: usize,
    /// The Huffman table of each component.
    tables: Vec<Huffman>,
    /// Byte offset of the entropy-coded data within the stream.
    pub(crate) scan_start: usize,
}

fn be16(b: &[u8], at: usize) -> Result<usize, LjpegError> {
    match (b.get(at), b.get(at + 1)) {
        (Some(&h), Some(&l)) => Ok(usize::from(u16::from_be_bytes([h, l]))),
        _ => corrupt("lossless JPEG header cut short"),
    }
}

fn byte(b: &[u8], at: usize) -> Result<u8, LjpegError> {
    match b.get(at) {
        Some(&v) => Ok(v),
        None => corrupt("lossless JPEG header cut short"),
    }
}

impl Frame {
    /// Parse the markers from SOI up to and including SOS.
    pub(crate) fn parse(data: &[u8]) -> Result<Self, LjpegError> {
        if data.get(..2) != Some(&[0xFF, 0xD8]) {
            return corrupt("the compressed data does not start with a JPEG SOI marker");
        }
        let mut pos = 2;
        let mut tables: [Option<Huffman>; 4] = [None, None, None, None];
        let mut sof: Option<(u32, usize, usize, Vec<u8>)> = None;
        let mut restart_mcus = 0usize;
        loop {
            // Skip fill bytes up to the next marker.
            if byte(data, pos)? != 0xFF {
                return corrupt(format!("expected a JPEG marker at byte {pos}"));
            }
            while byte(data, pos)? == 0xFF {
                pos += 1;
            }
            let marker = byte(data, pos)?;
            pos += 1;
            match marker {
                0xD8 | 0x01 | 0xD0..=0xD7 => continue,
                0xD9 => return corrupt("JPEG EOI before any scan"),
                _ => {}
            }
            let len = be16(data, pos)?;
            if len < 2 {
                return corrupt("JPEG segment length below 2");
            }
            let seg = match data.get(pos + 2..pos + len) {
                Some(s) => s,
                None => return corrupt("JPEG segment runs past the data"),
            };
            match marker {
                0xC3 => {
                    if seg.len() < 6 {
                        return corrupt("short SOF3");
                    }
                    let p = u32::from(seg[0]);
                    let y = usize::from(u16::from_be_bytes([seg[1], seg[2]]));
                    let x = usize::from(u16::from_be_bytes([seg[3], seg[4]]));
                    let nf = usize::from(seg[5]);
                    if !(2..=16).contains(&p) {
                        return corrupt(format!("lossless JPEG precision {p}"));
                    }
                    if !(1..=4).contains(&nf) {
                        return unsupported(format!("lossless JPEG with {nf} components"));
                    }
                    if seg.len() != 6 + 3 * nf {
                        return corrupt("SOF3 length does not match its components");
                    }
                    let mut ids = Vec::with_capacity(nf);
                    for c in 0..nf {
                        let (id, hv) = (seg[6 + 3 * c], seg[7 + 3 * c]);
                        if hv != 0x11 {
                            return unsupported(format!(
                                "lossless JPEG component sampling {}x{}",
                                hv >> 4,
                                hv & 15
                            ));
                        }
                        ids.push(id);
                    }
                    if x == 0 || y == 0 {
                        return corrupt("lossless JPEG frame of zero size");
                    }
                    sof = Some((p, x, y, ids));
                }
                0xC0..=0xC2 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                    return unsupported(format!(
                        "the tile is a lossy or arithmetic-coded JPEG (SOF{}), not lossless JPEG",
                        marker - 0xC0
                    ));
                }
                0xC4 => {
                    let mut at = 0;
                    while at < seg.len() {
                        let tc_th = seg[at];
                        if tc_th >> 4 != 0 || tc_th & 15 > 3 {
                            return corrupt(format!("DHT class/id {tc_th:#04x}"));
                        }
                        let mut counts = [0u8; 16];
                        match seg.get(at + 1..at + 17) {
                            Some(c) => counts.copy_from_slice(c),
                            None => return corrupt("DHT cut short"),
                        }
                        let n: usize = counts.iter().map(|&c| usize::from(c)).sum();
                        let values = match seg.get(at + 17..at + 17 + n) {
                            Some(v) => v,
                            None => return corrupt("DHT cut short"),
                        };
                        if let Some(slot) = tables.get_mut(usize::from(tc_th & 15)) {
                            *slot = Some(Huffman::new(&counts, values)?);
                        }
                        at += 17 + n;
                    }
                }
                0xDD => {
                    if seg.len() < 2 {
                        return corrupt("short DRI");
                    }
                    restart_mcus = usize::from(u16::from_be_bytes([seg[0], seg[1]]));
                }
                0xDA => {
                    let Some((precision, width, height, ids)) = sof else {
                        return corrupt("JPEG scan before its frame header");
                    };
                    let ns = usize::from(byte(seg, 0)?);
                    if ns != ids.len() {
                        return unsupported(format!(
                            "a scan of {ns} of the frame's {} components",
                            ids.len()
                        ));
                    }
                    if seg.len() != 1 + 2 * ns + 3 {
                        return corrupt("SOS length does not match its components");
                    }
                    let mut comp_tables = Vec::with_capacity(ns);
                    for (k, &id) in ids.iter().enumerate() {
                        if byte(seg, 1 + 2 * k)? != id {
                            return corrupt("SOS components out of frame order");
                        }
                        let td = usize::from(byte(seg, 2 + 2 * k)? >> 4);
                        match tables.get(td).and_then(Option::as_ref) {
                            Some(t) => comp_tables.push(t.clone()),
                            None => {
                                return corrupt(format!("scan uses undefined Huffman table {td}"))
                            }
                        }
                    }
                    let predictor = u32::from(byte(seg, 1 + 2 * ns)?);
                    let point_transform = u32::from(byte(seg, 3 + 2 * ns)? & 15);
                    if !(1..=7).contains(&predictor) {
                        return unsupported(format!("lossless JPEG predictor {predictor}"));
                    }
                    if point_transform >= precision {
                        return corrupt("point transform not below the precision");
                    }
                    let restart_rows = if restart_mcus == 0 {
                        0
                    } else if restart_mcus % width == 0 {
                        restart_mcus / width
                    } else {
                        return corrupt("restart interval is not a whole number of lines");
                    };
                    return Ok(Self {
                        precision,
                        width,
                        height,
                        components: ns,
                        predictor,
                        point_transform,
                        restart_rows,
                        tables: comp_tables,
                        scan_start: pos + len,
                    });
                }
                // APPn, COM, DQT, DNL...: skipped.
                _ => {}
            }
            pos += len;
        }
    }

    /// Samples in one decoded line (all components).
    pub(crate) fn line_len(&self) -> usize {
        self.width * self.components
    }

    /// The entropy-coded segments of the scan in `data` (the whole stream):
    /// byte ranges, each starting a restart interval. Without restarts, one
    /// segment running to the end of the data.
    pub(crate) fn segments(&self, data: &[u8]) -> Result<Vec<(usize, usize)>, LjpegError> {
        let start = self.scan_start;
        if self.restart_rows == 0 {
            return Ok(vec![(start, data.len())]);
        }
        let expected = self.height.div_ceil(self.restart_rows);
        let mut segs = Vec::with_capacity(expected);
        let mut seg_start = start;
        let mut from = start;
        while segs.len() + 1 < expected {
            let rest = data.get(from..).unwrap_or(&[]);
            let Some(i) = memchr::memchr(0xFF, rest) else {
                return corrupt(format!(
                    "{} of {expected} restart intervals found",
                    segs.len() + 1
                ));
            };
            let at = from + i;
            match data.get(at + 1) {
                Some(0x00) | Some(0xFF) => from = at + 1,
                Some(0xD0..=0xD7) => {
                    segs.push((seg_start, at));
                    seg_start = at + 2;
                    from = seg_start;
                }
                _ => {
                    return corrupt(format!(
                        "{} of {expected} restart intervals found",
                        segs.len() + 1
                    ))
                }
            }
        }
        segs.push((seg_start, data.len()));
        Ok(segs)
    }

    /// Decode lines `first..first + lines` from the segment `seg` (which
    /// must start a restart interval, or the scan, at line `first`), handing
    /// each decoded line (samples shifted by the point transform) to `sink`
    /// with its line number.
    pub(crate) fn decode_lines(
        &self,
        seg: &[u8],
        first: usize,
        lines: usize,
        sink: &mut dyn FnMut(usize, &[u16]),
    ) -> Result<(), LjpegError> {
        match self.components {
            1 => self.lines::<1>(seg, first, lines, sink),
            2 => self.lines::<2>(seg, first, lines, sink),
            3 => self.lines::<3>(seg, first, lines, sink),
            _ => self.lines::<4>(seg, first, lines, sink),
        }
    }

    fn lines<const NC: usize>(
        &self,
        seg: &[u8],
        first: usize,
        lines: usize,
        sink: &mut dyn FnMut(usize, &[u16]),
    ) -> Result<(), LjpegError> {
        let mut tabs: [&Huffman; NC] = [match self.tables.first() {
            Some(t) => t,
            None => return corrupt("scan without tables"),
        }; NC];
        for (c, t) in tabs.iter_mut().enumerate() {
            if let Some(h) = self.tables.get(c) {
                *t = h;
            }
        }
        let len = self.line_len();
        let mut prev = vec![0u16; len];
        let mut cur = vec![0u16; len];
        let mut shifted = if self.point_transform > 0 {
            vec![0u16; len]
        } else {
            Vec::new()
        };
        let base = 1i32 << (self.precision - self.point_transform - 1);
        let mut br = BitReader::new(seg);
        for r in 0..lines {
            let first_line = r == 0;
            match (first_line, self.predictor) {
                (true, _) | (false, 1) => line::<NC, _>(
                    &mut br,
                    &tabs,
                    first_line,
                    base,
                    &prev,
                    &mut cur,
                    |a, _, _| a,
                ),
                (_, 2) => line::<NC, _>(&mut br, &tabs, false, base, &prev, &mut cur, |_, b, _| b),
                (_, 3) => line::<NC, _>(&mut br, &tabs, false, base, &prev, &mut cur, |_, _, c| c),
                (_, 4) => line::<NC, _>(&mut br, &tabs, false, base, &prev, &mut cur, |a, b, c| {
                    a + b - c
                }),
                (_, 5) => line::<NC, _>(&mut br, &tabs, false, base, &prev, &mut cur, |a, b, c| {
                    a + ((b - c) >> 1)
                }),
                (_, 6) => line::<NC, _>(&mut br, &tabs, false, base, &prev, &mut cur, |a, b, c| {
                    b + ((a - c) >> 1)
                }),
                _ => line::<NC, _>(&mut br, &tabs, false, base, &prev, &mut cur, |a, b, _| {
                    (a + b) >> 1
                }),
            }
            if br.bad_code {
                return corrupt("invalid Huffman code in lossless JPEG data");
            }
            if br.overran() {
                return corrupt("lossless JPEG data ends before its last line");
            }
            if self.point_transform > 0 {
                let pt = self.point_transform;
                for (o, &v) in shifted.iter_mut().zip(&cur) {
                    *o = v.wrapping_shl(pt);
                }
                sink(first + r, &shifted);
            } else {
                sink(first + r, &cur);
            }
            std::mem::swap(&mut prev, &mut cur);
        }
        Ok(())
    }
}

/// Decode one line of `NC` interleaved components with predictor `pred`
/// (Ra, Rb, Rc → prediction); the first pixel is predicted from above, or
/// from `base` on the first line of a scan or restart interval.
#[inline(always)]
fn line<const NC: usize, P: Fn(i32, i32, i32) -> i32>(
    br: &mut BitReader<'_>,
    tabs: &[&Huffman; NC],
    first_line: bool,
    base: i32,
    prev: &[u16],
    cur: &mut [u16],
    pred: P,
) {
    let mut px = cur.chunks_exact_mut(NC).zip(prev.chunks_exact(NC));
    let mut left = [0i32; NC];
    let mut upleft = [0i32; NC];
    if let Some((o, up)) = px.next() {
        for c in 0..NC {
            br.ensure();
            let p = if first_line { base } else { i32::from(up[c]) };
            let v = (p + tabs[c].decode(br)) as u16;
            o[c] = v;
            left[c] = i32::from(v);
            upleft[c] = i32::from(up[c]);
        }
    }
    for (o, up) in px {
        for c in 0..NC {
            br.ensure();
            let b = i32::from(up[c]);
            let v = (pred(left[c], b, upleft[c]) + tabs[c].decode(br)) as u16;
            o[c] = v;
            left[c] = i32::from(v);
            upleft[c] = b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extend_matches_t81() {
        assert_eq!(extend(0, 1), -1);
        assert_eq!(extend(1, 1), 1);
        assert_eq!(extend(0b00, 2), -3);
        assert_eq!(extend(0b01, 2), -2);
        assert_eq!(extend(0b10, 2), 2);
        assert_eq!(extend(0b11, 2), 3);
    }

    #[test]
    fn headers_that_are_not_lossless_are_refused() {
        assert!(matches!(Frame::parse(b"nope"), Err(LjpegError::Corrupt(_))));
        // SOI, SOF1 (extended sequential DCT).
        let lossy = [0xFF, 0xD8, 0xFF, 0xC1, 0, 11, 12, 0, 8, 0, 8, 1, 1, 0x11, 0];
        assert!(matches!(
            Frame::parse(&lossy),
            Err(LjpegError::Unsupported(_))
        ));
        // Cut short everywhere.
        for n in 0..lossy.len() {
            assert!(Frame::parse(&lossy[..n]).is_err());
        }
    }

    #[test]
    fn tables_with_too_many_codes_are_refused() {
        let mut counts = [0u8; 16];
        counts[0] = 3; // three 1-bit codes
        assert!(Huffman::new(&counts, &[0, 1, 2]).is_err());
        counts[0] = 2;
        assert!(Huffman::new(&counts, &[0, 17]).is_err());
        assert!(Huffman::new(&counts, &[0, 1]).is_ok());
    }
}
