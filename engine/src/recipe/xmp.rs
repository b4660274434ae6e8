//! XMP sidecars: the Lightroom / Camera Raw settings rawflow applies.
//!
//! Applied: `crs:Exposure2012`, `crs:WhiteBalance`, `crs:Temperature`,
//! `crs:Tint`, `crs:HasCrop` with `crs:CropTop/Left/Bottom/Right` (fractions
//! of the image as stored, before orientation) and `tiff:Orientation`.
//! `crs:CropAngle` other than 0 is not applied and warned about. Every other
//! `crs:` or `tiff:` field is listed in [`Sidecar::unapplied`], never dropped
//! silently. Both attribute form (`<rdf:Description crs:Exposure2012="+0.5">`)
//! and element form (`<crs:Exposure2012>+0.5</crs:Exposure2012>`) are read.
//!
//! ```
//! let xmp = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
//!  <rdf:Description xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/" crs:Exposure2012="+1.00"/>
//! </rdf:RDF></x:xmpmeta>"#;
//! let sidecar = rawflow::Sidecar::parse(xmp)?;
//! let mut options = rawflow::DevelopOptions::default();
//! let warnings = sidecar.apply(&mut options);
//! assert_eq!(options.exposure_ev, 1.0);
//! assert!(warnings.is_empty());
//! # Ok::<(), rawflow::Error>(())
//! ```

use std::path::{Path, PathBuf};

use super::DevelopOptions;
use crate::error::{Error, Result};
use crate::raw::Orientation;
use crate::stages::user_crop::CropRect;
use crate::stages::white_balance::WhiteBalance;

/// Camera Raw settings namespace.
pub const CRS_NS: &str = "http://ns.adobe.com/camera-raw-settings/1.0/";
/// TIFF namespace.
pub const TIFF_NS: &str = "http://ns.adobe.com/tiff/1.0/";

/// The settings read from a sidecar.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sidecar {
    /// `crs:Exposure2012` in EV.
    pub exposure: Option<f32>,
    /// `crs:WhiteBalance` ("As Shot", "Auto", "Daylight", "Custom", …).
    pub white_balance: Option<String>,
    /// `crs:Temperature` in kelvin.
    pub temperature: Option<f32>,
    /// `crs:Tint`.
    pub tint: Option<f32>,
    /// The crop when `crs:HasCrop` is true.
    pub crop: Option<CropRect>,
    /// `crs:CropAngle` in degrees.
    pub crop_angle: Option<f32>,
    /// `tiff:Orientation`.
    pub orientation: Option<u16>,
    /// Fields present but not applied, as `prefix:Name=value`.
    pub unapplied: Vec<String>,
    /// Fields that were present but unreadable, with the reason.
    pub invalid: Vec<String>,
}

/// The sidecar for `raw`: `IMG_0001.xmp` or `IMG_0001.CR2.xmp` beside it
/// (either case of `.xmp`), if one exists.
pub fn sidecar_path(raw: &Path) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    for ext in ["xmp", "XMP"] {
        candidates.push(raw.with_extension(ext));
        let mut name = raw.as_os_str().to_owned();
        name.push(format!(".{ext}"));
        candidates.push(PathBuf::from(name));
    }
    candidates.into_iter().find(|p| p.is_file())
}

fn number(v: &str) -> Option<f32> {
    let v = v.trim();
    let v = v.strip_prefix('+').unwrap_or(v);
    v.parse::<f32>().ok().filter(|x| x.is_finite())
}

