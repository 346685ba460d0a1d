package main

import (
	"encoding/json"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
)

const v1PluginPkg = "github.com/pbxwatch/pbxwatch/sdk/pluginhost/internal/testplugins/v1plugin"

// TestCheckCommandRunsProtocolV1Plugin: a plugin binary of protocol
// version 1, with its handshake frozen as shipped, works with
// `pbxwatch check` (the host half is sdk/pluginhost's
// TestProtocolV1PluginStillRuns).
func TestCheckCommandRunsProtocolV1Plugin(t *testing.T) {
	in := agenttest.New(t)
	in.AddPlugin("v1plugin", v1PluginPkg)
	in.WriteConfig(agenttest.Checks(agenttest.Check{Name: "old", Plugin: "v1plugin"}))
	res := in.Run("check", "--config.file="+in.Config, "--output=json", "old")
	if res.Exit != 1 {
		t.Fatalf("want exit 1 (WARNING): exit %d\n%s%s", res.Exit, res.Stdout, res.Stderr)
	}
	var run struct{ Status, Summary string }
	if err := json.Unmarshal([]byte(res.Stdout), &run); err != nil || run.Status != "WARNING" || run.Summary != "v1 plugin answering for old" {
		t.Fatalf("%v\n%s", err, res.Stdout)
	}
}
