//! Recipes: several renditions (size, format, quality, colour space,
//! sharpening, watermark, metadata policy, file name) from one decode and one
//! demosaic. Recipes are TOML files:
//!
//! ```
//! let recipe = rawflow::Recipe::from_toml(r#"
//! name = "client"
//! [develop]
//! white_balance = { kelvin = 5200, tint = 5 }
//! exposure_ev = 0.3
//! tone = { base_look = true }
//! [[rendition]]
//! name = "web"
//! long_edge = 2048
//! format = "jpeg"
//! quality = 85
//! sharpen = { amount = 0.6, radius = 0.8 }
//! [[rendition]]
//! name = "print"
//! format = "tiff"
//! color_space = "adobe-rgb"
//! metadata = "strip-gps"
//! copyright = "(c) 2026 Studio"
//! file_name = "{stem}-print.{ext}"
//! "#)?;
//! assert_eq!(recipe.renditions.len(), 2);
//! # Ok::<(), rawflow::Error>(())
//! ```

pub mod options;
pub mod xmp;

use serde::{Deserialize, Serialize};

pub use options::{DevelopOptions, Timings};

use crate::color::space::{ColorSpace, Intent};
use crate::error::{Error, Result};
use crate::metadata::Metadata;
use crate::stages::resize;
use crate::stages::sharpen::Sharpen;
use crate::stages::tone::Tone;
use crate::stages::watermark::{Position, Watermark};

/// An output file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// 8-bit JPEG.
    #[serde(alias = "jpg")]
    Jpeg,
    /// 16-bit uncompressed TIFF.
    #[serde(alias = "tif")]
    Tiff,
    /// 8-bit PNG.
    Png,
}

impl OutputFormat {
    /// The usual file extension, without a dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Tiff => "tif",
            Self::Png => "png",
        }
    }

    /// The MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Tiff => "image/tiff",
            Self::Png => "image/png",
        }
    }
}

impl std::str::FromStr for OutputFormat {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "jpeg" | "jpg" => Ok(Self::Jpeg),
            "tiff" | "tif" => Ok(Self::Tiff),
            "png" => Ok(Self::Png),
            other => Err(Error::InvalidParameter(format!(
                "unknown output format {other:?} (use jpeg, tiff or png)"
            ))),
        }
    }
}

/// What EXIF goes into a rendition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetadataPolicy {
    /// Everything the RAW file had.
    #[default]
    Keep,
    /// Everything but the GPS position.
    StripGps,
    /// Nothing from the RAW file (only the recipe's creator and copyright, if set).
    StripAll,
}

/// The default file-name template.
pub const DEFAULT_FILE_NAME: &str = "{stem}/{rendition}.{ext}";

fn default_quality() -> u8 {
    90
}

fn default_file_name() -> String {
    DEFAULT_FILE_NAME.to_string()
}

/// One output of a recipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rendition {
    /// Name, used in output file names ("web", "full").
    pub name: String,
    /// Fit the long edge to this many pixels (never upscales); `None` keeps the full size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_edge: Option<u32>,
    /// Fit inside this box `[width, height]` (never upscales); applied after `long_edge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit: Option<[u32; 2]>,
    /// File format.
    pub format: OutputFormat,
    /// JPEG quality, 1–100 (ignored by the other formats).
    #[serde(default = "default_quality")]
    pub quality: u8,
    /// Output colour space.
    #[serde(default = "default_space")]
    pub color_space: ColorSpace,
    /// Rendering intent.
    #[serde(default)]
    pub intent: Intent,
    /// Output sharpening after resizing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharpen: Option<Sharpen>,
    /// A watermark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<Watermark>,
    /// Which EXIF to keep.
    #[serde(default)]
    pub metadata: MetadataPolicy,
    /// EXIF Artist to set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    /// EXIF Copyright to set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copyright: Option<String>,
    /// Output path relative to the output folder: `{stem}`, `{rendition}`,
    /// `{recipe}` and `{ext}` are replaced.
    #[serde(default = "default_file_name")]
    pub file_name: String,
}

