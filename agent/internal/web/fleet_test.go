package web

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pbxwatch/pbxwatch/agent/internal/fleet"
)

type failingFleet struct{}

func (failingFleet) View(context.Context, time.Time) (*fleet.View, error) {
	return nil, errors.New(`http://127.0.0.1:1: query last_over_time(pbxwatch_check_status[1d]): connection refused <script>`)
}
func (failingFleet) URL() string { return "http://127.0.0.1:1" }

func fleetServer(t *testing.T, f Fleet) *httptest.Server {
	t.Helper()
	u, _ := url.Parse("http://pbx1:9851/")
	srv := httptest.NewServer(NewHandler(Options{
		Checks: &fixedChecks{runs: runs(), ready: true}, Registry: prometheus.NewRegistry(), ExternalURL: u,
		Fleet: func() Fleet { return f },
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFleetPageNeedsItsConfig(t *testing.T) {
	srv := fleetServer(t, nil)
	resp, body := fetch(t, http.MethodGet, srv.URL+"/fleet")
	wantStatus(t, resp, body, http.StatusNotFound)
	if !strings.Contains(body, "set fleet.prometheus_url") {
		t.Errorf("body %q", body)
	}
	if _, index := fetch(t, http.MethodGet, srv.URL+"/"); strings.Contains(index, `href="/fleet"`) {
		t.Error("the status page links a fleet page that is not configured")
	}
}

func TestFleetPageSaysWhyTheEngineCannotAnswer(t *testing.T) {
	srv := fleetServer(t, failingFleet{})
	resp, body := fetch(t, http.MethodGet, srv.URL+"/fleet")
	wantStatus(t, resp, body, http.StatusBadGateway)
	inOrder(t, body, `id="fleet-error"`, "connection refused &lt;script&gt;", "fleet.prometheus_url")
	resp, body = fetch(t, http.MethodGet, srv.URL+"/api/v1/fleet")
	wantStatus(t, resp, body, http.StatusBadGateway)
	if !strings.Contains(body, `"error"`) {
		t.Errorf("API body %q", body)
	}
	if _, index := fetch(t, http.MethodGet, srv.URL+"/"); !strings.Contains(index, `href="/fleet"`) {
		t.Error("the status page does not link the fleet page")
	}
}

// The chart library and the page's script come from the binary.
func TestFleetStaticFilesAreServed(t *testing.T) {
	srv := fleetServer(t, nil)
	for path, want := range map[string]string{
		"/static/vendor/uplot/uPlot.iife.min.js": "/*! https://github.com/leeoniya/uPlot (v1.6.32) */",
		"/static/vendor/uplot/uPlot.min.css":     ".uplot",
		"/static/fleet.js":                       "uPlot.paths.stepped",
	} {
		resp, body := fetch(t, http.MethodGet, srv.URL+path)
		wantStatus(t, resp, body, http.StatusOK)
		if !strings.HasPrefix(body, want) && !strings.Contains(body, want) {
			t.Errorf("%s lacks %q", path, want)
		}
	}
}

// The vendored uPlot is the npm package's files unchanged: their sums are
// the ones VENDOR records.
func TestVendoredUPlotIsThePackagedOne(t *testing.T) {
	record, err := ui.ReadFile("ui/static/vendor/uplot/VENDOR")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"uPlot.iife.min.js", "uPlot.min.css"} {
		b, err := ui.ReadFile("ui/static/vendor/uplot/" + name)
		if err != nil {
			t.Fatal(err)
		}
		sum := fmt.Sprintf("%x", sha256.Sum256(b))
		if !strings.Contains(string(record), "package/dist/"+name) || !strings.Contains(string(record), "sha256 "+sum) {
			t.Errorf("%s (sha256 %s) is not the file VENDOR records", name, sum)
		}
	}
	if lic, err := ui.ReadFile("ui/static/vendor/uplot/LICENSE"); err != nil || !strings.Contains(string(lic), "MIT License") {
		t.Errorf("LICENSE: %v", err)
	}
}
