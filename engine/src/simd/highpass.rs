//! The squared directional high-pass of RCD step 1 along columns:
//! `((a3 - a1 - b1 + b3) - 3 (a2 + b2) + 6 c)²` for rows 3 above (`a3`) to
//! 3 below (`b3`) the centre row `c`. A `wide` version and its scalar twin.

use wide::f32x8;

/// Rows −3, −2, −1, 0, +1, +2, +3 around the centre, all at least `out.len()` long.
pub(crate) type Rows<'a> = [&'a [f32]; 7];

/// Scalar twin.
#[inline(always)]
pub(crate) fn vertical_scalar(r: Rows<'_>, out: &mut [f32]) {
    let n = out.len();
    let [m3, m2, m1, c0, p1, p2, p3] = r.map(|s| &s[..n]);
    for x in 0..n {
        let v = (m3[x] - m1[x] - p1[x] + p3[x]) - 3.0 * (m2[x] + p2[x]) + 6.0 * c0[x];
        out[x] = v * v;
    }
}

/// Eight lanes at a time with `wide`, the tail with the scalar twin. The same
/// operations in the same order, so results are bit-identical.
#[inline(always)]
pub(crate) fn vertical_wide(r: Rows<'_>, out: &mut [f32]) {
    let n = out.len();
    let body = n - n % 8;
    let load = |s: &[f32], x: usize| -> f32x8 {
        let mut a = [0.0f32; 8];
        a.copy_from_slice(&s[x..x + 8]);
        f32x8::from(a)
    };
    let three = f32x8::splat(3.0);
    let six = f32x8::splat(6.0);
    for x in (0..body).step_by(8) {
        let [m3, m2, m1, c0, p1, p2, p3] = r.map(|s| load(s, x));
        let v = (m3 - m1 - p1 + p3) - three * (m2 + p2) + six * c0;
        out[x..x + 8].copy_from_slice(&(v * v).to_array());
    }
    let tail: Rows<'_> = r.map(|s| &s[body..]);
    vertical_scalar(tail, &mut out[body..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_and_scalar_agree() {
        let rows: Vec<Vec<f32>> = (0..7)
            .map(|k| {
                (0..203)
                    .map(|i| ((i * 37 + k * 101) % 97) as f32 / 97.0)
                    .collect()
            })
            .collect();
        let r: Rows<'_> = [
            &rows[0], &rows[1], &rows[2], &rows[3], &rows[4], &rows[5], &rows[6],
        ];
        let mut a = vec![0.0; 203];
        let mut b = vec![1.0; 203];
        vertical_scalar(r, &mut a);
        vertical_wide(r, &mut b);
        assert_eq!(a, b);
    }
}