fn default_space() -> ColorSpace {
    ColorSpace::Srgb
}

impl Rendition {
    /// A plain sRGB rendition with no sharpening, watermark or metadata changes.
    pub fn new(name: &str, long_edge: Option<u32>, format: OutputFormat, quality: u8) -> Self {
        Self {
            name: name.to_string(),
            long_edge,
            fit: None,
            format,
            quality,
            color_space: ColorSpace::Srgb,
            intent: Intent::default(),
            sharpen: None,
            watermark: None,
            metadata: MetadataPolicy::Keep,
            creator: None,
            copyright: None,
            file_name: default_file_name(),
        }
    }

    /// The metadata to embed for this rendition (`None` = no EXIF at all).
    pub fn metadata_for(&self, source: &Metadata) -> Option<Metadata> {
        let mut m = match self.metadata {
            MetadataPolicy::Keep => source.clone(),
            MetadataPolicy::StripGps => Metadata {
                gps: None,
                ..source.clone()
            },
            MetadataPolicy::StripAll => Metadata::default(),
        };
        if self.creator.is_some() {
            m.artist = self.creator.clone();
        }
        if self.copyright.is_some() {
            m.copyright = self.copyright.clone();
        }
        if self.metadata == MetadataPolicy::StripAll && m == Metadata::default() {
            None
        } else {
            Some(m)
        }
    }

    /// The output path (relative, `/`-separated) for input `stem` in `recipe`.
    /// Fails for templates that would leave the output folder or use unknown fields.
    pub fn file_name_for(&self, stem: &str, recipe: &str) -> Result<String> {
        expand_template(
            &self.file_name,
            stem,
            &self.name,
            recipe,
            self.format.extension(),
        )
    }
}

/// Expand a file-name template. Only `{stem}`, `{rendition}`, `{recipe}` and
/// `{ext}` are known; absolute paths, `..` and empty components are refused.
pub fn expand_template(
    template: &str,
    stem: &str,
    rendition: &str,
    recipe: &str,
    ext: &str,
) -> Result<String> {
    let bad =
        |why: &str| Error::InvalidParameter(format!("file name template {template:?}: {why}"));
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| bad("unclosed {"))?;
        let value = match &after[..close] {
            "stem" => stem,
            "rendition" => rendition,
            "recipe" => recipe,
            "ext" => ext,
            other => return Err(bad(&format!("unknown field {{{other}}}"))),
        };
        if value.contains(['/', '\\']) || value == ".." {
            return Err(bad("a field value contains a path separator"));
        }
        out.push_str(value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    if out.starts_with('/') || out.contains('\\') {
        return Err(bad("must be a relative path"));
    }
    if out
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(bad("empty, '.' or '..' path component"));
    }
    Ok(out)
}

/// A named list of renditions, all made from one decode and one demosaic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// The recipe's name.
    pub name: String,
    /// Development settings shared by every rendition.
    #[serde(default)]
    pub develop: DevelopOptions,
    /// The outputs.
    #[serde(rename = "rendition")]
    pub renditions: Vec<Rendition>,
}

/// Every float of `value` that is an `f32` widened to `f64` replaced by the
/// `f64` of the `f32`'s shortest decimal (`1.1f32` → `1.1`).
fn as_written(value: &mut toml::Value) {
    match value {
        toml::Value::Float(f) => {
            let narrow = *f as f32;
            if f64::from(narrow) == *f {
                if let Ok(v) = narrow.to_string().parse::<f64>() {
                    *f = v;
                }
            }
        }
        toml::Value::Array(items) => items.iter_mut().for_each(as_written),
        toml::Value::Table(table) => table.iter_mut().for_each(|(_, v)| as_written(v)),
        _ => {}
    }
}

/// The names of the built-in recipes.
pub const BUILTIN_RECIPES: [&str; 4] = ["web", "full", "master", "proof"];

