//! A lossless-JPEG encoder (ITU-T T.81 process 14: `SOF3`, Huffman-coded
//! differences of predicted samples), for compressed DNGs (Compression 7).
//!
//! Each component gets an optimal Huffman table for its differences (the
//! procedure of T.81 Annex K.2, as DNG converters do), any predictor 1–7,
//! 2–16-bit precision, 1–4 interleaved components, and optional restart
//! markers every so many lines.

use crate::error::{Error, Result};

/// How to code one lossless-JPEG stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LjpegParams {
    /// Sample precision in bits, 2–16; every sample must be below `2^precision`.
    pub precision: u8,
    /// Interleaved components per JPEG line, 1–4.
    pub components: usize,
    /// Predictor selection value, 1–7.
    pub predictor: u8,
    /// A restart marker every this many lines (0: none).
    pub restart_lines: usize,
}

/// Encode `samples` (`lines` JPEG lines of `line_len` samples, components
/// interleaved) as a lossless JPEG stream, SOI to EOI.
pub fn encode(
    samples: &[u16],
    line_len: usize,
    lines: usize,
    params: &LjpegParams,
) -> Result<Vec<u8>> {
    let p = params;
    let nc = p.components;
    let bad = |m: String| Error::InvalidParams(m);
    if !(2..=16).contains(&p.precision) {
        return Err(bad(format!("lossless JPEG precision {}", p.precision)));
    }
    if !(1..=4).contains(&nc) || line_len % nc != 0 || line_len == 0 {
        return Err(bad(format!(
            "{nc} components in lines of {line_len} samples"
        )));
    }
    if !(1..=7).contains(&p.predictor) {
        return Err(bad(format!("predictor {}", p.predictor)));
    }
    let width = line_len / nc;
    if width > 65535 || lines > 65535 || lines == 0 || samples.len() != line_len * lines {
        return Err(bad(format!(
            "a lossless JPEG of {width}x{lines} (x{nc}) from {} samples",
            samples.len()
        )));
    }
    if p.restart_lines > 0 && p.restart_lines * width > 65535 {
        return Err(bad("restart interval over 65535 pixels".into()));
    }
    let max = 1u32 << p.precision;
    if samples.iter().any(|&v| u32::from(v) >= max) {
        return Err(bad(format!("samples at or above 2^{}", p.precision)));
    }

    // Pass 1: category frequencies per component; pass 2: code them.
    let mut freq = vec![[0u64; 17]; nc];
    for_each_diff(samples, line_len, lines, p, |c, diff| {
        freq[c][category(diff) as usize] += 1;
    });
    let tables: Vec<Table> = freq.iter().map(Table::optimal).collect();

    let mut out = Vec::with_capacity(samples.len() + 1024);
    out.extend_from_slice(&[0xFF, 0xD8]);
    for (c, t) in tables.iter().enumerate() {
        let n = t.values.len();
        out.extend_from_slice(&[0xFF, 0xC4]);
        out.extend_from_slice(&((2 + 1 + 16 + n) as u16).to_be_bytes());
        out.push(c as u8);
        out.extend_from_slice(&t.counts);
        out.extend_from_slice(&t.values);
    }
    out.extend_from_slice(&[0xFF, 0xC3]);
    out.extend_from_slice(&((8 + 3 * nc) as u16).to_be_bytes());
    out.push(p.precision);
    out.extend_from_slice(&(lines as u16).to_be_bytes());
    out.extend_from_slice(&(width as u16).to_be_bytes());
    out.push(nc as u8);
    for c in 0..nc {
        out.extend_from_slice(&[c as u8, 0x11, 0]);
    }
    if p.restart_lines > 0 {
        out.extend_from_slice(&[0xFF, 0xDD, 0, 4]);
        out.extend_from_slice(&((p.restart_lines * width) as u16).to_be_bytes());
    }
    out.extend_from_slice(&[0xFF, 0xDA]);
    out.extend_from_slice(&((6 + 2 * nc) as u16).to_be_bytes());
    out.push(nc as u8);
    for c in 0..nc {
        out.extend_from_slice(&[c as u8, (c as u8) << 4]);
    }
    out.extend_from_slice(&[p.predictor, 0, 0]);

    let mut w = BitWriter { out, acc: 0, n: 0 };
    let mut restarts = 0u8;
    let mut line = 0usize;
    for_each_event(samples, line_len, lines, p, |event| match event {
        Event::Diff(c, diff) => {
            let s = category(diff);
            let t = &tables[c];
            w.put(t.code[s as usize], t.len[s as usize]);
            if s > 0 && s < 16 {
                let bits = if diff < 0 { diff - 1 } else { diff };
                w.put(bits as u32 & ((1 << s) - 1), s);
            }
        }
        Event::LineDone(next_line) => {
            line = next_line;
            if p.restart_lines > 0 && line % p.restart_lines == 0 && line < lines {
                w.flush();
                w.out.extend_from_slice(&[0xFF, 0xD0 + restarts]);
                restarts = (restarts + 1) % 8;
            }
        }
    });
    w.flush();
    w.out.extend_from_slice(&[0xFF, 0xD9]);
    Ok(w.out)
}

