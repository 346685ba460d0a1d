#!/bin/sh
# Side-by-side: the logtail plugin (through the plugin transport, as the
# agent runs it) vs grep -cE on the same patterns vs mtail --one_shot,
# reading a generated 256 MiB FreePBX-style log from its start. After an
# unreported warm-up round, each round runs every tool once, back to back
# in alternating order, so the load of the moment weighs on all of them;
# prints each round's load average, MB/s and logtail/grep ratio (by the
# clock and by CPU time), the smallest ratio, medians and peak RSS.
# Needs: go, grep, mtail (Debian package mtail; MTAIL=0 skips it).
# Env: SIZE_MIB (256), RUNS (5 rounds), WORKDIR (a temporary directory,
# removed afterwards), MTAIL (1).
set -eu
cd "$(dirname "$0")/.."
mtail=
if [ "${MTAIL:-1}" = 0 ]; then
	mtail=-no-mtail
else
	command -v mtail >/dev/null || { echo "bench-logtail: mtail not found (apt-get install mtail, or MTAIL=0)" >&2; exit 1; }
fi
work=${WORKDIR:-$(mktemp -d)}
[ -n "${WORKDIR:-}" ] || trap 'rm -rf "$work"' EXIT
# The plugin as shipped: a link to the agent's multi-call binary.
CGO_ENABLED=0 go build -trimpath -o "$work/pbxwatch" ./agent
ln -sfn pbxwatch "$work/pbxwatch-plugin-logtail"
go build -o "$work/logtail-bench" ./bench/logtail
"$work/logtail-bench" -workdir "$work" -plugin "$work/pbxwatch-plugin-logtail" \
	-mtail-prog bench/logtail/freepbx.mtail -size "${SIZE_MIB:-256}" -runs "${RUNS:-5}" $mtail
