//! Recipes and XMP sidecars end to end through the real `rawflow` binary:
//! synthetic DNGs from the corpus crate, a recipe TOML with several
//! renditions, Lightroom-style sidecars in both naming styles, then the files,
//! their sizes, colours, embedded ICC profiles and the warnings are checked.
//!
//! Crop semantics: Lightroom's `crs:CropTop/Left/Bottom/Right` are fractions
//! of the image *as stored*, before `tiff:Orientation` turns it upright (this
//! is how darktable's Lightroom import and the Lightroom-to-RawTherapee
//! converters read them: they carry the rectangle through the orientation).
//! `sidecar_crop_is_in_stored_coordinates` pins that down.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rawflow::Recipe;
use rawflow_corpus::color::srgb_to_linear;
use rawflow_corpus::{write_dng, SrgbImage, SynthParams};

/// Width and height of the stored (sensor) image.
const W: usize = 240;
const H: usize = 160;

const RED: [u8; 3] = [190, 50, 50];
const GREEN: [u8; 3] = [50, 170, 50];
const BLUE: [u8; 3] = [50, 50, 190];
const GREY: [u8; 3] = [120, 120, 120];

/// Quadrants, as stored: red top left, green top right, blue bottom left, grey bottom right.
fn scene() -> SrgbImage {
    let mut img = SrgbImage::filled(W, H, GREY);
    img.fill_rect(0, 0, W / 2, H / 2, RED);
    img.fill_rect(W / 2, 0, W / 2, H / 2, GREEN);
    img.fill_rect(0, H / 2, W / 2, H / 2, BLUE);
    img
}

/// A DNG of the scene, one stop under (so +1 EV does not clip), Orientation 1.
fn dng() -> Vec<u8> {
    let params = SynthParams {
        headroom: 0.5,
        ..SynthParams::default()
    };
    write_dng(&scene(), &params).expect("synthetic DNG")
}

const RECIPE: &str = r#"
name = "studio"

[develop]
white_balance = "as-shot"

[[rendition]]
name = "web"
format = "jpeg"
long_edge = 120
quality = 90

[[rendition]]
name = "master"
format = "tiff"
color_space = "adobe-rgb"
file_name = "masters/{stem}-{recipe}.{ext}"

[[rendition]]
name = "preview"
format = "png"
"#;

/// Attribute form, as Lightroom Classic writes it.
fn xmp_attributes(attrs: &str) -> String {
    format!(
        r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:tiff="http://ns.adobe.com/tiff/1.0/"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
    crs:Version="15.0" crs:ProcessVersion="11.0"
    {attrs}/>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"#
    )
}

/// Element form, as Lightroom CC and newer Camera Raw write it.
fn xmp_elements(elements: &str) -> String {
    format!(
        r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:tiff="http://ns.adobe.com/tiff/1.0/"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/">
{elements}
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>"#
    )
}

fn rawflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rawflow"))
        .args(args)
        .output()
        .expect("run rawflow")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// Mean linear R, G, B over a rectangle of an 8-bit RGB buffer.
fn mean_linear(rgb: &[u8], width: usize, rect: (usize, usize, usize, usize)) -> [f64; 3] {
    let (x0, y0, w, h) = rect;
    let mut s = [0.0; 3];
    for y in y0..y0 + h {
        for x in x0..x0 + w {
            for (c, v) in s.iter_mut().enumerate() {
                *v += srgb_to_linear(f64::from(rgb[(y * width + x) * 3 + c]) / 255.0);
            }
        }
    }
    s.map(|v| v / (w * h) as f64)
}

/// (width, height, RGB8, ICC profile) of a PNG.
fn read_png(path: &Path) -> (usize, usize, Vec<u8>, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("png");
    let icc = reader
        .info()
        .icc_profile
        .as_ref()
        .map(|p| p.to_vec())
        .unwrap_or_default();
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("png frame");
    assert_eq!(info.color_type, png::ColorType::Rgb, "{}", path.display());
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    buf.truncate(info.buffer_size());
    (info.width as usize, info.height as usize, buf, icc)
}

/// (width, height, ICC profile) of a JPEG; the profile reassembled from its APP2 chunks.
fn read_jpeg(path: &Path) -> (usize, usize, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = turbojpeg::read_header(&bytes).expect("jpeg header");
    let mut icc = Vec::new();
    let mut i = 2;
    while i + 4 <= bytes.len() && bytes[i] == 0xFF && bytes[i + 1] != 0xDA {
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        let seg = &bytes[i + 4..i + 2 + len];
        if bytes[i + 1] == 0xE2 && seg.starts_with(b"ICC_PROFILE\0") {
            icc.extend_from_slice(&seg[14..]);
        }
        i += 2 + len;
    }
    (header.width, header.height, icc)
}

