#!/usr/bin/env bash
# Quality table: every rawflow demosaic method and the installed peers on
# synthetic DNGs made from two ground-truth sets — the Kodak 24 (photographs,
# strongly correlated channels) and the McMaster 18 (saturated colour, weakly
# correlated channels) — scored against the truth (sRGB CPSNR, border 8, and
# mean CIEDE2000). The reduced-resolution path is scored against the truth
# downscaled 2×2 (box filter in linear light). A set whose folder is missing
# is left out (the McMaster images are not redistributable).
# Usage: benches/quality.sh   (truths from $RAWFLOW_CORPUS, else the shipped testdata/, which has
# the Kodak 24 only; SKIP_BUILD=1 uses existing binaries; PER_IMAGE=FILE also
# writes every image's score there). An argument `bayer` or `xtrans` runs one
# table only; the X-Trans table scores X-Trans DNGs of the same sets with
# each peer's X-Trans method.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
CORPUS=${RAWFLOW_CORPUS:-$ROOT/testdata}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
[ -n "${SKIP_BUILD:-}" ] || (cd "$ROOT" && cargo build --release -q -p rawflow-benches --bins && cargo build --release -q -p rawflow-corpus)
BIN=$CARGO_TARGET_DIR/release
PART=${1:-all}
SETS=()
for set in kodak24 mcmaster18; do
  if [ -d "$CORPUS/groundtruth/$set" ]; then
    "$BIN/rawflow-corpus" truths --dir "$CORPUS/groundtruth/$set" --out "$WORK/$set" 2>/dev/null
    SETS+=("$set")
  else
    echo "quality.sh: $CORPUS/groundtruth/$set missing, that set is left out" >&2
  fi
