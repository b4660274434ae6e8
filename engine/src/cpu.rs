//! CPU features, detected once per process, and the switch that forces the
//! portable kernels.
//!
//! Hand-written kernels live beside the stage that owns them, as a portable
//! function in the stage's `mod.rs` and one file per instruction set next to
//! it (`avx2.rs` on x86-64; an aarch64 `neon.rs` slots in beside it the same
//! way, with an `Isa` level for it here). Every owner resolves its kernel
//! from an `Isa` when a development is planned (`resize::RowResampler::new`,
//! the demosaic tile runner, `OutputTransform`), not per row.
//!
//! Most kernel bodies are one generic `#[inline(always)]` function written as
//! plain loops over contiguous slices that the compiler vectorises;
//! `dispatched!` makes a portable copy and an AVX2+FMA copy of such a body.
//! Where the compiler does poorly (stride-3 RGB, table reads, two-tap
//! vectors) the x86-64 kernels are written by hand with intrinsics. Every
//! kernel has its portable twin and a test that both give the same bits.
//! (`wide` was tried first: it picks its instruction set when the crate is
//! compiled, so inside these AVX2 functions its 8-lane type still ran as two
//! SSE halves.)
//!
//! The environment variable [`SIMD_ENV`] (`RAWFLOW_SIMD=portable`) and the
//! option [`Simd::Portable`] force the portable kernels, so that they are
//! tested on CPUs that have the fast ones.

use std::sync::OnceLock;

/// The environment variable that forces the portable kernels when set to
/// `portable` (read once per process).
pub const SIMD_ENV: &str = "RAWFLOW_SIMD";

/// Which kernels a development may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[non_exhaustive]
pub enum Simd {
    /// The fastest kernels this CPU runs, unless [`SIMD_ENV`] is `portable`.
    #[default]
    Auto,
    /// Only the portable kernels (the same pixels, slower).
    Portable,
}

/// The instruction set the kernels of one development are resolved for.
///
/// Only [`Isa::detect`] and [`Isa::for_choice`] make one that is not
/// portable, after checking the CPU: that check is what makes calling the
/// `#[target_feature]` kernels sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Isa {
    /// x86-64 with AVX2 and FMA (checked at run time).
    avx2: bool,
    /// aarch64 with NEON (part of the aarch64 baseline; checked all the same).
    neon: bool,
}

impl Isa {
    /// The portable kernels.
    pub(crate) const PORTABLE: Isa = Isa {
        avx2: false,
        neon: false,
    };

    /// The best instruction set of this CPU (detected once per process).
    pub(crate) fn detect() -> Isa {
        static HAS: OnceLock<Isa> = OnceLock::new();
        *HAS.get_or_init(|| {
            #[cfg(target_arch = "x86_64")]
            {
                Isa {
                    avx2: is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
                    neon: false,
                }
            }
            #[cfg(target_arch = "aarch64")]
            {
                Isa {
                    avx2: false,
                    neon: std::arch::is_aarch64_feature_detected!("neon"),
                }
            }
            #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
            {
                Isa::PORTABLE
            }
        })
    }

    /// The instruction set for `choice`: [`Simd::Portable`] or [`SIMD_ENV`]
    /// set to `portable` give the portable kernels, else [`Isa::detect`].
    pub(crate) fn for_choice(choice: Simd) -> Isa {
        if choice == Simd::Portable || forced_portable() {
            Isa::PORTABLE
        } else {
            Isa::detect()
        }
    }

    /// [`Isa::for_choice`] of [`Simd::Auto`]: what entry points without an
    /// explicit choice use.
    pub(crate) fn process() -> Isa {
        Isa::for_choice(Simd::Auto)
    }

    /// True when AVX2 and FMA kernels may run (x86-64 only).
    pub(crate) fn avx2(self) -> bool {
        self.avx2
    }

    /// True when the hand-written NEON kernels may run (aarch64 only).
    #[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
    pub(crate) fn neon(self) -> bool {
        self.neon
    }

    /// What this instruction set is called in [`Kernels`].
    pub(crate) fn kernels(self) -> Kernels {
        if self.avx2 {
            Kernels::Avx2Fma
        } else if self.neon {
            Kernels::Neon
        } else {
            Kernels::Portable
        }
    }
}

