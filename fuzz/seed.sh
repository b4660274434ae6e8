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

for target in decode develop; do
    mkdir -p "$here/corpus/$target"
    cp "$tmp"/* "$here/corpus/$target/"
done
echo "seeded $(ls "$tmp" | wc -l) files into $here/corpus/{decode,develop}"
