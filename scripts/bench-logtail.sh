#!/bin/sh
# Side-by-side: the logtail plugin (through the plugin transport, as the
# agent runs it) vs mtail --one_shot vs grep -cE, reading a generated
# 256 MiB FreePBX-style log from its start. Prints MB/s, ratios and peak RSS.
# Needs: go, grep, mtail (Debian package mtail). Env: SIZE_MIB (256),
# RUNS (3), WORKDIR (a temporary directory, removed afterwards).
set -eu
cd "$(dirname "$0")/.."
command -v mtail >/dev/null || { echo "bench-logtail: mtail not found (apt-get install mtail)" >&2; exit 1; }
work=${WORKDIR:-$(mktemp -d)}
[ -n "${WORKDIR:-}" ] || trap 'rm -rf "$work"' EXIT
go build -o "$work/pbxwatch-plugin-logtail" ./plugins/logtail
go build -o "$work/logtail-bench" ./bench/logtail
"$work/logtail-bench" -workdir "$work" -plugin "$work/pbxwatch-plugin-logtail" \
	-mtail-prog bench/logtail/freepbx.mtail -size "${SIZE_MIB:-256}" -runs "${RUNS:-3}"
