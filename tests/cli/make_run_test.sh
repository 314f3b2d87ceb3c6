#!/usr/bin/env bash
# The README's first command, `make run`, must start the server binary that CMake builds: the
# path in the Makefile's run recipe, below its release folder, is the one this build's
# chartkeeper has below its build folder. (It once named a path nothing built.)
# Usage: make_run_test.sh SOURCE_DIR BUILD_DIR BINARY
set -euo pipefail
source_dir=$1 build_dir=$2 binary=$3
relative=$(realpath --relative-to="$build_dir" "$binary")
recipe=$(make -s -n -C "$source_dir" run)
if ! grep -qF "/$relative serve" <<<"$recipe"; then
  echo "make run does not start .../$relative; its recipe is:" >&2
  echo "$recipe" >&2
  exit 1
fi
echo "make run starts .../$relative"
