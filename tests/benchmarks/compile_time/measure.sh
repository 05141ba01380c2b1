#!/usr/bin/env bash
# Compile time of a user's file (docs/getting-started.md, "Compile time"): CPU seconds and
# compiler memory of explain_small_cnn.cpp header-only and with patternnet::precompiled,
# and of eigen_only.cpp; both programs are linked and run (they must print the same sums).
# Usage: tests/benchmarks/compile_time/measure.sh [BUILD_DIR]   (default build/dev, which
# must hold libpatternnet_precompiled.a: cmake --build build/dev --target patternnet_precompiled)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=$(cd "${1:-$root/build/dev}" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
flags=(-std=c++20 -O2 -I"$root/include" -isystem /usr/include/eigen3)
measure() {  # name, extra flags..., source
  local name=$1; shift
  /usr/bin/time -f "%U %S %M" -o "$out/$name.time" g++ "${flags[@]}" "$@" -c -o "$out/$name.o"
  read -r user sys rss < "$out/$name.time"
  printf '%-28s %6.2f s CPU (user %.2f + sys %.2f)  %5d MB max RSS\n' "$name" "$(awk "BEGIN{print $user + $sys}")" "$user" "$sys" $((rss / 1024))
}
measure header-only "$here/explain_small_cnn.cpp"
measure precompiled -DPATTERNNET_PRECOMPILED "$here/explain_small_cnn.cpp"
measure eigen-only "$here/eigen_only.cpp"
g++ "$out/header-only.o" -lfmt -o "$out/header-only"
# -fopenmp: the component is built with OpenMP when it is found (its libgomp calls)
g++ "$out/precompiled.o" "$build/libpatternnet_precompiled.a" -fopenmp -lfmt -o "$out/precompiled"
echo "header-only run: $("$out/header-only")"
echo "precompiled run: $("$out/precompiled")"