impl Sidecar {
    /// Read and parse the sidecar at `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parse XMP text.
    pub fn parse(text: &str) -> Result<Self> {
        let doc = roxmltree::Document::parse(text)
            .map_err(|e| Error::InvalidParameter(format!("XMP sidecar: {e}")))?;
        let mut fields: Vec<(String, String)> = Vec::new();
        let prefix = |ns: Option<&str>| match ns {
            Some(CRS_NS) => Some("crs"),
            Some(TIFF_NS) => Some("tiff"),
            _ => None,
        };
        for node in doc.descendants().filter(|n| n.is_element()) {
            for a in node.attributes() {
                if let Some(p) = prefix(a.namespace()) {
                    fields.push((format!("{p}:{}", a.name()), a.value().to_string()));
                }
            }
            let tag = node.tag_name();
            if let Some(p) = prefix(tag.namespace()) {
                // Element form: simple text content only; structured values
                // (sequences, tone curves) are listed by name.
                let has_children = node.children().any(|c| c.is_element());
                let value = if has_children {
                    "(structured)".to_string()
                } else {
                    node.text().unwrap_or("").trim().to_string()
                };
                fields.push((format!("{p}:{}", tag.name()), value));
            }
        }
        let mut s = Sidecar::default();
        let mut has_crop = false;
        let mut crop = [None::<f32>; 4];
        for (name, value) in fields {
            let num = |slot: &mut Option<f32>, s_invalid: &mut Vec<String>| match number(&value) {
                Some(v) => *slot = Some(v),
                None => s_invalid.push(format!("{name}={value:?}: not a number")),
            };
            match name.as_str() {
                "crs:Exposure2012" => num(&mut s.exposure, &mut s.invalid),
                "crs:Temperature" => num(&mut s.temperature, &mut s.invalid),
                "crs:Tint" => num(&mut s.tint, &mut s.invalid),
                "crs:CropAngle" => num(&mut s.crop_angle, &mut s.invalid),
                "crs:CropTop" => num(&mut crop[0], &mut s.invalid),
                "crs:CropLeft" => num(&mut crop[1], &mut s.invalid),
                "crs:CropBottom" => num(&mut crop[2], &mut s.invalid),
                "crs:CropRight" => num(&mut crop[3], &mut s.invalid),
                "crs:HasCrop" => has_crop = value.trim().eq_ignore_ascii_case("true"),
                "crs:WhiteBalance" => s.white_balance = Some(value.trim().to_string()),
                "tiff:Orientation" => match value.trim().parse::<u16>() {
                    Ok(v @ 1..=8) => s.orientation = Some(v),
                    _ => s.invalid.push(format!("{name}={value:?}: not 1–8")),
                },
                _ => s.unapplied.push(format!("{name}={value}")),
            }
        }
        if has_crop {
            match crop {
                [Some(top), Some(left), Some(bottom), Some(right)] => {
                    s.crop = Some(CropRect {
                        top,
                        left,
                        bottom,
                        right,
                    })
                }
                _ => s
                    .invalid
                    .push("crs:HasCrop=True without all four crs:Crop* edges".into()),
            }
        }
        Ok(s)
    }

