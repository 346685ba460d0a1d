#!/bin/sh
# What one agent with the demo's checks pushes by remote write, per host per
# day, and the projection for 1,000 hosts (docs/fleet.md records the figures).
# Needs `make build` (bin/pbxwatch, the plugins, bin/pbxwatch-demo) and the
# demo's ports 9851, 9861-9863 free.
set -eu
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
DURATION=${DURATION:-3m}
echo "remote write with the demo's checks ($DURATION):"
go run ./bench/remotewrite -bin-dir "$BIN" -duration "$DURATION"