/// The difference category SSSS of `diff` (−32768 is category 16).
fn category(diff: i32) -> u32 {
    if diff == -32768 {
        16
    } else {
        32 - diff.unsigned_abs().leading_zeros()
    }
}

fn for_each_diff(
    samples: &[u16],
    line_len: usize,
    lines: usize,
    p: &LjpegParams,
    mut f: impl FnMut(usize, i32),
) {
    for_each_event(samples, line_len, lines, p, |e| {
        if let Event::Diff(c, d) = e {
            f(c, d)
        }
    });
}

/// What the coder meets, in coding order.
enum Event {
    /// The difference of a sample of a component.
    Diff(usize, i32),
    /// Line `k − 1` is done (k = 1..lines).
    LineDone(usize),
}

/// Call `f` for every sample's difference and every line's end, in order.
fn for_each_event(
    samples: &[u16],
    line_len: usize,
    lines: usize,
    p: &LjpegParams,
    mut f: impl FnMut(Event),
) {
    let nc = p.components;
    let base = 1i32 << (p.precision - 1);
    for y in 0..lines {
        let first_line = y == 0 || (p.restart_lines > 0 && y % p.restart_lines == 0);
        let row = &samples[y * line_len..(y + 1) * line_len];
        let above = if y > 0 {
            &samples[(y - 1) * line_len..y * line_len]
        } else {
            row
        };
        for i in 0..line_len {
            let c = i % nc;
            let x = i / nc;
            let pred = if x == 0 {
                if first_line {
                    base
                } else {
                    i32::from(above[i])
                }
            } else if first_line {
                i32::from(row[i - nc])
            } else {
                let (a, b, cc) = (
                    i32::from(row[i - nc]),
                    i32::from(above[i]),
                    i32::from(above[i - nc]),
                );
                match p.predictor {
                    1 => a,
                    2 => b,
                    3 => cc,
                    4 => a + b - cc,
                    5 => a + ((b - cc) >> 1),
                    6 => b + ((a - cc) >> 1),
                    _ => (a + b) >> 1,
                }
            };
            // The difference modulo 2^16, as a value in −32768..32767.
            let diff = i32::from((i32::from(row[i]) - pred) as u16 as i16);
            f(Event::Diff(c, diff));
        }
        f(Event::LineDone(y + 1));
    }
}

/// A Huffman table for the 17 difference categories.
struct Table {
    counts: [u8; 16],
    values: Vec<u8>,
    code: [u32; 17],
    len: [u32; 17],
}

