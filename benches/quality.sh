#!/usr/bin/env bash
# Quality table: every rawflow demosaic method and the installed peers on the
# 24 synthetic Kodak DNGs, scored against the ground truth (sRGB CPSNR,
# border 8, and mean CIEDE2000). The reduced-resolution path is scored
# against the truth downscaled 2×2 (box filter in linear light).
# Usage: benches/quality.sh   (Kodak truths from $RAWFLOW_CORPUS, else the shipped testdata/; SKIP_BUILD=1 uses existing binaries)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
CORPUS=${RAWFLOW_CORPUS:-$ROOT/testdata}
KODAK=$CORPUS/groundtruth/kodak24
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
[ -n "${SKIP_BUILD:-}" ] || (cd "$ROOT" && cargo build --release -q -p rawflow-benches --bins && cargo build --release -q -p rawflow-corpus)
BIN=$CARGO_TARGET_DIR/release
"$BIN/rawflow-corpus" kodak --out "$WORK/dng" --kodak-dir "$KODAK" --no-scenes >/dev/null

declare -a ROWS
# score_set NAME MAKE: MAKE is a bash function name called as MAKE IN.dng OUT; it prints the output path.
score_set() {
  local name=$1 make=$2 sum_p=0 sum_e=0 n=0
  for i in $(seq -w 1 24); do
    local dng=$WORK/dng/kodim$i.dng out
    out=$("$make" "$dng" "$WORK/o_$i") || { echo "failed: $name kodim$i" >&2; return 0; }
    read -r p e < <("$BIN/score-image" "$out" "$KODAK/kodim$i.png" 8)
    sum_p=$(awk "BEGIN{print $sum_p+$p}"); sum_e=$(awk "BEGIN{print $sum_e+$e}"); n=$((n+1))
  done
  ROWS+=("$(awk -v n="$name" -v p="$sum_p" -v e="$sum_e" -v c="$n" 'BEGIN{printf "| %s | %d | %.2f | %.2f |", n, c, p/c, e/c}')")
}
rf_fast() { "$BIN/develop-png" "$1" "$2.png" fast && echo "$2.png"; }
rf_best() { "$BIN/develop-png" "$1" "$2.png" best && echo "$2.png"; }
rf_bilinear() { "$BIN/develop-png" "$1" "$2.png" bilinear && echo "$2.png"; }
rf_half() { "$BIN/develop-png" "$1" "$2.png" half && echo "$2.png"; }
score_set "rawflow fast (RCD)" rf_fast
score_set "rawflow best (LMMSE)" rf_best
score_set "rawflow bilinear" rf_bilinear
score_set "rawflow reduced (2×2 blocks, tent-weighted; vs truth downscaled 2×2)" rf_half
DC="-w -W -H 0 -o 1 -6 -g 2.4 12.92 -T"
for q in 0 2 3; do
  if command -v dcraw >/dev/null; then
    eval "dcraw_q$q() { dcraw -c $DC -q $q \"\$1\" > \"\$2.tiff\" 2>/dev/null && echo \"\$2.tiff\"; }"
    score_set "dcraw -q $q" "dcraw_q$q"
  fi
done
for q in 0 2 3 4 11 12; do
  if command -v dcraw_emu >/dev/null; then
    eval "emu_q$q() { dcraw_emu $DC -c 0 -q $q -Z \"\$2.tiff\" \"\$1\" >/dev/null 2>&1 && echo \"\$2.tiff\"; }"
    score_set "dcraw_emu -q $q" "emu_q$q"
  fi
done
if command -v rawtherapee-cli >/dev/null; then
  for m in rcd amaze lmmse; do
    printf '[RAW Bayer]\nMethod=%s\n' "$m" > "$WORK/rt-$m.pp3"
    eval "rt_$m() { rawtherapee-cli -q -Y -t -b16 -o \"\$2.tif\" -p '$ROOT/benches/peers/rt-neutral.pp3' -p '$WORK/rt-$m.pp3' -c \"\$1\" >/dev/null 2>&1 && echo \"\$2.tif\"; }"
    score_set "RawTherapee $m" "rt_$m"
  done
fi
if command -v darktable-cli >/dev/null; then
  # The method (RCD 05, AMaZE 01, LMMSE 06) and highlight clipping come from the
  # XMP history; darktable refuses to overwrite and keeps state in its config folder.
  for m in rcd:05 amaze:01 lmmse:06; do
    name=${m%:*}
    sed "s/@METHOD@/${m#*:}/" "$ROOT/benches/peers/dt-neutral.xmp.in" > "$WORK/dt-$name.xmp"
    eval "dt_$name() { rm -f \"\$2.tif\"; darktable-cli \"\$1\" '$WORK/dt-$name.xmp' \"\$2.tif\" --apply-custom-presets false --core --configdir '$WORK/dtconf' --library :memory: --disable-opencl --conf plugins/darkroom/workflow=none --conf plugins/darkroom/chromatic-adaptation=legacy --conf plugins/imageio/format/tiff/bpp=16 >/dev/null 2>&1 && echo \"\$2.tif\"; }"
    score_set "darktable $name" "dt_$name"
  done
fi
echo "Synthetic Kodak DNGs (24 × 768×512, 14-bit RGGB), sRGB CPSNR (border 8) and mean CIEDE2000, $(date -u +%Y-%m-%d)."
echo "dcraw -q: 0 bilinear, 2 PPG, 3 AHD; dcraw_emu -q: 0 bilinear, 2 PPG, 3 AHD, 4 DCB, 11 DHT, 12 AAHD."
echo "RawTherapee: benches/peers/rt-neutral.pp3 + the method; its 4-pixel border is left out of the truth too."
echo "darktable 4.2: benches/peers/dt-neutral.xmp.in (demosaic method and highlight clipping in its history), workflow none, legacy chromatic adaptation (as-shot white balance)."
echo
echo "| method | images | CPSNR dB | ΔE2000 |"
echo "|---|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
