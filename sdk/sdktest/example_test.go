package sdktest_test

import (
	"context"
	"testing"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// A plugin's test builds its binary and runs it out of process, through
// the agent's own plugin host: the handshake, config line mapping, secret
// scrubbing and timeouts are all the real ones.
func Example() {
	_ = testMyPlugin // in your plugin's _test.go: func TestMyPlugin(t *testing.T)
}

func testMyPlugin(t *testing.T) {
	bin := sdktest.Build(t, "example.com/pbxwatch-plugin-mycheck")
	p, err := sdktest.Start(t, bin, sdktest.Options{Config: "address: 127.0.0.1:5061\n"})
	if sdktest.IsConfigError(err) {
		t.Fatalf("config rejected: %v", err) // names "config:LINE"
	}
	if err != nil {
		t.Fatal(err)
	}
	res := p.Check(context.Background())
	if res.Status != sdk.StatusOK {
		t.Fatalf("%v %s %+v\nplugin log:\n%s", res.Status, res.Summary, res.Diagnoses, p.Logs())
	}
}
