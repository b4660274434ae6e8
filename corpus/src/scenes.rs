//! Procedural ground-truth scenes drawn by code: colour charts with known
//! values, a zone plate and sharp saturated edges.

use crate::image::SrgbImage;

/// A uniform patch of a chart: its name, 8-bit sRGB value and rectangle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patch {
    /// Human-readable name.
    pub name: &'static str,
    /// 8-bit sRGB value.
    pub rgb: [u8; 3],
    /// Left edge.
    pub x: usize,
    /// Top edge.
    pub y: usize,
    /// Width.
    pub w: usize,
    /// Height.
    pub h: usize,
}

impl Patch {
    /// The patch shrunk by `margin` pixels on every side (to measure away
    /// from demosaicing edge effects); `None` when nothing is left.
    pub fn inset(&self, margin: usize) -> Option<Patch> {
        if self.w <= 2 * margin || self.h <= 2 * margin {
            return None;
        }
        Some(Patch {
            x: self.x + margin,
            y: self.y + margin,
            w: self.w - 2 * margin,
            h: self.h - 2 * margin,
            ..*self
        })
    }
}

/// The 24 patches of the classic ColorChecker, with their commonly published
/// sRGB (D65) values, in chart order (row by row, dark skin first).
pub const COLOR_CHECKER: [(&str, [u8; 3]); 24] = [
    ("dark skin", [115, 82, 68]),
    ("light skin", [194, 150, 130]),
    ("blue sky", [98, 122, 157]),
    ("foliage", [87, 108, 67]),
    ("blue flower", [133, 128, 177]),
    ("bluish green", [103, 189, 170]),
    ("orange", [214, 126, 44]),
    ("purplish blue", [80, 91, 166]),
    ("moderate red", [193, 90, 99]),
    ("purple", [94, 60, 108]),
    ("yellow green", [157, 188, 64]),
    ("orange yellow", [224, 163, 46]),
    ("blue", [56, 61, 150]),
    ("green", [70, 148, 73]),
    ("red", [175, 54, 60]),
    ("yellow", [231, 199, 31]),
    ("magenta", [187, 86, 149]),
    ("cyan", [8, 133, 161]),
    ("white 9.5", [243, 243, 242]),
    ("neutral 8", [200, 200, 200]),
    ("neutral 6.5", [160, 160, 160]),
    ("neutral 5", [122, 122, 121]),
    ("neutral 3.5", [85, 85, 85]),
    ("black 2", [52, 52, 52]),
];

/// Strongly saturated primaries and secondaries. They stop short of the sRGB
/// gamut corners so that every bundled camera matrix maps them to
/// non-negative raw values (nothing is clipped, the truth stays reachable).
pub const SATURATED: [(&str, [u8; 3]); 6] = [
    ("red", [220, 40, 40]),
    ("green", [40, 200, 50]),
    ("blue", [45, 55, 215]),
    ("cyan", [40, 205, 215]),
    ("magenta", [210, 50, 205]),
    ("yellow", [230, 215, 40]),
];

/// The chart's background (the frame between patches).
pub const CHART_BACKGROUND: [u8; 3] = [30, 30, 30];