/// (width, height, bits per sample, ICC profile from tag 34675) of a TIFF.
fn read_tiff(path: &Path) -> (usize, usize, u16, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut d = tiff::decoder::Decoder::new(std::io::Cursor::new(bytes)).expect("tiff");
    let (w, h) = d.dimensions().expect("dims");
    let bits = match d.colortype().expect("colour type") {
        tiff::ColorType::RGB(b) => u16::from(b),
        other => panic!("{}: not RGB: {other:?}", path.display()),
    };
    let icc = d
        .get_tag_u8_vec(tiff::tags::Tag::Unknown(34675))
        .unwrap_or_default();
    (w as usize, h as usize, bits, icc)
}

/// True when `icc` looks like an ICC profile ("acsp" signature, declared size).
fn is_icc(icc: &[u8]) -> bool {
    icc.len() > 132
        && icc.get(36..40) == Some(b"acsp".as_slice())
        && icc
            .get(0..4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
            == Some(icc.len())
}

/// True when `needle` appears in `hay` as ASCII or as UTF-16BE (ICC text tags).
fn mentions(hay: &[u8], needle: &str) -> bool {
    let ascii = needle.as_bytes();
    let utf16: Vec<u8> = needle
        .encode_utf16()
        .flat_map(|u| u.to_be_bytes())
        .collect();
    hay.windows(ascii.len()).any(|w| w == ascii) || hay.windows(utf16.len()).any(|w| w == utf16)
}

struct Shoot {
    _dir: tempfile::TempDir,
    input: PathBuf,
    recipe: PathBuf,
    out: PathBuf,
}

/// Four copies of the DNG: IMG_A with `IMG_A.xmp` (exposure and an
/// unsupported field), IMG_W with `IMG_W.dng.xmp` (custom white balance),
/// IMG_B with `IMG_B.dng.xmp` (crop and orientation), IMG_C without sidecar.
fn shoot() -> Shoot {
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).expect("mkdir");
    let bytes = dng();
    for stem in ["IMG_A", "IMG_W", "IMG_B", "IMG_C"] {
        std::fs::write(input.join(format!("{stem}.dng")), &bytes).expect("write dng");
    }
    std::fs::write(
        input.join("IMG_A.xmp"),
        xmp_attributes(r#"crs:Exposure2012="+1.00" crs:Clarity2012="+20""#),
    )
    .expect("xmp");
    std::fs::write(
        input.join("IMG_W.dng.xmp"),
        xmp_elements(
            "   <crs:WhiteBalance>Custom</crs:WhiteBalance>\n   <crs:Temperature>3000</crs:Temperature>\n   <crs:Tint>0</crs:Tint>",
        ),
    )
    .expect("xmp");
    // Stored-image fractions: the left three quarters of the top half
    // (180 × 80 px), then turned 90° clockwise (Orientation 6) → 80 × 180.
    std::fs::write(
        input.join("IMG_B.dng.xmp"),
        xmp_elements(
            "   <crs:HasCrop>True</crs:HasCrop>\n   <crs:CropTop>0</crs:CropTop>\n   <crs:CropLeft>0</crs:CropLeft>\n   <crs:CropBottom>0.5</crs:CropBottom>\n   <crs:CropRight>0.75</crs:CropRight>\n   <crs:CropAngle>0</crs:CropAngle>\n   <tiff:Orientation>6</tiff:Orientation>",
        ),
    )
    .expect("xmp");
    let recipe = dir.path().join("studio.toml");
    std::fs::write(&recipe, RECIPE).expect("recipe");
    let out = dir.path().join("out");
    Shoot {
        input,
        recipe,
        out,
        _dir: dir,
    }
}

#[test]
fn recipe_and_sidecars_through_the_binary() {
    let s = shoot();
    let run = rawflow(&[
        "develop",
        "--recipe",
        path_str(&s.recipe),
        "--out",
        path_str(&s.out),
        "--threads",
        "2",
        path_str(&s.input),
    ]);
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "stderr:\n{stderr}");
    assert!(
        stderr.contains("4 files, 4 developed, 0 failed"),
        "summary:\n{stderr}"
    );

    // The unsupported field is named, with its sidecar; supported ones are not.
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("IMG_A.xmp") && w.contains("crs:Clarity2012=+20")),
        "no warning about crs:Clarity2012:\n{stderr}"
    );
    for field in [
        "Exposure2012",
        "Temperature",
        "Tint",
        "WhiteBalance",
        "HasCrop",
        "CropTop",
        "Orientation",
    ] {
        assert!(
            !warnings.iter().any(|w| w.contains(field)),
            "{field} is applied, not warned about:\n{stderr}"
        );
    }

    // Every rendition at its path: default template for web and preview, the
    // custom one for the master.
    let out = &s.out;
    for stem in ["IMG_A", "IMG_W", "IMG_B", "IMG_C"] {
        for p in [
            out.join(stem).join("web.jpg"),
            out.join(stem).join("preview.png"),
            out.join("masters").join(format!("{stem}-studio.tif")),
        ] {
            assert!(p.is_file(), "missing {}", p.display());
        }
    }
    let mut listing: Vec<String> = walk(out)
        .iter()
        .map(|p| p.strip_prefix(out).expect("inside").display().to_string())
        .collect();
    listing.sort();
    assert_eq!(
        listing.len(),
        12,
        "only the 12 outputs, no partial files: {listing:?}"
    );

    // Sizes: uncropped images keep 240 × 160 (JPEG fitted to 120 px); IMG_B is
    // cropped to 180 × 80 of the stored image and turned upright to 80 × 180.
    for stem in ["IMG_A", "IMG_W", "IMG_C"] {
        let (w, h, _, _) = read_png(&out.join(stem).join("preview.png"));
        assert_eq!((w, h), (W, H), "{stem} png");
        let (w, h, _) = read_jpeg(&out.join(stem).join("web.jpg"));
        assert_eq!((w, h), (120, 80), "{stem} jpeg");
        let (w, h, bits, _) = read_tiff(&out.join("masters").join(format!("{stem}-studio.tif")));
        assert_eq!((w, h, bits), (W, H, 16), "{stem} tiff");
    }
    let (bw, bh, b_rgb, _) = read_png(&out.join("IMG_B").join("preview.png"));
    assert_eq!((bw, bh), (80, 180), "crop then orientation");
    let (w, h, _) = read_jpeg(&out.join("IMG_B").join("web.jpg"));
    assert_eq!(h, 120, "long edge 120");
    assert!((52..=54).contains(&w), "aspect kept: {w}x{h}");
    let (w, h, _, _) = read_tiff(&out.join("masters").join("IMG_B-studio.tif"));
    assert_eq!((w, h), (80, 180));
    // Turned clockwise: the stored left (red) is now the top, the stored
    // x ≥ 120 (green) the bottom 60 rows.
    let top = mean_linear(&b_rgb, bw, (4, 4, 72, 100));
    let bottom = mean_linear(&b_rgb, bw, (4, 126, 72, 50));
    assert!(top[0] > 3.0 * top[1], "top is red: {top:?}");
    assert!(bottom[1] > 3.0 * bottom[0], "bottom is green: {bottom:?}");

    // Exposure +1 EV doubles linear light (the file is one stop under, nothing clips).
    let (_, _, a_rgb, a_icc) = read_png(&out.join("IMG_A").join("preview.png"));
    let (_, _, c_rgb, c_icc) = read_png(&out.join("IMG_C").join("preview.png"));
    let whole = (8, 8, W - 16, H - 16);
    let (a, c) = (mean_linear(&a_rgb, W, whole), mean_linear(&c_rgb, W, whole));
    println!(
        "+1 EV sidecar: linear ratio R {:.3} G {:.3} B {:.3}",
        a[0] / c[0],
        a[1] / c[1],
        a[2] / c[2]
    );
    for k in 0..3 {
        let ratio = a[k] / c[k];
        assert!(
            (ratio - 2.0).abs() < 0.08,
            "channel {k}: +1 EV ratio {ratio}"
        );
    }

    // Custom 3000 K on a daylight (as-shot D65) scene: the grey quadrant turns blue.
    let (_, _, w_rgb, _) = read_png(&out.join("IMG_W").join("preview.png"));
    let grey = (W / 2 + 8, H / 2 + 8, W / 2 - 16, H / 2 - 16);
    let (g_w, g_c) = (mean_linear(&w_rgb, W, grey), mean_linear(&c_rgb, W, grey));
    println!(
        "grey B/R: as shot {:.3}, custom 3000 K {:.3}",
        g_c[2] / g_c[0],
        g_w[2] / g_w[0]
    );
    assert!(
        (g_c[2] / g_c[0] - 1.0).abs() < 0.03,
        "as shot, grey is neutral: {g_c:?}"
    );
    assert!(
        g_w[2] / g_w[0] > 1.5 * (g_c[2] / g_c[0]),
        "3000 K renders daylight grey blue: {g_w:?} vs {g_c:?}"
    );

    // Embedded profiles: PNG iCCP and JPEG APP2 carry sRGB, TIFF tag 34675 Adobe RGB.
    assert!(is_icc(&a_icc) && is_icc(&c_icc), "PNG iCCP");
    assert!(mentions(&c_icc, "sRGB"), "PNG profile is sRGB");
    let (_, _, j_icc) = read_jpeg(&out.join("IMG_C").join("web.jpg"));
    assert!(is_icc(&j_icc), "JPEG APP2 ICC_PROFILE");
    assert!(mentions(&j_icc, "sRGB"), "JPEG profile is sRGB");
    let (_, _, _, t_icc) = read_tiff(&out.join("masters").join("IMG_C-studio.tif"));
    assert!(is_icc(&t_icc), "TIFF tag 34675");
    assert!(mentions(&t_icc, "Adobe RGB"), "TIFF profile is Adobe RGB");

    // Without sidecars every copy develops like IMG_C.
    let plain = s.out.with_file_name("plain");
    let run = rawflow(&[
        "develop",
        "--recipe",
        path_str(&s.recipe),
        "-o",
        path_str(&plain),
        "--no-sidecar",
        path_str(&s.input.join("IMG_A.dng")),
        path_str(&s.input.join("IMG_B.dng")),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert!(
        !text(&run.stderr).contains("warning:"),
        "{}",
        text(&run.stderr)
    );
    let (_, _, plain_a, _) = read_png(&plain.join("IMG_A").join("preview.png"));
    assert_eq!(plain_a, c_rgb, "no sidecar: same pixels as IMG_C");
    let (w, h, _, _) = read_png(&plain.join("IMG_B").join("preview.png"));
    assert_eq!((w, h), (W, H));
}

#[test]
fn sidecar_crop_is_in_stored_coordinates() {
    // The same crop fractions with Orientation 8 (turn counter-clockwise):
    // the stored rectangle is kept, so the size is the same as with 6 and
    // the stored right part (green) is now on top.
    let dir = tempfile::tempdir().expect("tmp");
    let raw = dir.path().join("IMG_R.dng");
    std::fs::write(&raw, dng()).expect("dng");
    std::fs::write(
        dir.path().join("IMG_R.xmp"),
        xmp_attributes(
            r#"crs:HasCrop="True" crs:CropTop="0" crs:CropLeft="0" crs:CropBottom="0.5" crs:CropRight="0.75" crs:CropAngle="0" tiff:Orientation="8""#,
        ),
    )
    .expect("xmp");
    let out = dir.path().join("out");
    let run = rawflow(&[
        "develop",
        "--format",
        "png",
        "-o",
        path_str(&out),
        path_str(&raw),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let (w, h, rgb, _) = read_png(&out.join("IMG_R.png"));
    // Were the fractions taken of the upright (160 × 240) image, this would be 120 × 120.
    assert_eq!((w, h), (80, 180));
    let top = mean_linear(&rgb, w, (4, 4, 72, 50));
    let bottom = mean_linear(&rgb, w, (4, 76, 72, 100));
    assert!(top[1] > 3.0 * top[0], "top is green: {top:?}");
    assert!(bottom[0] > 3.0 * bottom[1], "bottom is red: {bottom:?}");
}

#[test]
fn recipes_are_listed_and_print_as_toml_that_parses_back() {
    let run = rawflow(&["recipes"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let listing = text(&run.stdout);
    for name in rawflow::BUILTIN_RECIPES {
        assert!(
            listing
                .lines()
                .any(|l| l.split_whitespace().next() == Some(name)),
            "{name} not listed:\n{listing}"
        );
    }
    for args in [vec!["recipes", "web"], vec!["recipes", "show", "web"]] {
        let run = rawflow(&args);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&run.stderr)
        );
        let toml = text(&run.stdout);
        let back = Recipe::from_toml(&toml).unwrap_or_else(|e| panic!("{args:?}: {e}\n{toml}"));
        assert_eq!(Some(back), Recipe::builtin("web"), "{args:?}");
        // Values read as a person wrote them, without f32 → f64 noise.
        assert!(
            toml.lines().any(|l| l == "contrast = 1.1"),
            "{args:?}:\n{toml}"
        );
        assert!(!toml.contains("0000"), "{args:?}:\n{toml}");
    }
    // A recipe file prints too; an unknown name is a usage error.
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("studio.toml");
    std::fs::write(&file, RECIPE).expect("recipe");
    let run = rawflow(&["recipes", path_str(&file)]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let back = Recipe::from_toml(&text(&run.stdout)).expect("parses back");
    assert_eq!(back.renditions.len(), 3);
    assert_eq!(
        rawflow(&["recipes", "no-such-recipe"]).status.code(),
        Some(2)
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
