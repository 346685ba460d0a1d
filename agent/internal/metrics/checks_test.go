package metrics

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// The agent's own per-check series, as a scrape shows them: created by
// InitCheck and the first run, counted by runs, skips and restarts, one
// set per plugin a check has run under, gone with a removed check.
func TestCheckSeriesExposition(t *testing.T) {
	m, _ := newTest(t)
	m.InitCheck("a")
	m.InitCheck("gone")
	at := time.Unix(1700000000, 500_000_000)
	m.ObserveRun("a", "whmcs", &sdk.Result{Status: sdk.StatusOK}, at, 3*time.Millisecond)
	m.ObserveRun("a", "whmcs", &sdk.Result{Status: sdk.StatusCritical}, at.Add(time.Second), 700*time.Millisecond)
	m.ObserveRun("a", "whmcs", &sdk.Result{Status: sdk.StatusCritical}, at.Add(2*time.Second), 90*time.Second)
	// A reload moved the check to another plugin: both sets stay.
	m.ObserveRun("a", "freepbx", &sdk.Result{Status: sdk.StatusWarning}, at.Add(3*time.Second), 250*time.Millisecond)
	m.Skipped("a")
	m.Skipped("a")
	m.Restarted("a")
	// A check never initialised gets only what happened to it.
	m.ObserveRun("b", "nagios", &sdk.Result{Status: sdk.StatusUnknown}, at, time.Millisecond)
	m.Restarted("c")
	m.Retain(map[string]string{"a": "freepbx", "b": "nagios", "c": "x"})

	hist := func(check, plugin string, counts [14]int, sum string) string {
		var b strings.Builder
		bounds := []string{"0.001", "0.005", "0.01", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60", "+Inf"}
		for i, le := range bounds {
			fmt.Fprintf(&b, "pbxwatch_check_duration_seconds_bucket{check=%q,plugin=%q,le=%q} %d\n", check, plugin, le, counts[i])
		}
		fmt.Fprintf(&b, "pbxwatch_check_duration_seconds_sum{check=%q,plugin=%q} %s\n", check, plugin, sum)
		fmt.Fprintf(&b, "pbxwatch_check_duration_seconds_count{check=%q,plugin=%q} %d\n", check, plugin, counts[13])
		return b.String()
	}
	want := `# HELP pbxwatch_check_status Status of the check's last run: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (Nagios codes).
# TYPE pbxwatch_check_status gauge
pbxwatch_check_status{check="a",plugin="freepbx"} 1
pbxwatch_check_status{check="a",plugin="whmcs"} 2
pbxwatch_check_status{check="b",plugin="nagios"} 3
# HELP pbxwatch_check_last_run_timestamp_seconds Unix time the check's last run finished.
# TYPE pbxwatch_check_last_run_timestamp_seconds gauge
pbxwatch_check_last_run_timestamp_seconds{check="a",plugin="freepbx"} 1.7000000035e+09
pbxwatch_check_last_run_timestamp_seconds{check="a",plugin="whmcs"} 1.7000000025e+09
pbxwatch_check_last_run_timestamp_seconds{check="b",plugin="nagios"} 1.7000000005e+09
# HELP pbxwatch_check_duration_seconds Duration of check runs, including the round trip to the plugin.
# TYPE pbxwatch_check_duration_seconds histogram
` + hist("a", "freepbx", [14]int{0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1}, "0.25") +
		hist("a", "whmcs", [14]int{0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3}, "90.703") +
		hist("b", "nagios", [14]int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, "0.001") +
		`# HELP pbxwatch_check_runs_total Check runs by result (ok, warning, critical, unknown).
# TYPE pbxwatch_check_runs_total counter
pbxwatch_check_runs_total{check="a",result="critical"} 2
pbxwatch_check_runs_total{check="a",result="ok"} 1
pbxwatch_check_runs_total{check="a",result="unknown"} 0
pbxwatch_check_runs_total{check="a",result="warning"} 1
pbxwatch_check_runs_total{check="b",result="unknown"} 1
# HELP pbxwatch_check_skipped_total Scheduled runs skipped because the previous run of the check was still in progress.
# TYPE pbxwatch_check_skipped_total counter
pbxwatch_check_skipped_total{check="a"} 2
# HELP pbxwatch_plugin_restarts_total Times a check's plugin process was started again after it exited, crashed or was killed.
# TYPE pbxwatch_plugin_restarts_total counter
pbxwatch_plugin_restarts_total{check="a"} 1
pbxwatch_plugin_restarts_total{check="c"} 1
`
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want),
		"pbxwatch_check_status", "pbxwatch_check_last_run_timestamp_seconds", "pbxwatch_check_duration_seconds",
		"pbxwatch_check_runs_total", "pbxwatch_check_skipped_total", "pbxwatch_plugin_restarts_total"); err != nil {
		t.Error(err)
	}
}

// BenchmarkLiveHeap1000Checks reports the heap the agent's metrics keep
// for 1,000 checks that each ran once with no plugin metrics (as in
// scripts/bench-scale.sh): what a scrape-free agent holds per check.
func BenchmarkLiveHeap1000Checks(b *testing.B) {
	var kept []*Metrics
	for i := 0; i < b.N; i++ {
		before := liveHeap()
		m := New(nil)
		for c := 0; c < 1000; c++ {
			check := fmt.Sprintf("c%d", c)
			m.InitCheck(check)
			m.ObserveRun(check, "bench", &sdk.Result{Status: sdk.StatusOK}, time.Now(), 3*time.Millisecond)
		}
		b.ReportMetric(float64(liveHeap()-before)/1000, "B/check")
		kept = append(kept, m)
	}
	runtime.KeepAlive(kept)
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
