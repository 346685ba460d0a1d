package freepbx

import (
	"context"
	"testing"
	"time"
)

// BenchmarkCheckRun is one full run (token, claims, probe, extensions)
// against the simulator over loopback HTTP.
func BenchmarkCheckRun(b *testing.B) {
	c, err := configure(b, scenarioCase{clientID: "ok", extra: "expected_extensions: ['2000']\n"}.block(b, 17))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if res := run(ctx, &c.cfg, c.client, c.rec); res.Status != 0 {
			b.Fatalf("%s", res.Summary)
		}
		cancel()
	}
}