done
[ ${#SETS[@]} -gt 0 ] || { echo "quality.sh: no ground-truth set found (set RAWFLOW_CORPUS)" >&2; exit 1; }

rf_fast() { "$BIN/develop-png" "$1" "$2.png" fast && echo "$2.png"; }
rf_best() { "$BIN/develop-png" "$1" "$2.png" best && echo "$2.png"; }
DC="-w -W -H 0 -o 1 -6 -g 2.4 12.92 -T"
if [ "$PART" != xtrans ]; then
declare -a ROWS
# score_set NAME MAKE: MAKE is a bash function name called as MAKE IN.dng OUT; it
# prints the output path. One row: NAME, then images, CPSNR and ΔE per set.
score_set() {
  local name=$1 make=$2 row="| $1 |" set dng stem out p e
  for set in "${SETS[@]}"; do
    local sum_p=0 sum_e=0 n=0
    for dng in "$WORK/$set"/*.dng; do
      stem=$(basename "$dng" .dng)
      out=$("$make" "$dng" "$WORK/o_$stem") || { echo "failed: $name $stem" >&2; continue; }
      read -r p e < <("$BIN/score-image" "$out" "$CORPUS/groundtruth/$set/$stem.png" 8)
      echo "$set $stem $name $p $e" >> "$WORK/per-image.txt"
      sum_p=$(awk "BEGIN{print $sum_p+$p}"); sum_e=$(awk "BEGIN{print $sum_e+$e}"); n=$((n+1))
    done
    if [ "$n" -gt 0 ]; then
      row+=$(awk -v p="$sum_p" -v e="$sum_e" -v c="$n" 'BEGIN{printf " %d | %.2f | %.2f |", c, p/c, e/c}')
    else
      row+=" 0 | – | – |"
    fi
  done
  ROWS+=("$row")
}
rf_bilinear() { "$BIN/develop-png" "$1" "$2.png" bilinear && echo "$2.png"; }
rf_half() { "$BIN/develop-png" "$1" "$2.png" half && echo "$2.png"; }
score_set "rawflow fast (RCD)" rf_fast
score_set "rawflow best (LMMSE + RCD, blended)" rf_best
score_set "rawflow bilinear" rf_bilinear
score_set "rawflow reduced (2×2 blocks, tent-weighted; vs truth downscaled 2×2)" rf_half
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
echo "Synthetic DNGs from the Kodak 24 (768×512) and McMaster 18 (500×500) ground truths: Canon EOS 5D Mark II matrix, 14-bit RGGB, black 512, no noise; sRGB CPSNR (border 8) and mean CIEDE2000, $(date -u +%Y-%m-%d)."
echo "dcraw -q: 0 bilinear, 2 PPG, 3 AHD; dcraw_emu -q: 0 bilinear, 2 PPG, 3 AHD, 4 DCB, 11 DHT, 12 AAHD."
echo "RawTherapee: benches/peers/rt-neutral.pp3 + the method; its 4-pixel border is left out of the truth too."
echo "darktable 4.2: benches/peers/dt-neutral.xmp.in (demosaic method and highlight clipping in its history), workflow none, legacy chromatic adaptation (as-shot white balance)."
echo
header="| method |"; rule="|---|"
for set in "${SETS[@]}"; do
  case $set in kodak24) label="Kodak 24";; mcmaster18) label="McMaster 18";; *) label=$set;; esac
  header+=" $label images | $label CPSNR dB | $label ΔE2000 |"; rule+="---:|---:|---:|"
done
echo "$header"
echo "$rule"
printf '%s\n' "${ROWS[@]}"
if [ -n "${PER_IMAGE:-}" ]; then cp "$WORK/per-image.txt" "$PER_IMAGE"; fi
fi

# X-Trans: the same sets and neutral settings, each peer's X-Trans method.
if [ "$PART" != bayer ]; then
  declare -a XROWS
  # score_dir NAME MAKE DNGDIR TRUTHDIR SET BORDER: one row over every DNG of a folder.
  score_dir() {
    local name=$1 make=$2 dir=$3 truth=$4 border=$6 sum_p=0 sum_e=0 n=0 f stem out p e
    for f in "$dir"/*.dng; do
      stem=$(basename "$f" .dng)
      out=$("$make" "$f" "$WORK/x_$stem") || { echo "failed: $name $stem" >&2; continue; }
      read -r p e < <("$BIN/score-image" "$out" "$truth/$stem.png" "$border") || { echo "unscored: $name $stem" >&2; continue; }
      sum_p=$(awk "BEGIN{print $sum_p+$p}"); sum_e=$(awk "BEGIN{print $sum_e+$e}"); n=$((n+1))
    done
    [ "$n" -gt 0 ] && XROWS+=("$(awk -v n="$name" -v s="$5" -v p="$sum_p" -v e="$sum_e" -v c="$n" 'BEGIN{printf "| %s | %s | %d | %.2f | %.2f |", n, s, c, p/c, e/c}')")
    return 0
  }
  XSETS=()
  [ -d "$CORPUS/groundtruth/kodak24" ] && XSETS+=("Kodak 24:8:$CORPUS/groundtruth/kodak24")
  # LibRaw refuses X-Trans images under 512 pixels a side, so the 500×500
  # McMaster images are mirror-padded by 6 pixels (vips) and scored with a
  # 14-pixel border: the same pixels as a border of 8 on the originals.
  if [ -d "$CORPUS/groundtruth/mcmaster18" ] && command -v vips >/dev/null; then
    mkdir -p "$WORK/mcm-pad"
    for f in "$CORPUS"/groundtruth/mcmaster18/*.png; do
      vips embed "$f" "$WORK/mcm-pad/$(basename "$f")" 6 6 512 512 --extend mirror
    done
    XSETS+=("McMaster 18:14:$WORK/mcm-pad")
  fi
  # darktable's default X-Trans method: Markesteijn 1-pass (0x400).
  sed "s/@METHOD@000000/00040000/" "$ROOT/benches/peers/dt-neutral.xmp.in" > "$WORK/dt-x.xmp"
  emu_x() { dcraw_emu $DC -c 0 -q 3 -Z "$2.tiff" "$1" >/dev/null 2>&1 && echo "$2.tiff"; }
  rt_x() { rawtherapee-cli -q -Y -t -b16 -o "$2.tif" -p "$ROOT/benches/peers/rt-neutral.pp3" -c "$1" >/dev/null 2>&1 && echo "$2.tif"; }
  dt_x() { rm -f "$2.tif"; darktable-cli "$1" "$WORK/dt-x.xmp" "$2.tif" --apply-custom-presets false --core --configdir "$WORK/dtconf" --library :memory: --disable-opencl --conf plugins/darkroom/workflow=none --conf plugins/darkroom/chromatic-adaptation=legacy --conf plugins/imageio/format/tiff/bpp=16 >/dev/null 2>&1 && echo "$2.tif"; }
  for set in "${XSETS[@]}"; do
    label=${set%%:*} rest=${set#*:}
    border=${rest%%:*} truth=${rest#*:}
    dir="$WORK/x-${label// /}"
    "$BIN/rawflow-corpus" truths --dir "$truth" --out "$dir" --phase xtrans --camera canon-5d2 2>/dev/null
    score_dir "rawflow fast (Markesteijn-class, 1 pass)" rf_fast "$dir" "$truth" "$label" "$border"
    score_dir "rawflow best (Markesteijn-class, 3 passes)" rf_best "$dir" "$truth" "$label" "$border"
    command -v dcraw_emu >/dev/null && score_dir "dcraw_emu -q 3 (Markesteijn 3-pass)" emu_x "$dir" "$truth" "$label" "$border"
    command -v rawtherapee-cli >/dev/null && score_dir "RawTherapee (default X-Trans method)" rt_x "$dir" "$truth" "$label" "$border"
    command -v darktable-cli >/dev/null && score_dir "darktable (default: Markesteijn 1-pass)" dt_x "$dir" "$truth" "$label" "$border"
  done
  echo
  echo "X-Trans DNGs (14-bit, black 512, Canon 5D Mark II matrix) of the same sets (McMaster mirror-padded to 512×512, as LibRaw needs, and scored on the original pixels), $(date -u +%Y-%m-%d)."
  echo
  echo "| method | set | images | CPSNR dB | ΔE2000 |"
  echo "|---|---|---:|---:|---:|"
  printf '%s\n' "${XROWS[@]}"
fi
