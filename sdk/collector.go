package sdk

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the garbage collector's target Serve sets for a
// plugin. A plugin process keeps a live heap of 1-3 MiB and sits beside
// the agent on a small host: at Go's default (100) it holds twice its live
// data, at 50 one and a half times, for collections of such a heap that
// take well under a millisecond. The agent runs its own process at the
// same setting (agent/main.go; docs/design.md "One binary for the agent
// and the bundled plugins").
const defaultGCPercent = 50

// setCollectorDefault applies defaultGCPercent unless the operator set
// GOGC (the agent passes its environment on, so GOGC in
// /etc/default/pbxwatch reaches every plugin) or the plugin's main chose
// its own percentage before calling Serve.
func setCollectorDefault() {
	if os.Getenv("GOGC") != "" {
		return
	}
	if previous := debug.SetGCPercent(defaultGCPercent); previous != 100 {
		debug.SetGCPercent(previous)
	}
}
