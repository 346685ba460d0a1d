package pluginhost_test

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/internal/buildtest"
	"github.com/pbxwatch/pbxwatch/sdk/pluginhost"
)

const noopPkg = "github.com/pbxwatch/pbxwatch/sdk/pluginhost/internal/testplugins/noop"

// BenchmarkRoundTrip is what the agent adds to a check: one Run through a
// long-lived plugin process over gRPC (mutual TLS), result converted.
func BenchmarkRoundTrip(b *testing.B) {
	h, err := pluginhost.Start(context.Background(), pluginhost.Spec{
		Check: "bench", Plugin: "noop", Binary: buildtest.Build(b, noopPkg),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res := h.Run(ctx, 10*time.Second); res.Status != sdk.StatusOK {
			b.Fatalf("%v %s", res.Status, res.Summary)
		}
	}
}

// BenchmarkForkExecNagiosPlugin is the Nagios model for comparison: a new
// process per run, its exit code the status. check_dummy is the smallest
// real Nagios plugin (C, from monitoring-plugins-basic).
func BenchmarkForkExecNagiosPlugin(b *testing.B) {
	const checkDummy = "/usr/lib/nagios/plugins/check_dummy"
	if _, err := os.Stat(checkDummy); err != nil {
		b.Skip("check_dummy not installed (Debian monitoring-plugins-basic)")
	}
	for i := 0; i < b.N; i++ {
		out, err := exec.Command(checkDummy, "0", "ok").Output()
		if err != nil || len(out) == 0 {
			b.Fatalf("%v %q", err, out)
		}
	}
}

// BenchmarkForkExecGoBinary is the fork/exec model with a Go plugin binary
// of the size ours have, which starts slower than a small C program.
func BenchmarkForkExecGoBinary(b *testing.B) {
	bin := buildtest.Build(b, noopPkg)
	for i := 0; i < b.N; i++ {
		// Run without the handshake cookie, the binary prints its "this is
		// a plugin" notice and exits 1: a full process start and exit.
		cmd := exec.Command(bin)
		_ = cmd.Run()
		if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1 {
			b.Fatalf("unexpected exit: %v", cmd.ProcessState)
		}
	}
}
