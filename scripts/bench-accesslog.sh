#!/bin/sh
# Side-by-side: the accesslog plugin (through the plugin transport, as the
# agent runs it) vs goaccess vs mtail --one_shot, reading a generated
# 256 MiB Apache combined-format access log of a FreePBX host from its
# start. Prints seconds, MB/s, lines/s, ratios and peak RSS.
# Needs: go, goaccess and mtail (Debian packages). Env: SIZE_MIB (256),
# RUNS (3), WORKDIR (a temporary directory, removed afterwards).
set -eu
cd "$(dirname "$0")/.."
command -v goaccess >/dev/null || { echo "bench-accesslog: goaccess not found (apt-get install goaccess)" >&2; exit 1; }
mtail=
command -v mtail >/dev/null || mtail=-no-mtail
work=${WORKDIR:-$(mktemp -d)}
[ -n "${WORKDIR:-}" ] || trap 'rm -rf "$work"' EXIT
go build -o "$work/pbxwatch-plugin-accesslog" ./plugins/accesslog
go build -o "$work/accesslog-bench" ./bench/accesslog
"$work/accesslog-bench" -workdir "$work" -plugin "$work/pbxwatch-plugin-accesslog" \
	-mtail-prog bench/accesslog/accesslog.mtail -size "${SIZE_MIB:-256}" -runs "${RUNS:-3}" $mtail
