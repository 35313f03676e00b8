#!/bin/sh
# Installs what the report tests drive: headless Chromium (HTML report), Go's pprof
# (pprof export) and python3-jsonschema (speedscope export). Safe to run repeatedly;
# called from the project's test set-up. Needs root and Debian's package lists.
set -e
need=""
command -v chromium >/dev/null 2>&1 || need="$need chromium"
command -v go >/dev/null 2>&1 || need="$need golang-go"
python3 -c 'import jsonschema' >/dev/null 2>&1 || need="$need python3-jsonschema"
if [ -n "$need" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "ensure-chromium: missing:$need (run as root to install)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends $need >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends $need >/dev/null; }
fi
# Debian's python3-jsonschema lands in the system python; a pyenv python needs pip's.
python3 -c 'import jsonschema' >/dev/null 2>&1 || python3 -m pip install -q jsonschema
command -v chromium
