//! Helpers for the end-to-end tests: develop synthetic RAW files with the
//! engine and score them against their ground truth.

use rawflow::Timings;
use rawflow::{develop, OutputFormat, Recipe};
use rawflow_corpus::{png_to_srgb8, SrgbImage};

/// Decode and develop `dng` with `recipe`'s settings to a full-size 8-bit PNG, and read it back.
pub fn develop_to_srgb8(dng: &[u8], recipe: &Recipe) -> Result<SrgbImage, String> {
    let raw = rawflow::decode_bytes(dng).map_err(|e| e.to_string())?;
    let mut recipe = recipe.clone();
    for r in &mut recipe.renditions {
        r.format = OutputFormat::Png;
        r.long_edge = None;
    }
    let rendered = develop(&raw, &recipe, &mut Timings::default()).map_err(|e| e.to_string())?;
    let first = rendered.first().ok_or("no rendition")?;
    png_to_srgb8(&first.bytes).map_err(|e| e.to_string())
}

/// A default full-size recipe.
pub fn png_recipe() -> Recipe {
    Recipe::single("test", None, OutputFormat::Png, 100)
}
