#!/usr/bin/env bash
# Side-by-side speed and memory: rawflow and the installed peer RAW developers
# on one synthetic 24 MP DNG, REPS repetitions each (median time, peak RSS).
# Usage: benches/peers.sh            (env: REPS=3 SIZE=6000x4000; SKIP_BUILD=1 uses existing binaries)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
REPS=${REPS:-3}
SIZE=${SIZE:-6000x4000}
W=${SIZE%x*}; H=${SIZE#*x}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
[ -n "${SKIP_BUILD:-}" ] || (cd "$ROOT" && cargo build --release -q -p rawflow-benches --bins && cargo build --release -q -p rawflow-corpus)
BIN=$CARGO_TARGET_DIR/release
"$BIN/rawflow-corpus" scene chart --size "$SIZE" --out "$WORK/in.dng" >/dev/null
IN=$WORK/in.dng
MP=$(awk "BEGIN{print $W*$H/1e6}")

declare -a NAMES JOBS SECS RSS
# run NAME JOB COMMAND: time COMMAND (a bash string) REPS times.
run() {
  local name=$1 job=$2 cmd=$3 times=() rss=0
  for _ in $(seq "$REPS"); do
    /usr/bin/time -f "%e %M" -o "$WORK/time" bash -c "$cmd" >/dev/null 2>"$WORK/err" || {
      echo "failed: $name ($job): $(tail -1 "$WORK/err")" >&2; return 0; }
    read -r t m < <(tail -1 "$WORK/time")
    times+=("$t"); (( m > rss )) && rss=$m
  done
  local med
  med=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  NAMES+=("$name"); JOBS+=("$job"); SECS+=("$med"); RSS+=("$rss")
}

O=$WORK/out
run "rawflow (fast)" "studio: full JPEG q90 + 2048 JPEG q90" "'$BIN/studio' '$IN' '$O' fast both"
run "rawflow (fast)" "full JPEG q90" "'$BIN/studio' '$IN' '$O' fast full"
run "rawflow (fast)" "2048 JPEG q90" "'$BIN/studio' '$IN' '$O' fast web"
run "rawflow (best)" "studio: full JPEG q90 + 2048 JPEG q90" "'$BIN/studio' '$IN' '$O' best both"
DC="-w -W -H 0 -o 1 -g 2.4 12.92"
if command -v dcraw_emu >/dev/null; then
  run "dcraw_emu AHD (LibRaw)" "full 16-bit TIFF (develop only)" "dcraw_emu $DC -c 0 -6 -T -q 3 -Z '$WORK/e.tiff' '$IN'"
  if command -v cjpeg >/dev/null; then
    run "dcraw_emu AHD + cjpeg" "full JPEG q90" "dcraw_emu $DC -c 0 -q 3 -Z - '$IN' | cjpeg -quality 90 > '$WORK/e.jpg'"
  fi
fi
if command -v dcraw >/dev/null; then
  run "dcraw AHD" "full 16-bit TIFF (develop only)" "dcraw -c $DC -6 -T -q 3 '$IN' > '$WORK/d.tiff'"
  if command -v cjpeg >/dev/null; then
    run "dcraw AHD + cjpeg" "full JPEG q90" "dcraw -c $DC -q 3 '$IN' | cjpeg -quality 90 > '$WORK/d.jpg'"
  fi
fi
if command -v rawtherapee-cli >/dev/null; then
  printf '[RAW Bayer]\nMethod=rcd\n' > "$WORK/rt-rcd.pp3"
  run "RawTherapee RCD" "full JPEG q90" "rawtherapee-cli -q -Y -j90 -o '$WORK/rt.jpg' -p '$ROOT/benches/peers/rt-neutral.pp3' -p '$WORK/rt-rcd.pp3' -c '$IN'"
fi
if command -v darktable-cli >/dev/null; then
  # darktable refuses to overwrite, and keeps state in its config folder.
  DT="--core --configdir '$WORK/dtconf' --library :memory: --disable-opencl --conf plugins/darkroom/workflow=none --conf plugins/imageio/format/jpeg/quality=90"
  run "darktable (workflow none)" "full JPEG q90" "rm -f '$WORK/dt.jpg'; darktable-cli '$IN' '$WORK/dt.jpg' --apply-custom-presets false $DT"
fi

BASE=${SECS[0]}
echo "Input: synthetic ${SIZE} DNG (${MP} MP, 14-bit RGGB), $(nproc) vCPUs, median of $REPS runs, $(date -u +%Y-%m-%d)."
echo
echo "| tool | job | median s | MP/s | peak RSS MB | time vs rawflow studio job |"
echo "|---|---|---:|---:|---:|---:|"
for i in "${!NAMES[@]}"; do
  awk -v n="${NAMES[$i]}" -v j="${JOBS[$i]}" -v s="${SECS[$i]}" -v m="${RSS[$i]}" -v mp="$MP" -v b="$BASE" \
    'BEGIN{ printf "| %s | %s | %.2f | %.1f | %.0f | %.2f× |\n", n, j, s, (s>0? mp/s : 0), m/1024, (b>0? s/b : 0) }'
done