impl Table {
    /// The optimal length-limited table for `freq` (T.81 Annex K.2, with the
    /// reserved all-ones code point of libjpeg's `jpeg_gen_optimal_table`).
    fn optimal(freq: &[u64; 17]) -> Self {
        const N: usize = 18; // 17 categories + the reserved symbol
        let mut f = [0u64; N];
        f[..17].copy_from_slice(freq);
        f[17] = 1;
        if freq.iter().all(|&v| v == 0) {
            f[0] = 1;
        }
        let mut size = [0usize; N];
        let mut others = [usize::MAX; N];
        loop {
            // c1: least frequent (ties: the higher symbol); c2: the next.
            let mut c1 = usize::MAX;
            let mut v = u64::MAX;
            for i in 0..N {
                if f[i] != 0 && f[i] <= v {
                    v = f[i];
                    c1 = i;
                }
            }
            let mut c2 = usize::MAX;
            v = u64::MAX;
            for i in 0..N {
                if f[i] != 0 && f[i] <= v && i != c1 {
                    v = f[i];
                    c2 = i;
                }
            }
            if c2 == usize::MAX {
                break;
            }
            f[c1] += f[c2];
            f[c2] = 0;
            size[c1] += 1;
            let mut k = c1;
            while others[k] != usize::MAX {
                k = others[k];
                size[k] += 1;
            }
            others[k] = c2;
            size[c2] += 1;
            k = c2;
            while others[k] != usize::MAX {
                k = others[k];
                size[k] += 1;
            }
        }
        let mut bits = [0usize; 33];
        for &s in &size {
            if s > 0 {
                bits[s] += 1;
            }
        }
        for i in (17..=32).rev() {
            while bits[i] > 0 {
                let mut j = i - 2;
                while bits[j] == 0 {
                    j -= 1;
                }
                bits[i] -= 2;
                bits[i - 1] += 1;
                bits[j + 1] += 2;
                bits[j] -= 1;
            }
        }
        let mut i = 16;
        while bits[i] == 0 {
            i -= 1;
        }
        bits[i] -= 1; // drop the reserved symbol
        let mut counts = [0u8; 16];
        for (l, c) in counts.iter_mut().enumerate() {
            *c = bits[l + 1] as u8;
        }
        // Values ordered by code length (then symbol).
        let mut values = Vec::new();
        for l in 1..=32 {
            for (sym, &s) in size.iter().enumerate().take(17) {
                if s == l {
                    values.push(sym as u8);
                }
            }
        }
        values.truncate(counts.iter().map(|&c| usize::from(c)).sum());
        let mut code = [0u32; 17];
        let mut len = [0u32; 17];
        let mut next = 0u32;
        let mut k = 0;
        for (l, &n) in counts.iter().enumerate() {
            for _ in 0..n {
                let sym = usize::from(values[k]);
                code[sym] = next;
                len[sym] = l as u32 + 1;
                next += 1;
                k += 1;
            }
            next <<= 1;
        }
        Self {
            counts,
            values,
            code,
            len,
        }
    }
}

/// Writes bits MSB first, stuffing a zero byte after every 0xFF.
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    fn put(&mut self, bits: u32, len: u32) {
        if len == 0 {
            return;
        }
        self.acc = (self.acc << len) | u64::from(bits);
        self.n += len;
        while self.n >= 8 {
            self.n -= 8;
            let b = (self.acc >> self.n) as u8;
            self.out.push(b);
            if b == 0xFF {
                self.out.push(0);
            }
        }
    }

    /// Pad the last byte with ones.
    fn flush(&mut self) {
        if self.n > 0 {
            let pad = 8 - self.n;
            self.put((1 << pad) - 1, pad);
        }
        self.acc = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optimal_tables_are_prefix_codes_within_16_bits() {
        let mut freq = [0u64; 17];
        for (i, f) in freq.iter_mut().enumerate() {
            *f = 1 << (i * 2).min(60);
        }
        let t = Table::optimal(&freq);
        assert_eq!(t.values.len(), 17);
        let kraft: f64 = (0..17).map(|s| 0.5f64.powi(t.len[s] as i32)).sum();
        assert!(kraft < 1.0, "{kraft}");
        assert!(t.len.iter().all(|&l| (1..=16).contains(&l)));
        let one = Table::optimal(&{
            let mut f = [0u64; 17];
            f[3] = 10;
            f
        });
        assert_eq!(one.values, vec![3]);
        assert_eq!(one.len[3], 1);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let p = LjpegParams {
            precision: 12,
            components: 2,
            predictor: 1,
            restart_lines: 0,
        };
        assert!(encode(&[0; 6], 3, 2, &p).is_err());
        assert!(encode(&[4096; 4], 2, 2, &p).is_err());
        assert!(encode(&[4095; 4], 2, 2, &p).is_ok());
    }
}
