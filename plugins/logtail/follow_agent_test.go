package logtail

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
)

// alertSink is a loopback Alertmanager stand-in: it records every alert
// POSTed to /api/v2/alerts with the time it arrived.
type alertSink struct {
	mu  sync.Mutex
	got []postedAlert
}

type postedAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	at          time.Time
}

func (s *alertSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var alerts []postedAlert
	if r.URL.Path == "/api/v2/alerts" && json.Unmarshal(body, &alerts) == nil {
		s.mu.Lock()
		for _, a := range alerts {
			a.at = time.Now()
			s.got = append(s.got, a)
		}
		s.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

// first returns the first alert whose annotations mention text.
func (s *alertSink) first(text string) (postedAlert, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.got {
		for _, v := range a.Annotations {
			if strings.Contains(v, text) {
				return a, true
			}
		}
	}
	return postedAlert{}, false
}

// The agent, running logtail every hour, sends a matched line's event alert
// the moment the line is written: long before the next scheduled run
// (issue 22). The run's totals later count the line once.
func TestAgentSendsFollowedLineAlertBeforeTheNextRun(t *testing.T) {
	sink := &alertSink{}
	am := httptest.NewServer(sink)
	defer am.Close()
	in := agenttest.New(t)
	in.AddPlugin("logtail", pluginPkg)
	logDir := filepath.Join(in.Dir, "log")
	if err := os.Mkdir(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(logDir, "freepbx.log")
	appendLines(t, path, 1, 2)
	in.WriteConfig(fmt.Sprintf("alerting:\n  alertmanagers: [{url: %q}]\n", am.URL) +
		agenttest.Checks(agenttest.Check{Name: "freepbx_log", Plugin: "logtail", Schedule: "@every 1h", Config: "path: " + path + "\n"}))
	a := in.Start(agenttest.Options{})
	// The first run (at start) is over when the metrics show it.
	a.WaitFor("the first run", func() bool { return strings.Contains(a.Get("/metrics"), "logtail_offset_bytes") })
	written := time.Now()
	appendRaw(t, path, "[2024-05-01 10:00:00] [freepbx_security.NOTICE]: Authentication failure for admin from 198.51.100.77 [] []\n")
	var got postedAlert
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var ok bool
		if got, ok = sink.first("198.51.100.77"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no alert within 20s of the line; the next scheduled run is an hour away")
		}
	}
	if got.Labels["alertname"] != "PbxwatchLogEvent" || got.Labels["check"] != "freepbx_log" {
		t.Fatalf("alert %+v", got)
	}
	t.Logf("line written -> alert received: %s", got.at.Sub(written))
	a.Stop()
}