fn grid_patches(
    names: &[(&'static str, [u8; 3])],
    cols: usize,
    x0: usize,
    y0: usize,
    w: usize,
    h: usize,
) -> Vec<Patch> {
    let rows = names.len().div_ceil(cols.max(1));
    let cell_w = w / cols.max(1);
    let cell_h = h / rows.max(1);
    let gap_x = cell_w / 10;
    let gap_y = cell_h / 10;
    names
        .iter()
        .enumerate()
        .map(|(i, &(name, rgb))| Patch {
            name,
            rgb,
            x: x0 + (i % cols) * cell_w + gap_x,
            y: y0 + (i / cols) * cell_h + gap_y,
            w: cell_w.saturating_sub(2 * gap_x),
            h: cell_h.saturating_sub(2 * gap_y),
        })
        .collect()
}

fn draw_patches(img: &mut SrgbImage, patches: &[Patch]) {
    for p in patches {
        img.fill_rect(p.x, p.y, p.w, p.h, p.rgb);
    }
}

/// The 24 ColorChecker patches laid out 6 × 4 over a `w` × `h` image.
pub fn color_checker_patches(w: usize, h: usize) -> Vec<Patch> {
    grid_patches(&COLOR_CHECKER, 6, 0, 0, w, h)
}

/// A ColorChecker-like chart: the 24 patches on a dark frame.
pub fn color_checker(w: usize, h: usize) -> SrgbImage {
    let mut img = SrgbImage::filled(w, h, CHART_BACKGROUND);
    draw_patches(&mut img, &color_checker_patches(w, h));
    img
}

/// Uniform patches of [`color_chart`]: the 24 ColorChecker patches (top two
/// thirds), the six saturated colours, and a 16-step grey scale.
pub fn color_chart_patches(w: usize, h: usize) -> Vec<Patch> {
    let checker_h = h * 2 / 3;
    let sat_h = h / 6;
    let mut patches = grid_patches(&COLOR_CHECKER, 6, 0, 0, w, checker_h);
    patches.extend(grid_patches(&SATURATED, 6, 0, checker_h, w, sat_h));
    const STEP_NAMES: [&str; 16] = [
        "grey 0", "grey 1", "grey 2", "grey 3", "grey 4", "grey 5", "grey 6", "grey 7", "grey 8",
        "grey 9", "grey 10", "grey 11", "grey 12", "grey 13", "grey 14", "grey 15",
    ];
    let steps: Vec<(&'static str, [u8; 3])> = STEP_NAMES
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let v = (i * 255 / 15) as u8;
            (n, [v, v, v])
        })
        .collect();
    let ramp_y = checker_h + sat_h;
    let steps_h = (h - ramp_y) / 2;
    let step_w = w / 16;
    patches.extend(steps.iter().enumerate().map(|(i, &(name, rgb))| Patch {
        name,
        rgb,
        x: i * step_w,
        y: ramp_y,
        w: step_w,
        h: steps_h,
    }));
    patches
}

/// A colour chart with known values: ColorChecker patches, saturated
/// primaries/secondaries, a stepped grey scale and, at the bottom, a smooth
/// grey ramp from 0 to 255 across the width.
pub fn color_chart(w: usize, h: usize) -> SrgbImage {
    let mut img = SrgbImage::filled(w, h, CHART_BACKGROUND);
    draw_patches(&mut img, &color_chart_patches(w, h));
    let ramp_y = h * 2 / 3 + h / 6;
    let smooth_y = ramp_y + (h - ramp_y) / 2;
    for y in smooth_y..h {
        for x in 0..w {
            let v = ((x * 255 + (w.saturating_sub(1)) / 2) / w.saturating_sub(1).max(1)) as u8;
            img.set(x, y, [v, v, v]);
        }
    }
    img
}

/// A circular zone plate: grey rings whose spatial frequency rises linearly
/// from 0 at the centre to the Nyquist limit (0.5 cycles/pixel) at a radius
/// of half the smaller side (beyond that, in the corners, it aliases on
/// purpose). Values span sRGB 17..=239.
pub fn zone_plate(w: usize, h: usize) -> SrgbImage {
    let cx = (w as f64 - 1.0) / 2.0;
    let cy = (h as f64 - 1.0) / 2.0;
    let r_nyq = (w.min(h) as f64 / 2.0).max(1.0);
    SrgbImage::from_fn(w, h, |x, y| {
        let dx = x as f64 - cx;
        let dy = y as f64 - cy;
        let phase = std::f64::consts::PI * (dx * dx + dy * dy) / (2.0 * r_nyq);
        let v = (128.0 + 111.0 * phase.cos()).round() as u8;
        [v, v, v]
    })
}

/// Sharp-edged saturated colours, the hard case for demosaicing: complementary
/// vertical bands (top third), a red/green checkerboard and a 5° slanted
/// blue/yellow edge (middle third), and thin coloured lines of width 1–4 px on
/// light and dark grounds (bottom third).
pub fn saturated(w: usize, h: usize) -> SrgbImage {
    let [red, green, blue, cyan, magenta, yellow] = SATURATED.map(|(_, c)| c);
    let bands = [red, cyan, green, magenta, blue, yellow];
    let third = (h / 3).max(1);
    let cell = (w / 64).max(2);
    let tan5 = 5f64.to_radians().tan();
    SrgbImage::from_fn(w, h, |x, y| {
        if y < third {
            bands[(x * 6 / w.max(1)).min(5)]
        } else if y < 2 * third {
            let yy = y - third;
            if x < w / 2 {
                if ((x / cell) + (yy / cell)) & 1 == 0 {
                    red
                } else {
                    green
                }
            } else {
                let edge =
                    (w / 2) as f64 + (w / 4) as f64 + (yy as f64 - third as f64 / 2.0) * tan5;
                if (x as f64) < edge {
                    blue
                } else {
                    yellow
                }
            }
        } else {
            // Lines: widths 1, 2, 3, 4 repeating, each followed by an equal gap.
            let (ground, colours) = if x < w / 2 {
                ([235, 235, 235], [red, blue, green, magenta])
            } else {
                ([20, 20, 20], [yellow, cyan, magenta, green])
            };
            let period: usize = 2 * (1 + 2 + 3 + 4);
            let mut pos = x % period;
            for (i, width) in [1usize, 2, 3, 4].into_iter().enumerate() {
                if pos < width {
                    return colours[i];
                }
                if pos < 2 * width {
                    return ground;
                }
                pos -= 2 * width;
            }
            ground
        }
    })
}

/// A smooth hue × brightness sweep (hue across; HSV value 0.95 at the top
/// down to 0.30, saturation 0.65) whose colours stay inside every bundled
/// camera's range (full brightness would push some cameras' green channel
/// past white on cyan, whose red is low).
pub fn hue_sweep(w: usize, h: usize) -> SrgbImage {
    SrgbImage::from_fn(w, h, |x, y| {
        let hue = x as f64 / w.max(1) as f64 * 6.0;
        let v = 0.95 - 0.65 * y as f64 / h.max(1) as f64;
        let s = 0.65;
        let f = hue - hue.floor();
        let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
        let (r, g, b) = match hue.floor() as usize % 6 {
            0 => (v, t, p),
            1 => (q, v, p),
            2 => (p, v, t),
            3 => (p, q, v),
            4 => (t, p, v),
            _ => (v, p, q),
        };
        let q8 = |c: f64| (c * 255.0).round().clamp(0.0, 255.0) as u8;
        [q8(r), q8(g), q8(b)]
    })
}

/// Size of [`sample_scene`].
pub const SAMPLE_SIZE: (usize, usize) = (1536, 1024);

/// The demo scene (1536 × 1024): colour chart (top left, 1024 × 640), hue
/// sweep (bottom left, 1024 × 384), zone plate (top right, 512 × 512) and
/// saturated edges (bottom right, 512 × 512).
pub fn sample_scene() -> SrgbImage {
    let (w, h) = SAMPLE_SIZE;
    let mut img = SrgbImage::filled(w, h, CHART_BACKGROUND);
    img.blit(&color_chart(1024, 640), 0, 0);
    img.blit(&hue_sweep(1024, 384), 0, 640);
    img.blit(&zone_plate(512, 512), 1024, 0);
    img.blit(&saturated(512, 512), 1024, 512);
    img
}

/// A named procedural scene at a given size.
pub fn scene_by_name(name: &str, w: usize, h: usize) -> Option<SrgbImage> {
    match name {
        "checker" => Some(color_checker(w, h)),
        "chart" => Some(color_chart(w, h)),
        "zoneplate" => Some(zone_plate(w, h)),
        "saturated" => Some(saturated(w, h)),
        "huesweep" => Some(hue_sweep(w, h)),
        _ => None,
    }
}

/// Names accepted by [`scene_by_name`].
pub const SCENE_NAMES: [&str; 5] = ["checker", "chart", "zoneplate", "saturated", "huesweep"];
