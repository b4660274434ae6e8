//! Studio features end to end on synthetic DNGs with known ground truth:
//! output colour spaces (checked back through Little CMS), one development
//! per recipe, XMP sidecars, watermarks and EXIF policy.

use lcms2::{Intent, PixelFormat, Profile, Transform};
use rawflow::internals::develop::developments_on_this_thread;
use rawflow::Sidecar;
use rawflow::{develop as develop_recipe, MetadataPolicy, OutputFormat, Recipe, Rendition};
use rawflow::{ColorSpace, Gps, RawImage, Timings};
use rawflow::{Position, Watermark};
use rawflow_corpus::scenes::{color_checker, color_checker_patches};
use rawflow_corpus::score::patch_delta_e;
use rawflow_corpus::{png_to_srgb8, SrgbImage, SrgbImage16, SynthParams};

const W: usize = 384;
const H: usize = 256;

fn checker_raw() -> RawImage {
    let truth = color_checker(W, H);
    let dng = rawflow_corpus::write_dng(&truth, &SynthParams::default()).expect("dng");
    rawflow::decode_bytes(&dng).expect("decode")
}

fn scene_raw(truth: &SrgbImage, params: &SynthParams) -> RawImage {
    let dng = rawflow_corpus::write_dng(truth, params).expect("dng");
    rawflow::decode_bytes(&dng).expect("decode")
}

/// The ICC profile tag (34675) and 16-bit RGB samples of a TIFF.
fn read_tiff16(bytes: &[u8]) -> (usize, usize, Vec<u16>, Vec<u8>) {
    let mut d = tiff::decoder::Decoder::new(std::io::Cursor::new(bytes)).expect("tiff");
    let icc = d
        .get_tag_u8_vec(tiff::tags::Tag::Unknown(34675))
        .expect("embedded ICC profile");
    let (w, h) = d.dimensions().expect("dims");
    let tiff::decoder::DecodingResult::U16(data) = d.read_image().expect("pixels") else {
        panic!("not 16-bit");
    };
    (w as usize, h as usize, data, icc)
}

/// Convert 16-bit pixels in `profile` to 16-bit sRGB with Little CMS.
fn to_srgb16(data: &[u16], profile: &[u8]) -> Vec<u16> {
    let src = Profile::new_icc(profile).expect("lcms2 reads the embedded profile");
    let dst = Profile::new_srgb();
    let t: Transform<[u16; 3], [u16; 3]> = Transform::new(
        &src,
        PixelFormat::RGB_16,
        &dst,
        PixelFormat::RGB_16,
        Intent::RelativeColorimetric,
    )
    .expect("transform");
    let px: Vec<[u16; 3]> = data.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect();
    let mut out = vec![[0u16; 3]; px.len()];
    t.transform_pixels(&px, &mut out);
    out.into_iter().flatten().collect()
}

fn spaces() -> Vec<(ColorSpace, &'static str)> {
    vec![
        (ColorSpace::Srgb, "srgb"),
        (ColorSpace::DisplayP3, "p3"),
        (ColorSpace::AdobeRgb, "adobe"),
        (ColorSpace::ProPhoto, "prophoto"),
    ]
}