impl Recipe {
    /// A recipe with a single rendition named after its format.
    pub fn single(name: &str, long_edge: Option<u32>, format: OutputFormat, quality: u8) -> Self {
        Self {
            name: name.to_string(),
            develop: DevelopOptions::default(),
            renditions: vec![Rendition::new(name, long_edge, format, quality)],
        }
    }

    /// A built-in recipe: `web` (2048 px JPEG q85 sRGB, sharpened, base look),
    /// `full` (full-size JPEG q92 sRGB, base look), `master` (full-size 16-bit
    /// TIFF in Adobe RGB, neutral) or `proof` (1600 px JPEG with a "PROOF"
    /// watermark, base look).
    pub fn builtin(name: &str) -> Option<Self> {
        let with_look = |mut r: Recipe| {
            r.develop.tone = Tone::BASE_LOOK;
            r
        };
        match name {
            "web" => {
                let mut r = Self::single("web", Some(2048), OutputFormat::Jpeg, 85);
                r.renditions[0].sharpen = Some(Sharpen::default());
                Some(with_look(r))
            }
            "full" => Some(with_look(Self::single(
                "full",
                None,
                OutputFormat::Jpeg,
                92,
            ))),
            "master" => {
                let mut r = Self::single("master", None, OutputFormat::Tiff, 100);
                r.renditions[0].color_space = ColorSpace::AdobeRgb;
                r.renditions[0].intent = Intent::RelativeColorimetric;
                Some(r)
            }
            "proof" => {
                let mut r = Self::single("proof", Some(1600), OutputFormat::Jpeg, 80);
                r.renditions[0].sharpen = Some(Sharpen::default());
                r.renditions[0].watermark = Some(Watermark {
                    text: Some("PROOF".into()),
                    position: Position::Center,
                    opacity: 0.35,
                    scale: 0.5,
                    ..Watermark::default()
                });
                Some(with_look(r))
            }
            _ => None,
        }
    }

    /// Parse a recipe from TOML text.
    pub fn from_toml(text: &str) -> Result<Self> {
        let r: Recipe =
            toml::from_str(text).map_err(|e| Error::InvalidParameter(format!("recipe: {e}")))?;
        r.validate()?;
        Ok(r)
    }

    /// The recipe as TOML text.
    ///
    /// Values read as written: the settings are `f32`, and each prints as the
    /// shortest decimal that reads back as the same `f32` (`contrast = 1.1`,
    /// not the `f64` widening `1.100000023841858`).
    pub fn to_toml(&self) -> Result<String> {
        let bad = |e: &dyn std::fmt::Display| Error::InvalidParameter(format!("recipe: {e}"));
        let mut value = toml::Value::try_from(self).map_err(|e| bad(&e))?;
        as_written(&mut value);
        toml::to_string(&value).map_err(|e| bad(&e))
    }

    /// A built-in name, else a TOML file path.
    pub fn load(name_or_path: &str) -> Result<Self> {
        if let Some(r) = Self::builtin(name_or_path) {
            return Ok(r);
        }
        let path = std::path::Path::new(name_or_path);
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// Check what can be checked without pixels: at least one rendition,
    /// unique names, qualities, sizes and file-name templates.
    pub fn validate(&self) -> Result<()> {
        if self.renditions.is_empty() {
            return Err(Error::InvalidParameter(format!(
                "recipe {:?} has no renditions",
                self.name
            )));
        }
        for (i, r) in self.renditions.iter().enumerate() {
            if self.renditions[..i].iter().any(|o| o.name == r.name) {
                return Err(Error::InvalidParameter(format!(
                    "rendition name {:?} used twice",
                    r.name
                )));
            }
            if !(1..=100).contains(&r.quality) {
                return Err(Error::InvalidParameter(format!(
                    "rendition {:?}: quality {} not in 1–100",
                    r.name, r.quality
                )));
            }
            if r.long_edge == Some(0) || r.fit.is_some_and(|[w, h]| w == 0 || h == 0) {
                return Err(Error::InvalidParameter(format!(
                    "rendition {:?}: size 0",
                    r.name
                )));
            }
            r.file_name_for("stem", &self.name)?;
        }
        Ok(())
    }
}

/// One encoded output.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The rendition's name.
    pub name: String,
    /// Its format.
    pub format: OutputFormat,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// The encoded file.
    pub bytes: Vec<u8>,
    /// The rendition's file-name template (see [`Rendition::file_name`]).
    pub file_template: String,
}

