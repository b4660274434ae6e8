#!/bin/sh
# Seed the fuzz corpora: every real RAW of $RAWFLOW_CORPUS/raw (else the shipped
# testdata/raw) plus a few small
# synthetic DNGs (rawflow-corpus), into fuzz/corpus/<target>/ (git-ignored).
#
#   fuzz/seed.sh && cd fuzz && cargo +nightly fuzz run decode
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
corpus=${RAWFLOW_CORPUS:-$root/testdata}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ -d "$corpus/raw" ]; then
    for f in "$corpus"/raw/*; do
        case "$f" in *.md|*.tsv|*.txt) continue ;; esac
        [ -f "$f" ] && cp "$f" "$tmp/"
    done
else
    echo "seed.sh: no real corpus at $corpus/raw (set RAWFLOW_CORPUS); synthetic seeds only" >&2
fi

# Small synthetic DNGs: procedural scenes, several CFA layouts and bit depths.
i=0
for spec in "chart 96x64 rggb 14" "checker 64x64 gbrg 12" "zoneplate 96x96 xtrans 14" "huesweep 128x32 bggr 16"; do
    set -- $spec
    cargo run -q -p rawflow-corpus --manifest-path "$root/Cargo.toml" -- \
        scene "$1" --out "$tmp/synthetic-$i.dng" --size "$2" --phase "$3" --bits "$4"
    i=$((i + 1))
done

# Lossless-JPEG DNGs (tiles and one strip), and their JPEG streams alone for
# the ljpeg target (which puts a stream that starts with SOI into a template).
i=0
for spec in "chart 96x64 rggb 14 ljpeg-tiles" "zoneplate 300x200 gbrg 12 ljpeg-tiles" \
            "chart 96x64 bggr 16 ljpeg-strip" "huesweep 130x40 xtrans 14 ljpeg-strip"; do
    set -- $spec
    cargo run -q -p rawflow-corpus --manifest-path "$root/Cargo.toml" -- \
        scene "$1" --out "$tmp/ljpeg-$i.dng" --size "$2" --phase "$3" --bits "$4" --compression "$5"
    i=$((i + 1))
done
# Streams for the ljpeg target's 64x48 template: every predictor, 1, 2 and 4
# components, restart markers, two rows per line.
mkdir -p "$tmp/streams" "$tmp/st"
i=0
for spec in "12 ljpeg-strip" "14 ljpeg:components=1,predictor=4" "16 ljpeg:components=4,predictor=7,restart=4" \
            "14 ljpeg:predictor=2,restart=1" "12 ljpeg:predictor=3" "14 ljpeg:predictor=5,components=1" \
            "16 ljpeg:predictor=6,rows-per-line=2"; do
    set -- $spec
    cargo run -q -p rawflow-corpus --manifest-path "$root/Cargo.toml" -- \
        scene zoneplate --out "$tmp/st/s$i.dng" --size 64x48 --bits "$1" --compression "$2"
    i=$((i + 1))
done
python3 - "$tmp" <<'PY'
import sys, pathlib
tmp = pathlib.Path(sys.argv[1])
for f in sorted((tmp / "st").glob("*.dng")):
    b = f.read_bytes()
    at = b.find(b"\xff\xd8\xff")
    if at >= 0:
        (tmp / "streams" / (f.stem + ".ljpeg")).write_bytes(b[at:at + 65536])
PY

for target in decode develop; do
    mkdir -p "$here/corpus/$target"
    cp "$tmp"/*.* "$here/corpus/$target/"
done
mkdir -p "$here/corpus/ljpeg"
cp "$tmp"/ljpeg-*.dng "$tmp"/streams/* "$here/corpus/ljpeg/"
echo "seeded $(ls "$tmp" | wc -l) files into $here/corpus/{decode,develop}, $(ls "$here/corpus/ljpeg" | wc -l) into $here/corpus/ljpeg"
