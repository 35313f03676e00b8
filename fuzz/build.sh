#!/usr/bin/env bash
# Builds the libFuzzer targets under fuzz/targets into fuzz/.build/ with
# `swiftc -sanitize=fuzzer,address`. SwiftPM cannot build a libFuzzer executable against
# the package's non-product targets, so this compiles the few library sources each
# reader needs straight from Sources/ (no copies; the readers fuzzed are the real ones).
#
#   fuzz/build.sh            build every target
#   fuzz/build.sh profile    build one (profile | proc | elf)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/fuzz/.build"
mkdir -p "$out/modules"
SWIFTC="${SWIFTC:-swiftc}"
# -sanitize=fuzzer adds coverage instrumentation to everything compiled; address catches
# out-of-bounds reads that would otherwise go unnoticed. -O so runs are fast.
FLAGS=(-sanitize=fuzzer,address -O -parse-as-library -suppress-warnings)
model_sources=("$root"/Sources/ForkcastModel/*.swift)

# ForkcastModel as a static library + module, for targets in other modules.
build_model_module() {
    local stamp="$out/modules/ForkcastModel.stamp"
    if [[ -f "$stamp" ]] && [[ -z "$(find "$root/Sources/ForkcastModel" -newer "$stamp" -name '*.swift')" ]]; then return; fi
    (cd "$out/modules" && "$SWIFTC" "${FLAGS[@]}" -module-name ForkcastModel -I "$root/Sources/CZlib" \
        -emit-module -emit-module-path "$out/modules/ForkcastModel.swiftmodule" \
        -emit-library -static -o "$out/modules/libForkcastModel.a" "${model_sources[@]}")
    touch "$stamp"
}

build_target() {
    local name="$1"
    if [[ -x "$out/fuzz-$name" ]] && [[ -z "$(find "$root/Sources/ForkcastModel" "$root/Sources/ForkcastSystem" \
            "$root/fuzz/targets" "$root/fuzz/build.sh" -newer "$out/fuzz-$name" -type f)" ]]; then
        return  # up to date
    fi
    echo "building fuzz-$name" >&2
    rm -f "$out/fuzz-$name"
    case "$name" in
    profile)
        # The harness joins the module itself: Profile.decode and friends are public anyway.
        "$SWIFTC" "${FLAGS[@]}" -module-name ForkcastModel -I "$root/Sources/CZlib" \
            "${model_sources[@]}" "$root/fuzz/targets/ProfileDecodeFuzz.swift" -lz -o "$out/fuzz-profile" ;;
    proc)
        build_model_module
        "$SWIFTC" "${FLAGS[@]}" -module-name ForkcastSystem -I "$out/modules" -I "$root/Sources/CZlib" -L "$out/modules" -lForkcastModel -lz \
            "$root/Sources/ForkcastSystem/ProcFS.swift" "$root/Sources/ForkcastSystem/ProcBytes.swift" "$root/Sources/ForkcastSystem/ProcMaps.swift" "$root/Sources/ForkcastSystem/SystemError.swift" \
            "$root/fuzz/targets/ProcParseFuzz.swift" -o "$out/fuzz-proc" ;;
    elf)
        build_model_module
        "$SWIFTC" "${FLAGS[@]}" -module-name ForkcastSystem -I "$out/modules" -I "$root/Sources/CZlib" -I "$root/Sources/CElf" \
            -L "$out/modules" -lForkcastModel -lz -lelf \
            "$root/Sources/ForkcastSystem/Symbols/ElfFile.swift" "$root/Sources/ForkcastSystem/Symbols/SymbolTable.swift" "$root/Sources/ForkcastSystem/ProcMaps.swift" \
            "$root/fuzz/targets/ElfFileFuzz.swift" -o "$out/fuzz-elf" ;;
    *) echo "fuzz/build.sh: unknown target '$name' (profile, proc, elf)" >&2; exit 2 ;;
    esac
}

targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(profile proc elf)
for t in "${targets[@]}"; do build_target "$t" 2>&1 | grep -v "Cannot export local symbol" >&2 || true; [[ -x "$out/fuzz-$t" ]] || { echo "fuzz/build.sh: fuzz-$t failed to build" >&2; exit 1; }; done
