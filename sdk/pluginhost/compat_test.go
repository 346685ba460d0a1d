package pluginhost_test

import (
	"context"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/internal/buildtest"
	"github.com/pbxwatch/pbxwatch/sdk/pluginhost"
)

const v1Pkg = "github.com/pbxwatch/pbxwatch/sdk/pluginhost/internal/testplugins/v1plugin"

// TestProtocolV1PluginStillRuns: a plugin binary of protocol version 1,
// with its handshake frozen as shipped, works with this host (the agent's
// `pbxwatch check` runs it in agent/protocolv1_e2e_test.go).
func TestProtocolV1PluginStillRuns(t *testing.T) {
	bin := buildtest.Build(t, v1Pkg)
	h, err := pluginhost.Start(context.Background(), pluginhost.Spec{Check: "old", Plugin: "v1plugin", Binary: bin, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	res := h.Run(context.Background(), 5*time.Second)
	if res.Status != sdk.StatusWarning || res.Summary != "v1 plugin answering for old" || len(res.Diagnoses) != 1 ||
		res.Diagnoses[0].Code != "v1.example" || res.Diagnoses[0].Details["protocol"] != "1" || len(res.Metrics) != 1 || res.Metrics[0].Labels["k"] != "v" {
		t.Fatalf("%+v", res)
	}

}
