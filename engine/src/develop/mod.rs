//! Development: one planner (`plan`) decides once how a recipe is
//! developed — at reduced resolution, in strips, or as a whole image — and
//! the chosen path runs: `whole` (the reference, whole image in memory),
//! `strips` (the streaming path) and `render` (renditions of a whole
//! working image).

pub(crate) mod plan;
pub(crate) mod render;
pub(crate) mod strips;
pub(crate) mod whole;

use std::cell::Cell;

use crate::cpu::Isa;
use crate::error::Result;
use crate::raw::RawImage;
use crate::recipe::{Recipe, Rendered, Timings};

pub use render::render;
pub use whole::{develop_linear, develop_working};

thread_local! {
    static DEVELOPMENTS: Cell<usize> = const { Cell::new(0) };
}

/// How many decodes-to-linear (levels + demosaic) this thread has run: a
/// hook for tests that check one development serves every rendition.
pub fn developments_on_this_thread() -> usize {
    DEVELOPMENTS.with(Cell::get)
}

/// Count one development on this thread (see [`developments_on_this_thread`]).
pub(crate) fn count_development() {
    DEVELOPMENTS.with(|c| c.set(c.get() + 1));
}

/// Develop `raw` once (one decode-to-linear, one demosaic) and produce every
/// rendition of `recipe`, by the route `plan::route` picks.
pub fn develop(raw: &RawImage, recipe: &Recipe, timings: &mut Timings) -> Result<Vec<Rendered>> {
    recipe.validate()?;
    match plan::route(raw, recipe, Isa::for_choice(recipe.develop.simd))? {
        plan::Route::Reduced(edge) => {
            let mut reduced = recipe.clone();
            reduced.develop.target_long_edge = Some(edge);
            whole::develop_recipe_whole(raw, &reduced, timings)
        }
        plan::Route::Strips(plans) => strips::develop_recipe(raw, recipe, plans, timings),
        plan::Route::Whole => whole::develop_recipe_whole(raw, recipe, timings),
    }
}