#[test]
fn color_checker_develops_to_every_output_space_within_delta_e_1() {
    let raw = checker_raw();
    let mut renditions: Vec<Rendition> = spaces()
        .into_iter()
        .map(|(space, name)| {
            let mut r = Rendition::new(name, None, OutputFormat::Tiff, 100);
            r.color_space = space;
            r
        })
        .collect();
    // A user ICC file goes through Little CMS in the product path.
    let dir = tempfile::tempdir().expect("tmp");
    let icc_path = dir.path().join("adobe-copy.icc");
    let adobe =
        rawflow::internals::color::space::builtin_profile(&ColorSpace::AdobeRgb).expect("profile");
    std::fs::write(&icc_path, adobe).expect("write icc");
    let mut custom = Rendition::new("custom", None, OutputFormat::Tiff, 100);
    custom.color_space = ColorSpace::Icc(icc_path);
    renditions.push(custom);
    let recipe = Recipe {
        name: "spaces".into(),
        develop: Default::default(),
        renditions,
    };
    let out = develop_recipe(&raw, &recipe, &mut Timings::default()).expect("develop");
    let patches = color_checker_patches(W, H);
    let mut report = String::new();
    for r in &out {
        let (w, h, data, icc) = read_tiff16(&r.bytes);
        assert_eq!((w, h), (W, H));
        let srgb = SrgbImage16::new(w, h, to_srgb16(&data, &icc)).expect("image");
        let de = patch_delta_e(&srgb, &patches, 4);
        assert_eq!(de.len(), 24);
        let mean = de.iter().map(|(_, d)| d).sum::<f64>() / de.len() as f64;
        let max = de.iter().map(|(_, d)| *d).fold(0.0, f64::max);
        report += &format!("{}: mean ΔE2000 {mean:.3}, max {max:.3}\n", r.name);
        assert!(mean <= 1.0, "{}: mean ΔE {mean:.3}\n{report}", r.name);
    }
    println!("{report}");
}

#[test]
fn profiles_are_embedded_in_jpeg_png_and_tiff_and_readable_by_lcms2() {
    let raw = checker_raw();
    let mut renditions = Vec::new();
    for (fmt, tag) in [
        (OutputFormat::Jpeg, "j"),
        (OutputFormat::Png, "p"),
        (OutputFormat::Tiff, "t"),
    ] {
        let mut r = Rendition::new(tag, Some(128), fmt, 90);
        r.color_space = ColorSpace::DisplayP3;
        renditions.push(r);
    }
    let recipe = Recipe {
        name: "embed".into(),
        develop: Default::default(),
        renditions,
    };
    let out = develop_recipe(&raw, &recipe, &mut Timings::default()).expect("develop");
    for r in &out {
        let icc = match r.format {
            OutputFormat::Tiff => read_tiff16(&r.bytes).3,
            OutputFormat::Png => {
                let d = png::Decoder::new(std::io::Cursor::new(&r.bytes));
                let reader = d.read_info().expect("png");
                reader.info().icc_profile.as_ref().expect("iCCP").to_vec()
            }
            OutputFormat::Jpeg => jpeg_icc(&r.bytes),
        };
        let p = Profile::new_icc(&icc).expect("lcms2 parses it");
        let desc = p
            .info(lcms2::InfoType::Description, lcms2::Locale::none())
            .unwrap_or_default();
        assert!(desc.contains("Display P3"), "{}: {desc}", r.name);
    }
}

/// Reassemble the APP2 ICC_PROFILE chunks of a JPEG.
fn jpeg_icc(jpeg: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF && jpeg[i + 1] != 0xDA {
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        let seg = &jpeg[i + 4..i + 2 + len];
        if jpeg[i + 1] == 0xE2 && seg.starts_with(b"ICC_PROFILE\0") {
            out.extend_from_slice(&seg[14..]);
        }
        i += 2 + len;
    }
    out
}

#[test]
fn four_renditions_develop_once() {
    let raw = checker_raw();
    let recipe = Recipe {
        name: "four".into(),
        develop: Default::default(),
        renditions: vec![
            Rendition::new("a", Some(200), OutputFormat::Jpeg, 85),
            Rendition::new("b", None, OutputFormat::Jpeg, 92),
            Rendition::new("c", None, OutputFormat::Tiff, 100),
            Rendition::new("d", Some(100), OutputFormat::Png, 100),
        ],
    };
    let before = developments_on_this_thread();
    let out = develop_recipe(&raw, &recipe, &mut Timings::default()).expect("develop");
    assert_eq!(
        developments_on_this_thread() - before,
        1,
        "one decode-to-linear and demosaic"
    );
    assert_eq!(out.len(), 4);
    assert_eq!((out[0].width, out[0].height), (200, 133));
    assert_eq!(out[3].file_name("IMG", "four").unwrap(), "IMG/d.png");
    // The built-ins too.
    for name in rawflow::BUILTIN_RECIPES {
        let before = developments_on_this_thread();
        let r = Recipe::builtin(name).expect("builtin");
        develop_recipe(&raw, &r, &mut Timings::default()).expect(name);
        assert_eq!(developments_on_this_thread() - before, 1, "{name}");
    }
}

