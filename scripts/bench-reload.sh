#!/bin/sh
# Memory across reloads: CHECKS (100) checks each of logtail and accesslog
# in their shared plugin processes, RELOADS (1000) reloads over HTTP, the
# PSS of the agent and each plugin printed every 100; first an unchanged
# config, then every other reload removing every check. The figures must
# stay flat within a few MiB (docs/design.md records them).
set -eu
cd "$(dirname "$0")/.."
work=${WORKDIR:-$(mktemp -d)}
[ -n "${WORKDIR:-}" ] || trap 'rm -rf "$work"' EXIT
go build -o "$work/pbxwatch" ./agent
ln -sfn pbxwatch "$work/pbxwatch-plugin-logtail"
ln -sfn pbxwatch "$work/pbxwatch-plugin-accesslog"
for mode in same churn; do
	go run ./bench/reload -agent "$work/pbxwatch" \
		-plugins "$work/pbxwatch-plugin-logtail,$work/pbxwatch-plugin-accesslog" \
		-checks "${CHECKS:-100}" -reloads "${RELOADS:-1000}" -every 100 -mode "$mode"
done
