package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/agent/internal/config"
	"github.com/pbxwatch/pbxwatch/sdk/pluginhost"
)

// A load with more checks than maxParallelStarts starts them in waves:
// never more at once, every check tried, each failure reported under its
// own check.
func TestStartEachStartsAtMostMaxParallelStartsAtOnce(t *testing.T) {
	cfg := &config.Config{File: "pbxwatch.yml"}
	for i := range 3*maxParallelStarts + 5 {
		cfg.Checks = append(cfg.Checks, config.Check{Name: fmt.Sprintf("c%d", i), Line: i + 1})
	}
	var inFlight, most atomic.Int64
	var mu sync.Mutex
	tried := map[string]bool{}
	specFor := func(_ *config.Config, ch config.Check) (pluginhost.Spec, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		mu.Lock()
		tried[ch.Name] = true
		mu.Unlock()
		time.Sleep(5 * time.Millisecond) // long enough for the starts to overlap
		return pluginhost.Spec{}, errors.New("no plugin here")
	}
	hosts, failed := StartEach(context.Background(), cfg, specFor)
	if len(hosts) != 0 || len(failed) != len(cfg.Checks) || len(tried) != len(cfg.Checks) {
		t.Fatalf("%d hosts, %d failures, %d tried of %d checks", len(hosts), len(failed), len(tried), len(cfg.Checks))
	}
	if got := most.Load(); got > maxParallelStarts || got < 2 {
		t.Errorf("%d checks started at once, want 2..%d", got, maxParallelStarts)
	}
	if err := failed["c7"]; err == nil || err.Error() != "pbxwatch.yml:8: no plugin here" {
		t.Errorf("c7's failure: %v", err)
	}
}