/// The kernels a development runs on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kernels {
    /// x86-64 with AVX2 and FMA: the AVX2 copies and hand-written AVX2 kernels.
    Avx2Fma,
    /// aarch64 (Graviton): the hand-written NEON kernels (Bayer tile finish,
    /// 8-bit sRGB output, horizontal resize); the compiler's NEON elsewhere.
    Neon,
    /// The portable kernels only.
    Portable,
}

impl Kernels {
    /// A short name: `avx2+fma`, `neon` or `portable`.
    pub fn name(self) -> &'static str {
        match self {
            Kernels::Avx2Fma => "avx2+fma",
            Kernels::Neon => "neon",
            Kernels::Portable => "portable",
        }
    }
}

impl std::fmt::Display for Kernels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The kernels a development with [`Simd::Auto`] runs on this machine (the
/// CPU's best, or the portable ones when [`SIMD_ENV`] asks for them).
pub fn kernels() -> Kernels {
    Isa::process().kernels()
}

/// The CPU features the engine looks for, each with whether this CPU has it
/// (x86-64: `avx2`, `fma`; aarch64: `neon`; other targets: none).
pub fn cpu_features() -> Vec<(&'static str, bool)> {
    #[cfg(target_arch = "x86_64")]
    {
        vec![
            ("avx2", is_x86_feature_detected!("avx2")),
            ("fma", is_x86_feature_detected!("fma")),
        ]
    }
    #[cfg(target_arch = "aarch64")]
    {
        vec![("neon", std::arch::is_aarch64_feature_detected!("neon"))]
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        Vec::new()
    }
}

/// True when [`SIMD_ENV`] asks for the portable kernels (read once).
fn forced_portable() -> bool {
    static FORCED: OnceLock<bool> = OnceLock::new();
    *FORCED.get_or_init(|| {
        std::env::var(SIMD_ENV).is_ok_and(|v| v.trim().eq_ignore_ascii_case("portable"))
    })
}

/// `dispatched!(resolver -> FnType; portable(args) { body } avx2 { body })`:
/// the portable function, an AVX2+FMA copy of the second body (x86-64 only),
/// and a resolver that picks one for an [`Isa`].
macro_rules! dispatched {
    (
        $(#[$meta:meta])*
        $dispatch:ident -> $fnty:ty;
        $portable:ident($($arg:ident: $ty:ty),* $(,)?) $body:block
        avx2 $avx2_body:block
    ) => {
        /// The portable variant (also what tests compare the dispatched one with).
        pub(crate) fn $portable($($arg: $ty),*) $body

        $(#[$meta])*
        pub(crate) fn $dispatch(isa: $crate::cpu::Isa) -> $fnty {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                fn avx2_inner($($arg: $ty),*) $avx2_body
                fn avx2($($arg: $ty),*) {
                    // SAFETY: only returned for an `Isa` whose `avx2()` is
                    // true, which `Isa::detect` sets after confirming AVX2
                    // and FMA at run time.
                    unsafe { avx2_inner($($arg),*) }
                }
                if isa.avx2() {
                    return avx2 as $fnty;
                }
            }
            let _ = isa;
            $portable as $fnty
        }
    };
}
pub(crate) use dispatched;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_portable_choice_is_portable() {
        assert_eq!(Isa::for_choice(Simd::Portable), Isa::PORTABLE);
        assert!(!Isa::PORTABLE.avx2());
        // Auto is at most what the CPU has.
        assert!(!Isa::process().avx2() || Isa::detect().avx2());
        assert!(!Isa::process().neon() || Isa::detect().neon());
        assert_eq!(Isa::PORTABLE.kernels(), Kernels::Portable);
    }

    #[test]
    fn kernels_follow_the_detected_features() {
        let found = |name| cpu_features().iter().any(|&(n, has)| n == name && has);
        let expected = if found("avx2") && found("fma") {
            Kernels::Avx2Fma
        } else if found("neon") {
            Kernels::Neon
        } else {
            Kernels::Portable
        };
        assert_eq!(Isa::detect().kernels(), expected);
        println!("kernels on this CPU: {}", Isa::detect().kernels());
    }

    /// On aarch64 the NEON kernels are selected (each kernel's module also
    /// checks that its dispatcher returns its NEON twin): the evidence that
    /// the NEON path runs, independent of timings.
    #[cfg(target_arch = "aarch64")]
    #[test]
    fn neon_is_selected_on_aarch64() {
        assert_eq!(Isa::detect().kernels(), Kernels::Neon);
    }
}
