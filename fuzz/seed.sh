#!/bin/sh
# Copies the test inputs into fuzz/corpus/<target>/ as seeds. The corpora
# are not committed (fuzz/.gitignore): run this before the first
# `cargo +nightly fuzz run`, and again to add seeds to a grown corpus.
#
#   input          tests/corpus/*, tests/exports/*, samples/*
#   input_options  the same, each with a few different option bytes in front
#   read           the same as input_options
#   rules          rules/*.toml, tests/corpus/*.toml, and the rules of every
#                  case in tests/cases/*.toml
set -eu
cd "$(dirname "$0")/.."
out=fuzz/corpus
mkdir -p "$out/input" "$out/input_options" "$out/read" "$out/rules"

for f in tests/corpus/*.csv tests/corpus/*.tsv tests/exports/*.csv samples/*.csv; do
    name=$(echo "$f" | tr / _)
    cp "$f" "$out/input/$name"
    # Option bytes (see fuzz_targets/input_options.rs): defaults; tiny
    # limits; tiny limits + pad + keep + no sanitising; `;` given;
    # windows-1252 given.
    for flags in 000 001 017 040 200; do
        { printf "\\$flags"; cat "$f"; } > "$out/input_options/$flags-$name"
        cp "$out/input_options/$flags-$name" "$out/read/$flags-$name"
    done
done

for f in rules/*.toml tests/corpus/*.toml; do
    cp "$f" "$out/rules/$(echo "$f" | tr / _)"
done
# The rules text of each case: the lines between `rules = '''` and `'''`.
for f in tests/cases/*.toml; do
    awk -v base="$out/rules/$(basename "$f" .toml)-case-" '
        /^rules = '"'''"'$/ { n++; inside = 1; next }
        inside && /^'"'''"'$/ { inside = 0; next }
        inside { print > (base n ".toml") }
    ' "$f"
done
for t in input input_options read rules; do
    echo "fuzz/corpus/$t: $(ls "$out/$t" | wc -l) files"
done