    /// Apply the settings to `options`; returns warnings (unapplied fields,
    /// unreadable values, a non-zero crop angle).
    pub fn apply(&self, options: &mut DevelopOptions) -> Vec<String> {
        let mut warnings = Vec::new();
        if let Some(ev) = self.exposure {
            options.exposure_ev = ev;
        }
        let preset = |k: f32, t: f32| WhiteBalance::Kelvin {
            temperature: k,
            tint: t,
        };
        let wb = self.white_balance.as_deref().map(str::to_ascii_lowercase);
        let kelvin = self
            .temperature
            .map(|t| preset(t, self.tint.unwrap_or(0.0)));
        let chosen = match wb.as_deref() {
            Some("as shot") => Some(WhiteBalance::AsShot),
            Some("auto") => Some(WhiteBalance::Auto),
            Some("daylight") => Some(kelvin.unwrap_or(preset(5500.0, 10.0))),
            Some("cloudy") => Some(kelvin.unwrap_or(preset(6500.0, 10.0))),
            Some("shade") => Some(kelvin.unwrap_or(preset(7500.0, 10.0))),
            Some("tungsten") => Some(kelvin.unwrap_or(preset(2850.0, 0.0))),
            Some("fluorescent") => Some(kelvin.unwrap_or(preset(3800.0, 21.0))),
            Some("flash") => Some(kelvin.unwrap_or(preset(5500.0, 0.0))),
            Some("custom") | None => kelvin,
            Some(other) => {
                warnings.push(format!(
                    "crs:WhiteBalance={other:?} not understood; kept the recipe's white balance"
                ));
                None
            }
        };
        if let Some(wb) = chosen {
            options.white_balance = wb;
        }
        if let Some(c) = self.crop {
            options.crop = Some(c);
        }
        if let Some(a) = self.crop_angle.filter(|a| *a != 0.0) {
            warnings.push(format!("crs:CropAngle={a} not applied (straightening is not supported); crop kept unrotated"));
        }
        if let Some(o) = self.orientation {
            options.orientation = Some(Orientation::from_exif(o));
        }
        for i in &self.invalid {
            warnings.push(format!("unreadable sidecar field {i}"));
        }
        if !self.unapplied.is_empty() {
            warnings.push(format!(
                "sidecar fields not applied: {}",
                self.unapplied.join(", ")
            ));
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ELEMENTS: &str = r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
    xmlns:tiff="http://ns.adobe.com/tiff/1.0/">
   <crs:Exposure2012>-0.65</crs:Exposure2012>
   <crs:WhiteBalance>Custom</crs:WhiteBalance>
   <crs:Temperature>3200</crs:Temperature>
   <crs:Tint>+12</crs:Tint>
   <crs:HasCrop>True</crs:HasCrop>
   <crs:CropTop>0.1</crs:CropTop>
   <crs:CropLeft>0.2</crs:CropLeft>
   <crs:CropBottom>0.9</crs:CropBottom>
   <crs:CropRight>0.7</crs:CropRight>
   <crs:CropAngle>1.5</crs:CropAngle>
   <crs:Clarity2012>+20</crs:Clarity2012>
   <tiff:Orientation>6</tiff:Orientation>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>"#;

    #[test]
    fn element_form_applies_and_warns() {
        let s = Sidecar::parse(ELEMENTS).unwrap();
        let mut o = DevelopOptions::default();
        let w = s.apply(&mut o);
        assert_eq!(o.exposure_ev, -0.65);
        assert_eq!(
            o.white_balance,
            WhiteBalance::Kelvin {
                temperature: 3200.0,
                tint: 12.0
            }
        );
        assert_eq!(
            o.crop,
            Some(CropRect {
                top: 0.1,
                left: 0.2,
                bottom: 0.9,
                right: 0.7
            })
        );
        assert_eq!(o.orientation, Some(Orientation::Rotate90));
        assert!(w.iter().any(|w| w.contains("CropAngle")), "{w:?}");
        assert!(w.iter().any(|w| w.contains("crs:Clarity2012=+20")), "{w:?}");
    }

    #[test]
    fn attribute_form_and_as_shot() {
        let text = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/" crs:WhiteBalance="As Shot" crs:Exposure2012="+0.50" crs:HasCrop="False" crs:CropTop="0.3"/>
</rdf:RDF></x:xmpmeta>"#;
        let s = Sidecar::parse(text).unwrap();
        let mut o = DevelopOptions {
            white_balance: WhiteBalance::Daylight,
            ..DevelopOptions::default()
        };
        let w = s.apply(&mut o);
        assert_eq!(o.exposure_ev, 0.5);
        assert_eq!(o.white_balance, WhiteBalance::AsShot);
        assert_eq!(o.crop, None);
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Sidecar::parse("<x:xmpmeta").is_err());
        let s = Sidecar::parse(r#"<a xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/" crs:Exposure2012="lots"/>"#).unwrap();
        assert_eq!(s.exposure, None);
        assert_eq!(s.invalid.len(), 1);
    }

    #[test]
    fn finds_both_sidecar_names() {
        let dir = tempfile::tempdir().unwrap();
        let raw = dir.path().join("IMG_1.CR2");
        std::fs::write(&raw, b"x").unwrap();
        assert_eq!(sidecar_path(&raw), None);
        std::fs::write(dir.path().join("IMG_1.CR2.xmp"), b"x").unwrap();
        assert_eq!(sidecar_path(&raw), Some(dir.path().join("IMG_1.CR2.xmp")));
        std::fs::write(dir.path().join("IMG_1.xmp"), b"x").unwrap();
        assert_eq!(sidecar_path(&raw), Some(dir.path().join("IMG_1.xmp")));
    }
}
