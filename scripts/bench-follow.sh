#!/bin/sh
# Line written -> event alert received (issue 22): the agent following a
# logtail and an accesslog check (scheduled hourly), its alerts POSTed to a
# loopback Alertmanager stand-in, beside mtail's line -> /metrics on the
# same file; 200 lines at random moments, a numbered rotation half-way.
# Prints median and p99. Needs: go, mtail (Debian package mtail; skipped
# with a note without it). Env: LINES (200), WORKDIR (temporary).
set -eu
cd "$(dirname "$0")/.."
work=${WORKDIR:-$(mktemp -d)}
[ -n "${WORKDIR:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work/plugins"
go build -o "$work/pbxwatch" ./agent
# The bundled plugins are links to the agent's binary (docs/design.md).
ln -sfn ../pbxwatch "$work/plugins/pbxwatch-plugin-logtail"
ln -sfn ../pbxwatch "$work/plugins/pbxwatch-plugin-accesslog"
go build -o "$work/follow-bench" ./bench/follow
"$work/follow-bench" -agent "$work/pbxwatch" -plugin-dir "$work/plugins" \
	-mtail-prog bench/follow/latency.mtail -workdir "$work" -lines "${LINES:-200}"
