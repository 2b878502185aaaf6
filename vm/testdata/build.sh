#!/bin/sh
# Builds every test contract under vm/testdata/<name>/ to <out>/<name>.wasm.
# Usage: vm/testdata/build.sh [outdir]   (default: vm/testdata/out)
# The tests (TestMain in vm) build them on their own into a temp dir; the
# .wasm files are build products, never committed.
set -eu
cd "$(dirname "$0")/../.."
out=${1:-vm/testdata/out}
mkdir -p "$out"
for d in vm/testdata/*/; do
	name=$(basename "$d")
	[ -f "$d/main.go" ] || continue
	GOOS=wasip1 GOARCH=wasm go build -trimpath -buildmode=c-shared -o "$out/$name.wasm" "./$d"
	echo "$out/$name.wasm $(wc -c < "$out/$name.wasm") bytes"
done