impl Rendered {
    /// The output path (relative) for input `stem` of recipe `recipe`.
    pub fn file_name(&self, stem: &str, recipe: &str) -> Result<String> {
        expand_template(
            &self.file_template,
            stem,
            &self.name,
            recipe,
            self.format.extension(),
        )
    }
}

/// The size of `rendition` made from a `width` × `height` image: the long
/// edge fitted first, then the box; never larger than the image.
pub fn target_size(rendition: &Rendition, width: usize, height: usize) -> (usize, usize) {
    let (mut w, mut h) = match rendition.long_edge {
        Some(edge) => resize::fitted_size(width, height, edge),
        None => (width, height),
    };
    if let Some([bw, bh]) = rendition.fit {
        let scale = (f64::from(bw) / w as f64).min(f64::from(bh) / h as f64);
        if scale < 1.0 {
            let long = ((w.max(h) as f64) * scale).floor().max(1.0) as u32;
            (w, h) = resize::fitted_size(w, h, long);
        }
    }
    (w, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_print_as_written() {
        let text = Recipe::builtin("web").unwrap().to_toml().unwrap();
        assert!(text.contains("contrast = 1.1\n"), "{text}");
        assert!(!text.contains("0000"), "{text}");
    }

    #[test]
    fn builtins_round_trip_through_toml() {
        for name in BUILTIN_RECIPES {
            let r = Recipe::builtin(name).unwrap();
            let text = r.to_toml().unwrap();
            let back = Recipe::from_toml(&text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
            assert_eq!(back, r, "{text}");
        }
    }

    #[test]
    fn templates_expand_and_refuse_escapes() {
        assert_eq!(
            expand_template(DEFAULT_FILE_NAME, "IMG_1", "web", "r", "jpg").unwrap(),
            "IMG_1/web.jpg"
        );
        assert_eq!(
            expand_template("{recipe}-{stem}.{ext}", "a", "w", "r", "tif").unwrap(),
            "r-a.tif"
        );
        for bad in [
            "/abs/{stem}",
            "../{stem}",
            "{stem}/../x",
            "{nope}",
            "{stem",
            "a//b",
        ] {
            assert!(expand_template(bad, "s", "w", "r", "jpg").is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_recipes_are_refused() {
        assert!(Recipe::from_toml("name = 'x'\nrendition = []").is_err());
        assert!(Recipe::from_toml("name = 'x'\n[[rendition]]\nname='a'\nformat='gif'").is_err());
        assert!(
            Recipe::from_toml("name = 'x'\n[[rendition]]\nname='a'\nformat='png'\nquality=0")
                .is_err()
        );
        assert!(
            Recipe::from_toml("name = 'x'\n[[rendition]]\nname='a'\nformat='png'\nbogus=1")
                .is_err()
        );
    }

    #[test]
    fn metadata_policy() {
        let src = Metadata {
            make: Some("Canon".into()),
            gps: Some(crate::metadata::Gps {
                latitude: 1.0,
                longitude: 2.0,
            }),
            ..Metadata::default()
        };
        let mut r = Rendition::new("a", None, OutputFormat::Jpeg, 90);
        assert_eq!(r.metadata_for(&src), Some(src.clone()));
        r.metadata = MetadataPolicy::StripGps;
        let m = r.metadata_for(&src).unwrap();
        assert!(m.gps.is_none() && m.make.is_some());
        r.metadata = MetadataPolicy::StripAll;
        assert_eq!(r.metadata_for(&src), None);
        r.copyright = Some("(c) me".into());
        let m = r.metadata_for(&src).unwrap();
        assert_eq!((m.make, m.copyright.as_deref()), (None, Some("(c) me")));
    }
}
