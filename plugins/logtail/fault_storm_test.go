package logtail

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil/stormtest"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// TestFaultNumberedRotationStorm is issue 23 item 4 as reported: a writer
// at 50,000 lines/s rotating every 100 ms to .1, .2, … (every rotation
// shifting every number, the writer still writing to the renamed file for
// a moment), runs at random moments, both CPUs busy; 3,000,000 lines must
// be counted exactly once (they were counted +52,000). Part of the fault
// suite (make fault); the tail package runs a short storm in the normal
// tests.
func TestFaultNumberedRotationStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("a minute of storm; the short storm is internal/tailfile's TestNumberedRotationStormUnderLoad")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "freepbx.log")
	c := mustChecker(t, "path: "+path+"\nstart_at: beginning\n", t.TempDir())
	stormtest.Burn(t, 2)
	s := stormtest.Start(t, stormtest.Config{Path: path, Rate: 50000, Every: 100 * time.Millisecond,
		Linger: 20 * time.Millisecond, Line: logLine})
	f := stormtest.Drive(t, s, 60*time.Second, time.Second, 5*time.Second, func() int64 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := c.Check(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return int64(sdktest.MetricSum(res, "logtail_lines_total", nil))
	})
	t.Logf("logtail storm: %s", f)
	if f.Counted != f.Written {
		t.Fatalf("%s; files: %v", f, stormtest.Files(path))
	}
}
