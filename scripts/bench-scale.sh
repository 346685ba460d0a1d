#!/bin/sh
# The agent at scale: N checks of the no-op plugin, sharing one plugin
# process (protocol 2), then each in its own (isolate: true, the model
# before). Prints processes, threads, PSS (agent and plugins), start and
# reload times. Env: CHECKS (10,100,1000), ISOLATED_CHECKS (10,100; 1000
# needs ~4 GB and ~8,000 tasks), WORKDIR (a temporary directory, removed
# after).
set -eu
cd "$(dirname "$0")/.."
work=${WORKDIR:-$(mktemp -d)}
[ -n "${WORKDIR:-}" ] || trap 'rm -rf "$work"' EXIT
go build -o "$work/pbxwatch" ./agent
go build -o "$work/pbxwatch-plugin-noop" github.com/pbxwatch/pbxwatch/sdk/pluginhost/internal/testplugins/noop
go run ./bench/scale -agent "$work/pbxwatch" -plugin "$work/pbxwatch-plugin-noop" -checks "${CHECKS:-10,100,1000}"
go run ./bench/scale -agent "$work/pbxwatch" -plugin "$work/pbxwatch-plugin-noop" -checks "${ISOLATED_CHECKS:-10,100}" -isolate
