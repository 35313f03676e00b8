# Shared set-up of the benchmarks that run `forkcast record` against py-spy (overhead/,
# rate/): sourced by their run.sh after it sets `here` (its folder) and `build` (a
# scratch folder inside it). Each function prints what it does as `bench: …` on stderr
# and stops the benchmark with one line when something cannot be prepared.

root="$(cd "$here/../.." && pwd)"
mkdir -p "$build"

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# Sets bench_python: the real interpreter behind ${PYTHON:-python3}. pyenv's `python3`
# is a shell shim; profilers must see CPython itself.
bench_resolve_python() {
    local python_cmd="${PYTHON:-python3}"
    command -v "$python_cmd" >/dev/null || die "no $python_cmd: install Python 3 (apt-get install -y python3)"
    bench_python="$("$python_cmd" -c 'import os, sys; print(os.path.realpath(sys.executable))')"
}

# Sets FORKCAST to a release build of forkcast unless it is set already.
bench_build_forkcast() {
    if [[ -z "${FORKCAST:-}" ]]; then
        say "building forkcast (swift build -c release)"
        (cd "$root" && swift build -c release --product forkcast >"$build/swift-build.log" 2>&1) \
            || { tail -20 "$build/swift-build.log" >&2; die "swift build failed (log: $build/swift-build.log)"; }
        FORKCAST="$root/.build/release/forkcast"
    fi
    [[ -x "$FORKCAST" ]] || die "forkcast binary not found at $FORKCAST"
}

# bench_compile_c NAME: builds $here/NAME.c into $build/NAME like a typical release
# binary (-O2, unwind tables, no frame pointers).
bench_compile_c() {
    local cc="${CC:-cc}"
    command -v "$cc" >/dev/null || die "no C compiler ($cc): apt-get install -y gcc"
    "$cc" -O2 -g -pthread -o "$build/$1" "$here/$1.c" || die "could not compile $1.c"
}

# Sets py_spy: py-spy from bench_python's scripts folder or PATH, installed with pip when
# missing; empty (its rows skipped) when that fails.
bench_find_py_spy() {
    local scripts
    scripts="$("$bench_python" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
    py_spy="$scripts/py-spy"
    [[ -x "$py_spy" ]] || py_spy="$(command -v py-spy || true)"
    if [[ -z "$py_spy" ]]; then
        say "installing py-spy (pip)"
        "$bench_python" -m pip install --quiet py-spy || say "pip install py-spy failed: the py-spy rows are skipped"
        py_spy="$scripts/py-spy"
        [[ -x "$py_spy" ]] || py_spy=""
    fi
}
