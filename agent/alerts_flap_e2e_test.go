package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

type amFull struct {
	Labels   map[string]string `json:"labels"`
	StartsAt time.Time         `json:"startsAt"`
}

func (am *alertmanager) all(t *testing.T) []amFull {
	resp, err := http.Get(am.url + "/api/v2/alerts?active=true")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var out []amFull
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return out
}

// TestLogAlertsDoNotFlapInAlertmanager: the real logtail plugin on a log
// that matches two patterns, pauses for several runs, and matches again.
// The real Alertmanager holds one PbxwatchLogEvent per pattern the whole
// time, with the same startsAt (no resolve, no re-fire), never a
// PbxwatchCheckFailing for the same lines, and both resolve once the log
// stays quiet for event_quiet_period.
func TestLogAlertsDoNotFlapInAlertmanager(t *testing.T) {
	am := startAlertmanager(t)
	e := newEnv(t)
	e.LinkPlugin("logtail", sdktest.Build(t, "github.com/pbxwatch/pbxwatch/plugins/logtail"))
	logPath := filepath.Join(t.TempDir(), "freepbx.log")
	if err := os.WriteFile(logPath, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e.WriteConfig(fmt.Sprintf(`alerting:
  alertmanagers: [{url: %q}]
  resend_interval: 1s
  event_quiet_period: 8s
checks:
  - name: freepbx_log
    plugin: logtail
    schedule: "@every 1s"
    config:
      path: %s
      patterns:
        - {name: trunk_down, regex: 'Trunk \S+ unreachable', severity: critical, event: true}
        - {name: reg_failed, regex: 'Registration from \S+ failed', severity: warning}
`, am.url, logPath))
	appendLog := func(lines ...string) {
		f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, l := range lines {
			fmt.Fprintf(f, "[%s] [WARNING] %s\n", time.Now().Format("2006-01-02 15:04:05"), l)
		}
	}
	d := e.start()
	appendLog("Trunk provider-1 unreachable", "Registration from 'sip:100@198.51.100.2' failed", "Trunk provider-1 unreachable")

	started := map[string]time.Time{}
	d.WaitFor("one alert per pattern", func() bool {
		for _, a := range am.all(t) {
			if a.Labels["alertname"] == "PbxwatchLogEvent" {
				started[a.Labels["pattern"]] = a.StartsAt
			}
		}
		return len(started) == 2
	})
	if _, ok := started["trunk_down"]; !ok {
		t.Fatalf("patterns alerted: %v", started)
	}
	// watch asserts, for a while, that Alertmanager holds exactly the two
	// alerts as first seen: a flap would resolve one or change startsAt.
	watch := func(d time.Duration) {
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
			got := am.all(t)
			if len(got) != 2 {
				t.Fatalf("Alertmanager holds %d alerts, want the 2 log alerts: %+v", len(got), got)
			}
			for _, a := range got {
				if a.Labels["alertname"] != "PbxwatchLogEvent" || !a.StartsAt.Equal(started[a.Labels["pattern"]]) {
					t.Fatalf("alert flapped or doubled: %+v (first startsAt %v)", a, started)
				}
			}
		}
	}
	watch(4 * time.Second) // several runs without a match
	appendLog("Trunk provider-1 unreachable", "Registration from 'sip:101@198.51.100.2' failed")
	watch(3 * time.Second)
	if runs := d.Metric(`pbxwatch_check_runs_total{check="freepbx_log",result="ok"}`); runs < 3 {
		t.Fatalf("only %v clean runs in between: the pause proved nothing", runs)
	}
	d.WaitFor("both resolved after the quiet period", func() bool { return len(am.all(t)) == 0 })
}