/// Develop with `recipe` to 8-bit sRGB PNG, full size.
fn develop_png(raw: &RawImage, recipe: &Recipe) -> SrgbImage {
    let mut recipe = recipe.clone();
    for r in &mut recipe.renditions {
        r.format = OutputFormat::Png;
    }
    let out = develop_recipe(raw, &recipe, &mut Timings::default()).expect("develop");
    png_to_srgb8(&out[0].bytes).expect("png")
}

fn mean_linear(img: &SrgbImage) -> [f64; 3] {
    let mut s = [0.0; 3];
    for p in img.data.chunks_exact(3) {
        for c in 0..3 {
            s[c] += rawflow_corpus::color::srgb_to_linear(f64::from(p[c]) / 255.0);
        }
    }
    s.map(|v| v / (img.data.len() / 3) as f64)
}

fn xmp(body: &str) -> String {
    format!(
        r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" {body}/>
</rdf:RDF></x:xmpmeta><?xpacket end="w"?>"#
    )
}

fn with_xmp(text: &str) -> (Recipe, Vec<String>) {
    let mut recipe = rawflow_tests::png_recipe();
    let warnings = Sidecar::parse(text)
        .expect("xmp")
        .apply(&mut recipe.develop);
    (recipe, warnings)
}

#[test]
fn xmp_sidecars_change_exposure_white_balance_crop_and_orientation() {
    let grey = SrgbImage::filled(96, 64, [90, 90, 90]);
    let params = SynthParams {
        headroom: 0.5,
        ..SynthParams::default()
    };
    let raw = scene_raw(&grey, &params);
    let base = develop_png(&raw, &rawflow_tests::png_recipe());
    let base_mean = mean_linear(&base);

    // Exposure +1 EV doubles linear light.
    let (r, w) = with_xmp(&xmp(r#"crs:Exposure2012="+1.00""#));
    assert!(w.is_empty(), "{w:?}");
    let up = mean_linear(&develop_png(&raw, &r));
    for c in 0..3 {
        let ratio = up[c] / base_mean[c];
        assert!((ratio - 2.0).abs() < 0.05, "channel {c}: ratio {ratio}");
    }

    // Temperature: a low setting renders a daylight grey blue, a high one warm.
    let (cool, _) = with_xmp(&xmp(
        r#"crs:WhiteBalance="Custom" crs:Temperature="3000" crs:Tint="0""#,
    ));
    let (warm, _) = with_xmp(&xmp(
        r#"crs:WhiteBalance="Custom" crs:Temperature="9000" crs:Tint="0""#,
    ));
    let c = mean_linear(&develop_png(&raw, &cool));
    let h = mean_linear(&develop_png(&raw, &warm));
    assert!(c[2] > c[0] * 1.3, "3000 K is blue: {c:?}");
    assert!(h[0] > h[2] * 1.1, "9000 K is warm: {h:?}");
    // Tint: positive is magenta (green lower than red and blue).
    let (mag, _) = with_xmp(&xmp(r#"crs:Temperature="6500" crs:Tint="+40""#));
    let m = mean_linear(&develop_png(&raw, &mag));
    assert!(m[1] < m[0] && m[1] < m[2], "magenta: {m:?}");

    // Crop (in stored coordinates) and orientation.
    let (r, w) = with_xmp(&xmp(
        r#"crs:HasCrop="True" crs:CropTop="0.25" crs:CropLeft="0.5" crs:CropBottom="0.75" crs:CropRight="1" crs:CropAngle="0" tiff:Orientation="6" crs:Sharpness="40""#,
    ));
    assert!(
        w.iter().any(|w| w.contains("crs:Sharpness=40")),
        "unapplied fields are listed: {w:?}"
    );
    let out = develop_png(&raw, &r);
    assert_eq!(
        (out.width, out.height),
        (32, 48),
        "48×32 crop, turned upright"
    );
}

#[test]
fn xmp_crop_selects_the_right_region() {
    // Left half red, right half blue; crop the right half.
    let mut truth = SrgbImage::filled(96, 64, [200, 40, 40]);
    truth.fill_rect(48, 0, 48, 64, [40, 40, 200]);
    let raw = scene_raw(&truth, &SynthParams::default());
    let (r, _) = with_xmp(&xmp(
        r#"crs:HasCrop="True" crs:CropTop="0" crs:CropLeft="0.5" crs:CropBottom="1" crs:CropRight="1""#,
    ));
    let out = develop_png(&raw, &r);
    assert_eq!((out.width, out.height), (48, 64));
    let m = mean_linear(&out);
    assert!(m[2] > 3.0 * m[0], "only blue left: {m:?}");
}

#[test]
fn watermark_lands_where_asked_with_the_right_opacity() {
    let grey = SrgbImage::filled(200, 100, [118, 118, 118]);
    let raw = scene_raw(&grey, &SynthParams::default());
    let dir = tempfile::tempdir().expect("tmp");
    let mark_path = dir.path().join("mark.png");
    SrgbImage::filled(10, 5, [255, 255, 255])
        .save_png(&mark_path)
        .expect("mark");
    let mut r = Rendition::new("wm", None, OutputFormat::Png, 100);
    r.watermark = Some(Watermark {
        image: Some(mark_path),
        position: Position::TopRight,
        opacity: 0.5,
        scale: 0.2,
        margin: 0.1,
        ..Watermark::default()
    });
    let recipe = Recipe {
        name: "wm".into(),
        develop: Default::default(),
        renditions: vec![r],
    };
    let img = develop_png(&raw, &recipe);
    // Mark: 40×20 px at x = 200 − 40 − 10 = 150, y = 10.
    let lin = |p: [u8; 3]| rawflow_corpus::color::srgb_to_linear(f64::from(p[1]) / 255.0);
    let bg = lin(img.get(50, 70).expect("px"));
    let inside = lin(img.get(170, 20).expect("px"));
    let want = 0.5 * bg + 0.5;
    assert!(
        (inside - want).abs() < 0.01,
        "inside {inside}, want {want} (bg {bg})"
    );
    for (x, y) in [(148, 20), (191, 20), (170, 8), (170, 31), (20, 20)] {
        let v = lin(img.get(x, y).expect("px"));
        assert!(
            (v - bg).abs() < 0.01,
            "({x},{y}) outside the mark: {v} vs {bg}"
        );
    }
    for (x, y) in [(151, 11), (188, 28)] {
        assert!(
            lin(img.get(x, y).expect("px")) > bg + 0.2,
            "({x},{y}) inside the mark"
        );
    }
}

#[test]
fn text_watermark_is_drawn() {
    let grey = SrgbImage::filled(200, 100, [60, 60, 60]);
    let raw = scene_raw(&grey, &SynthParams::default());
    let recipe = Recipe::builtin("proof").expect("proof");
    let img = develop_png(&raw, &recipe);
    let bright = img.data.chunks_exact(3).filter(|p| p[1] > 120).count();
    assert!(bright > 200, "PROOF text drawn: {bright} bright pixels");
}

fn exif_of(jpeg: &[u8]) -> Option<exif::Exif> {
    exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(jpeg))
        .ok()
}

#[test]
fn exif_is_kept_or_stripped_as_asked() {
    let mut raw = checker_raw();
    raw.metadata.gps = Some(Gps {
        latitude: 51.5,
        longitude: -0.12,
    });
    let mk = |name: &str, policy: MetadataPolicy, copyright: Option<&str>| {
        let mut r = Rendition::new(name, Some(64), OutputFormat::Jpeg, 80);
        r.metadata = policy;
        r.copyright = copyright.map(str::to_string);
        r.creator = copyright.map(|_| "Jane Doe".to_string());
        r
    };
    let recipe = Recipe {
        name: "meta".into(),
        develop: Default::default(),
        renditions: vec![
            mk("keep", MetadataPolicy::Keep, None),
            mk("nogps", MetadataPolicy::StripGps, Some("(c) 2026 Studio")),
            mk("none", MetadataPolicy::StripAll, None),
            mk("onlyc", MetadataPolicy::StripAll, Some("(c) 2026 Studio")),
        ],
    };
    let out = develop_recipe(&raw, &recipe, &mut Timings::default()).expect("develop");
    let field = |e: &exif::Exif, t: exif::Tag| {
        e.get_field(t, exif::In::PRIMARY)
            .map(|f| f.display_value().to_string())
    };

    let keep = exif_of(&out[0].bytes).expect("exif kept");
    assert!(field(&keep, exif::Tag::Make).is_some());
    assert!(field(&keep, exif::Tag::GPSLatitude).is_some(), "GPS kept");
    assert_eq!(
        field(&keep, exif::Tag::GPSLatitudeRef).as_deref(),
        Some("N")
    );

    let nogps = exif_of(&out[1].bytes).expect("exif");
    assert!(field(&nogps, exif::Tag::Make).is_some());
    assert!(
        field(&nogps, exif::Tag::GPSLatitude).is_none(),
        "GPS stripped"
    );
    assert!(field(&nogps, exif::Tag::Copyright).is_some_and(|c| c.contains("2026 Studio")));
    assert!(field(&nogps, exif::Tag::Artist).is_some_and(|c| c.contains("Jane Doe")));

    assert!(exif_of(&out[2].bytes).is_none(), "strip-all writes no EXIF");

    let onlyc = exif_of(&out[3].bytes).expect("copyright only");
    assert!(field(&onlyc, exif::Tag::Make).is_none());
    assert!(field(&onlyc, exif::Tag::Copyright).is_some());
}

#[test]
fn base_look_rolls_highlights_off_instead_of_clipping() {
    // A ramp pushed +2 EV: neutral clips a wide band, the base look keeps it graded.
    let ramp = SrgbImage::from_fn(256, 32, |x, _| {
        let v = x as u8;
        [v, v, v]
    });
    let raw = scene_raw(&ramp, &SynthParams::default());
    let mut neutral = rawflow_tests::png_recipe();
    neutral.develop.exposure_ev = 2.0;
    let mut look = neutral.clone();
    look.develop.tone = rawflow::Tone::BASE_LOOK;
    let count_clipped = |img: &SrgbImage| img.data.chunks_exact(3).filter(|p| p[1] >= 254).count();
    let n = count_clipped(&develop_png(&raw, &neutral));
    let l = count_clipped(&develop_png(&raw, &look));
    assert!(l * 4 < n, "clipped pixels: neutral {n}, base look {l}");
}

#[test]
fn auto_white_balance_neutralises_a_cast() {
    // A grey scene under a strong cast (as-shot says daylight, the light was warm).
    let truth = SrgbImage::filled(96, 64, [150, 110, 70]);
    let raw = scene_raw(&truth, &SynthParams::default());
    let mut r = rawflow_tests::png_recipe();
    r.develop.white_balance = rawflow::WhiteBalance::Auto;
    let m = mean_linear(&develop_png(&raw, &r));
    assert!(
        (m[0] / m[1] - 1.0).abs() < 0.02 && (m[2] / m[1] - 1.0).abs() < 0.02,
        "{m:?}"
    );
}
