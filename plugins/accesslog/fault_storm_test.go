package accesslog

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil/stormtest"
)

// TestFaultNumberedRotationStorm is issue 23 item 4 for the access log:
// 50,000 requests/s, numbered rotation every 100 ms with the writer still
// on the renamed file for a moment, runs at random moments, both CPUs
// busy; 3,000,000 requests counted exactly once (they were counted
// +60,500). Part of the fault suite (make fault).
func TestFaultNumberedRotationStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("a minute of storm; the short storm is internal/tailfile's TestNumberedRotationStormUnderLoad")
	}
	path := filepath.Join(t.TempDir(), "access.log")
	c := mustChecker(t, "path: "+path+"\nstart_at: beginning\n", t.TempDir(), &clock{time.Now()})
	stamp := time.Now().Format("02/Jan/2006:15:04:05 -0700")
	line := func(n int) string {
		return fmt.Sprintf("127.0.0.%d - - [%s] \"POST /admin/api/api/gql HTTP/1.1\" 200 %d \"-\" \"glue/1.0\"\n", 2+n%3, stamp, n)
	}
	stormtest.Burn(t, 2)
	s := stormtest.Start(t, stormtest.Config{Path: path, Rate: 50000, Every: 100 * time.Millisecond,
		Linger: 20 * time.Millisecond, Line: line})
	f := stormtest.Drive(t, s, 60*time.Second, time.Second, 5*time.Second, func() int64 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := c.Check(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var n float64
		for _, m := range res.Metrics {
			if m.Name == "accesslog_requests_total" {
				n += m.Value
			}
		}
		return int64(n)
	})
	t.Logf("accesslog storm: %s", f)
	if f.Counted != f.Written {
		t.Fatalf("%s; files: %v", f, stormtest.Files(path))
	}
}
