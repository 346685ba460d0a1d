#!/bin/sh
# Side-by-side: the accesslog plugin (through the plugin transport, as the
# agent runs it) vs grep -cE selecting the failed API requests vs goaccess
# vs mtail --one_shot, reading a generated 256 MiB Apache combined-format
# access log of a FreePBX host from its start. After an unreported warm-up
# round, each round runs every tool once, back to back in alternating
# order, so the load of the moment weighs on all of them; prints each
# round's load average, MB/s and accesslog/grep ratio (by the clock and by
# CPU time), the smallest ratio, medians, lines/s and peak RSS.
# Needs: go, grep, goaccess and mtail (Debian packages; GOACCESS=0 or
# MTAIL=0 skips one). Env: SIZE_MIB (256), RUNS (3 rounds), WORKDIR (a
# temporary directory, removed afterwards).
set -eu
cd "$(dirname "$0")/.."
skip=
if [ "${GOACCESS:-1}" = 0 ]; then
	skip=-no-goaccess
else
	command -v goaccess >/dev/null || { echo "bench-accesslog: goaccess not found (apt-get install goaccess, or GOACCESS=0)" >&2; exit 1; }
fi
if [ "${MTAIL:-1}" = 0 ] || ! command -v mtail >/dev/null; then
	skip="$skip -no-mtail"
fi
work=${WORKDIR:-$(mktemp -d)}
[ -n "${WORKDIR:-}" ] || trap 'rm -rf "$work"' EXIT
# The plugin as shipped: a link to the agent's multi-call binary.
CGO_ENABLED=0 go build -trimpath -o "$work/pbxwatch" ./agent
ln -sfn pbxwatch "$work/pbxwatch-plugin-accesslog"
go build -o "$work/accesslog-bench" ./bench/accesslog
"$work/accesslog-bench" -workdir "$work" -plugin "$work/pbxwatch-plugin-accesslog" \
	-mtail-prog bench/accesslog/accesslog.mtail -size "${SIZE_MIB:-256}" -runs "${RUNS:-3}" $skip
