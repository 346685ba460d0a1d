package web

// The agent's HTTP surface through net/http/httptest, fed fixed check runs
// and alerts: routing, the lifecycle guard, the route prefix, and what the
// status pages, the API and /checks show. The agent-level tests
// (agent/statusapi_e2e_test.go, agent/statuspage_browser_test.go) drive
// the same handler with real plugins and a real browser.

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pbxwatch/pbxwatch/agent/internal/alerting"
	"github.com/pbxwatch/pbxwatch/agent/internal/config"
	"github.com/pbxwatch/pbxwatch/agent/internal/daemon"
	"github.com/pbxwatch/pbxwatch/agent/internal/remotewrite"
	"github.com/pbxwatch/pbxwatch/sdk"
)

type fixedChecks struct {
	runs  []daemon.LastRun
	ready bool
}

func (f *fixedChecks) LastRuns() []daemon.LastRun { return f.runs }
func (f *fixedChecks) Ready() bool                { return f.ready }

type fixedAlerts struct {
	held       map[string][]alerting.HeldAlert
	deliveries []alerting.Delivery
}

func (f *fixedAlerts) Held(check string) []alerting.HeldAlert { return f.held[check] }
func (f *fixedAlerts) Deliveries() []alerting.Delivery        { return f.deliveries }

var at = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func check(name, plugin string) config.Check {
	return config.Check{Name: name, Plugin: plugin, Schedule: "@every 1m"}
}

// runs is a check of each kind, in config order: OK, CRITICAL with a
// diagnosis, not run yet, WARNING, UNKNOWN.
func runs() []daemon.LastRun {
	return []daemon.LastRun{
		{Check: check("disk", "disk"), Result: &sdk.Result{Status: sdk.StatusOK, Summary: "disk fine"}, At: at, Duration: 1500 * time.Microsecond},
		{Check: check("trunks", "freepbx"), At: at, Duration: time.Second, Next: at.Add(time.Minute), Result: &sdk.Result{
			Status: sdk.StatusCritical, Summary: "trunk down",
			Diagnoses: []sdk.Diagnosis{{Code: "freepbx.trunk_down", Severity: sdk.SeverityCritical, Message: "trunk <b>sip1</b> unreachable",
				Details: map[string]string{"zeta": "last", "alpha": "first", "mike": "3", "delta": "2", "kilo": "x"}, Remediation: []string{"Check the provider."}}},
		}},
		{Check: check("backup", "backup")},
		{Check: check("licence", "whmcs"), Result: &sdk.Result{Status: sdk.StatusWarning, Summary: "expires soon"}, At: at},
		{Check: check("ami", "ami"), Result: &sdk.Result{Status: sdk.StatusUnknown, Summary: "no answer"}, At: at},
	}
}

type server struct {
	*httptest.Server
	checks  *fixedChecks
	alerts  *fixedAlerts
	reloads atomic.Int32
	quits   atomic.Int32
}

// newServer serves NewHandler over fixed runs; prefix is the path of the
// external URL.
func newServer(t *testing.T, prefix string, lifecycle bool, reloadErr error) *server {
	t.Helper()
	s := &server{checks: &fixedChecks{runs: runs(), ready: true}, alerts: &fixedAlerts{held: map[string][]alerting.HeldAlert{}}}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "pbxwatch_test_gauge", Help: "A test gauge."}))
	s.Server = httptest.NewServer(NewHandler(Options{
		Checks: s.checks, Registry: reg, Lifecycle: lifecycle,
		ExternalURL: &url.URL{Scheme: "http", Host: "pbx.example.com", Path: prefix},
		Reload: func() error {
			s.reloads.Add(1)
			return reloadErr
		},
		Quit:   func() { s.quits.Add(1) },
		Alerts: func() Alerts { return s.alerts },
	}))
	t.Cleanup(s.Close)
	return s
}

// fetch returns the response of method on path and its body.
func fetch(t *testing.T, method, u string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func wantStatus(t *testing.T, resp *http.Response, body string, code int) {
	t.Helper()
	if resp.StatusCode != code {
		t.Fatalf("%s %s: status %d, want %d; body:\n%s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, code, body)
	}
}

// inOrder fails unless every s occurs in body, each after the one before.
func inOrder(t *testing.T, body string, ss ...string) {
	t.Helper()
	rest := body
	for _, s := range ss {
		i := strings.Index(rest, s)
		if i < 0 {
			t.Fatalf("%q missing (or out of order, wanted %q) in:\n%s", s, ss, body)
		}
		rest = rest[i+len(s):]
	}
}

func TestHealthAndReadiness(t *testing.T) {
	s := newServer(t, "/", false, nil)
	resp, body := fetch(t, "GET", s.URL+"/-/healthy")
	wantStatus(t, resp, body, 200)
	if body != "Healthy.\n" {
		t.Errorf("healthy body %q", body)
	}
	resp, body = fetch(t, "GET", s.URL+"/-/ready")
	wantStatus(t, resp, body, 200)
	s.checks.ready = false
	resp, body = fetch(t, "GET", s.URL+"/-/ready")
	wantStatus(t, resp, body, http.StatusServiceUnavailable)
	if !strings.Contains(body, "Not ready.") {
		t.Errorf("not-ready body %q", body)
	}
}

func TestMetricsServesTheRegistry(t *testing.T) {
	s := newServer(t, "/", false, nil)
	resp, body := fetch(t, "GET", s.URL+"/metrics")
	wantStatus(t, resp, body, 200)
	if !strings.Contains(body, "pbxwatch_test_gauge 0") {
		t.Errorf("/metrics lacks the registry's gauge:\n%s", body)
	}
}

func TestLifecycleIsGuarded(t *testing.T) {
	for _, path := range []string{"/-/reload", "/-/quit"} {
		off := newServer(t, "/", false, nil)
		resp, body := fetch(t, "GET", off.URL+path)
		wantStatus(t, resp, body, http.StatusMethodNotAllowed)
		if got := resp.Header.Get("Allow"); got != "POST, PUT" {
			t.Errorf("GET %s: Allow %q", path, got)
		}
		resp, body = fetch(t, "POST", off.URL+path)
		wantStatus(t, resp, body, http.StatusForbidden)
		if !strings.Contains(body, "--web.enable-lifecycle") {
			t.Errorf("POST %s without lifecycle: body %q names no flag", path, body)
		}
		if off.reloads.Load()+off.quits.Load() != 0 {
			t.Errorf("POST %s without lifecycle reached the daemon", path)
		}
	}
}

func TestLifecycleReloadAndQuit(t *testing.T) {
	s := newServer(t, "/", true, nil)
	resp, body := fetch(t, "PUT", s.URL+"/-/reload")
	wantStatus(t, resp, body, 200)
	if body != "Reloaded.\n" || s.reloads.Load() != 1 {
		t.Errorf("reload: body %q, %d reloads", body, s.reloads.Load())
	}
	for range 2 {
		resp, body = fetch(t, "POST", s.URL+"/-/quit")
		wantStatus(t, resp, body, 200)
	}
	if n := s.quits.Load(); n != 1 {
		t.Errorf("two POST /-/quit called Quit %d times, want once", n)
	}

	failing := newServer(t, "/", true, errors.New("pbxwatch.yaml:3: unknown key"))
	resp, body = fetch(t, "POST", failing.URL+"/-/reload")
	wantStatus(t, resp, body, http.StatusInternalServerError)
	if !strings.Contains(body, "reload failed: pbxwatch.yaml:3: unknown key") {
		t.Errorf("failed reload body %q", body)
	}
}

func TestRoutePrefix(t *testing.T) {
	s := newServer(t, "/pbxwatch/", false, nil)
	resp, body := fetch(t, "GET", s.URL+"/")
	wantStatus(t, resp, body, http.StatusFound)
	if got := resp.Header.Get("Location"); got != "/pbxwatch/" {
		t.Errorf("/ redirects to %q, want /pbxwatch/", got)
	}
	for _, path := range []string{"/pbxwatch/", "/pbxwatch/-/healthy", "/pbxwatch/metrics", "/pbxwatch/checks", "/pbxwatch/checks/disk", "/pbxwatch/api/v1/checks"} {
		resp, body := fetch(t, "GET", s.URL+path)
		wantStatus(t, resp, body, 200)
	}
	resp, body = fetch(t, "GET", s.URL+"/-/healthy")
	wantStatus(t, resp, body, http.StatusNotFound)
	_, body = fetch(t, "GET", s.URL+"/pbxwatch/")
	inOrder(t, body, `<a href="/pbxwatch/checks">`, `<a href="/pbxwatch/checks/trunks">trunks</a>`)
}

func TestIndexWorstFirst(t *testing.T) {
	s := newServer(t, "/", false, nil)
	resp, body := fetch(t, "GET", s.URL+"/")
	wantStatus(t, resp, body, 200)
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	// CRITICAL, UNKNOWN, WARNING, not run yet, OK; config order within one.
	inOrder(t, body, `id="check-trunks" data-status="CRITICAL"`, `id="check-ami" data-status="UNKNOWN"`,
		`id="check-licence" data-status="WARNING"`, `id="check-backup" data-status="NOT RUN YET"`, `id="check-disk" data-status="OK"`)
	inOrder(t, body, "5 checks:", "✖ 1 CRITICAL", "? 1 UNKNOWN", "▲ 1 WARNING", "✔ 1 OK", "… 1 NOT RUN YET")
	inOrder(t, body, "The check has not finished a run yet.", "Last run: not yet", "Next run: not scheduled")
	// The plugin's message is text, never markup.
	if !strings.Contains(body, "trunk &lt;b&gt;sip1&lt;/b&gt; unreachable") || strings.Contains(body, "<b>sip1</b>") {
		t.Errorf("diagnosis message not escaped:\n%s", body)
	}
	inOrder(t, body, "<dt>alpha</dt><dd>first</dd>", "<dt>delta</dt>", "<dt>kilo</dt>", "<dt>mike</dt>", "<dt>zeta</dt><dd>last</dd>", "<li>Check the provider.</li>")
	if !strings.Contains(body, `<meta http-equiv="refresh" content="10">`) {
		t.Error("the page does not refresh itself every 10s")
	}
}

func TestIndexAlertingSummary(t *testing.T) {
	s := newServer(t, "/", false, nil)
	_, body := fetch(t, "GET", s.URL+"/")
	if !strings.Contains(body, `<span class="alerting" id="alerting">Alerts: not configured (no alerting: block)</span>`) {
		t.Errorf("no Alertmanager: summary wrong:\n%s", body)
	}
	s.alerts.deliveries = []alerting.Delivery{
		{URL: "http://am1:9093/api/v2/alerts", LastSuccess: at},
		{URL: "http://am2:9093/api/v2/alerts", LastSuccess: at, LastErrorAt: at.Add(time.Minute), LastError: "connection refused"},
	}
	_, body = fetch(t, "GET", s.URL+"/")
	if !strings.Contains(body, `<span class="alerting bad" id="alerting">Alerts NOT reaching Alertmanager — http://am2:9093/api/v2/alerts: connection refused</span>`) {
		t.Errorf("failing Alertmanager: summary wrong:\n%s", body)
	}
	s.alerts.deliveries[1].LastSuccess = at.Add(2 * time.Minute)
	_, body = fetch(t, "GET", s.URL+"/")
	if !strings.Contains(body, "Alerts: reaching 2 Alertmanager(s)") {
		t.Errorf("recovered Alertmanager: summary wrong:\n%s", body)
	}
}

func TestIndexWithoutAlertingOrChecks(t *testing.T) {
	h := NewHandler(Options{Checks: &fixedChecks{}, Registry: prometheus.NewRegistry(), Alerts: func() Alerts { return nil }})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body := rec.Body.String()
	inOrder(t, body, "0 checks:", "Alerts: not configured (no alerting: block)", "No checks configured.")
}

func TestCheckPage(t *testing.T) {
	s := newServer(t, "/", false, nil)
	s.checks.runs[1].History = daemon.History{
		Runs:    []daemon.HistoryRun{{At: at, Status: "CRITICAL", Summary: "trunk down", Duration: 1234567 * time.Microsecond, Codes: []string{"freepbx.trunk_down"}}},
		Changes: []daemon.StatusChange{{At: at, From: "OK", To: "CRITICAL", Summary: "trunk down"}, {At: at.Add(-time.Hour), To: "OK", Summary: "up"}},
	}
	s.alerts.held["trunks"] = []alerting.HeldAlert{{Name: "PbxwatchCheckCritical", State: "firing", ActiveAt: at, Summary: "trunks is CRITICAL",
		Labels: map[string]string{"alertname": "PbxwatchCheckCritical", "instance": "pbx", "check": "trunks"}}}
	resp, body := fetch(t, "GET", s.URL+"/checks/trunks")
	wantStatus(t, resp, body, 200)
	inOrder(t, body, "<title>trunks — pbxwatch</title>", `data-status="CRITICAL"`,
		"Status changes", "<td>OK</td><td>CRITICAL</td>", "<td>(start)</td><td>OK</td>",
		"Last runs (newest first, up to 20)", "<td>1.235s</td><td><code>freepbx.trunk_down</code>",
		"Alerts the agent holds for this check", "<td>firing</td><td>PbxwatchCheckCritical</td><td><code>check=trunks</code> </td><td>2026-03-01 12:00:00 UTC</td>")
	if strings.Contains(body, "instance=pbx") {
		t.Error("the check page repeats the instance label")
	}

	resp, body = fetch(t, "GET", s.URL+"/checks/backup")
	wantStatus(t, resp, body, 200)
	inOrder(t, body, "Status changes", "No runs yet.", "Last runs", "No runs yet.", "Alerts the agent holds", "None.")

	resp, body = fetch(t, "GET", s.URL+"/checks/nosuch")
	wantStatus(t, resp, body, http.StatusNotFound)
	if body != "No such check.\n" {
		t.Errorf("unknown check: body %q", body)
	}
}

func TestAPI(t *testing.T) {
	s := newServer(t, "/", false, nil)
	s.alerts.held["trunks"] = []alerting.HeldAlert{{Name: "PbxwatchCheckCritical", State: "pending", ActiveAt: at}}
	resp, body := fetch(t, "GET", s.URL+"/api/v1/checks")
	wantStatus(t, resp, body, 200)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("%v:\n%s", err, body)
	}
	var order []string
	for _, c := range list {
		order = append(order, c["check"].(string))
	}
	if got := strings.Join(order, ","); got != "trunks,ami,licence,backup,disk" {
		t.Errorf("API order %s, want worst first", got)
	}
	trunks, backup := list[0], list[3]
	if trunks["last_run"] != "2026-03-01T12:00:00Z" || trunks["next_run"] != "2026-03-01T12:01:00Z" || trunks["duration_seconds"] != 1.0 {
		t.Errorf("trunks times: %v %v %v", trunks["last_run"], trunks["next_run"], trunks["duration_seconds"])
	}
	if alerts := trunks["alerts"].([]any); len(alerts) != 1 || alerts[0].(map[string]any)["state"] != "pending" {
		t.Errorf("trunks alerts: %v", trunks["alerts"])
	}
	// Not run yet: UNKNOWN "not run yet", null times, [] not null.
	if backup["status"] != "UNKNOWN" || backup["summary"] != "not run yet" || backup["last_run"] != nil || backup["next_run"] != nil {
		t.Errorf("backup (not run yet): %v", backup)
	}
	if a, ok := backup["alerts"].([]any); !ok || len(a) != 0 {
		t.Errorf("backup alerts %#v, want []", backup["alerts"])
	}

	resp, body = fetch(t, "GET", s.URL+"/api/v1/checks/disk")
	wantStatus(t, resp, body, 200)
	var one map[string]any
	if err := json.Unmarshal([]byte(body), &one); err != nil || one["check"] != "disk" || one["status"] != "OK" {
		t.Errorf("one check: %v %v", err, body)
	}
	resp, body = fetch(t, "GET", s.URL+"/api/v1/checks/nosuch")
	wantStatus(t, resp, body, http.StatusNotFound)
	if body != `{"error":"no such check"}`+"\n" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("unknown check: %q %q", resp.Header.Get("Content-Type"), body)
	}
}

func TestChecksText(t *testing.T) {
	s := newServer(t, "/", false, nil)
	s.checks.runs = s.checks.runs[1:3] // trunks, backup (not run)
	resp, body := fetch(t, "GET", s.URL+"/checks")
	wantStatus(t, resp, body, 200)
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	inOrder(t, body, "(2026-03-01T12:00:00Z)\n", "trunk down", "freepbx.trunk_down",
		"\n----------------------------------------------------------------\n\n", "backup: not run yet\n")

	s.checks.runs = nil
	_, body = fetch(t, "GET", s.URL+"/checks")
	if body != "no checks configured\n" {
		t.Errorf("no checks: %q", body)
	}
}

func TestRoughly(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second:                          "0s",
		1400 * time.Millisecond:               "1s",
		90*time.Second + 400*time.Millisecond: "2m0s",
		3*time.Hour + 20*time.Minute:          "3h0m0s",
	} {
		if got := roughly(d); got != want {
			t.Errorf("roughly(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestRemoteWriteStateAndLine(t *testing.T) {
	h := NewHandler(Options{Checks: &fixedChecks{}, Registry: prometheus.NewRegistry()})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/remote_write", nil))
	if rec.Body.String() != "[]\n" {
		t.Errorf("no receivers: %q, want []", rec.Body.String())
	}
	h = NewHandler(Options{Checks: &fixedChecks{}, Registry: prometheus.NewRegistry(), RemoteWrite: func() []remotewrite.Status {
		return []remotewrite.Status{{URL: "https://vm.example.com/api/v1/write", State: "failing", Diagnosis: "the receiver refuses the samples",
			ReceiverSaid: "out of bounds", QueueBytes: 4096}}
	}})
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/remote_write", nil))
	var st []remotewrite.Status
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || len(st) != 1 || st[0].State != "failing" || st[0].QueueBytes != 4096 {
		t.Errorf("one receiver: %v %q", err, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(rec.Body.String(), `<div class="remote-write bad" data-state="failing">Remote write to https://vm.example.com/api/v1/write: failing — the receiver refuses the samples (the receiver said: “out of bounds”); queue 4096 bytes</div>`) {
		t.Errorf("status page lacks the receiver's line:\n%s", rec.Body.String())
	}
}

// TestIndexShowsHeldLogEvents: a log check whose last run found nothing
// new ("OK, 0 new lines") while the agent still fires PbxwatchLogEvent for
// lines it matched earlier: its card shows the held events (pattern, count,
// latest match, until when), it sorts before the plain OK checks, and the
// summary does not count it as OK.
func TestIndexShowsHeldLogEvents(t *testing.T) {
	s := newServer(t, "/", false, nil)
	s.checks.runs = append(s.checks.runs, daemon.LastRun{Check: check("freepbx_log", "logtail"), At: at,
		Result: &sdk.Result{Status: sdk.StatusOK, Summary: "OK, 0 new lines"}})
	last := time.Now().Add(-30 * time.Second)
	s.alerts.held["freepbx_log"] = []alerting.HeldAlert{
		{Name: alerting.AlertLogEvent, State: "firing", ActiveAt: last.Add(-time.Minute), FiredAt: last.Add(-time.Minute),
			LogEvent: &alerting.HeldLogEvent{Pattern: "sqlstate", Count: 3, Latest: "line: SQLSTATE[HY000] [2002] <secret>", LastMatch: last, Until: last.Add(5 * time.Minute)}},
		{Name: alerting.AlertLogEvent, State: "resolved", ActiveAt: last.Add(-time.Hour), ResolvedAt: last.Add(-50 * time.Minute),
			LogEvent: &alerting.HeldLogEvent{Pattern: "old_pattern", Count: 1, Latest: "gone", LastMatch: last.Add(-time.Hour)}},
	}
	resp, body := fetch(t, "GET", s.URL+"/")
	wantStatus(t, resp, body, 200)
	inOrder(t, body, `id="summary"`, "6 checks:", "1 CRITICAL", "1 UNKNOWN", "1 WARNING", "1 OK, LOG EVENTS FIRING", "1 OK",
		`id="check-licence"`, `id="check-freepbx_log"`, `id="check-disk"`)
	inOrder(t, body, `id="events-freepbx_log" data-events="1"`, "1 LOG EVENT ALERT FIRING", "<code>sqlstate</code>", "<td>3</td>",
		"line: SQLSTATE[HY000] [2002] &lt;secret&gt;", "unless it matches again")
	if strings.Contains(body, "old_pattern") {
		t.Error("a resolved log event is shown as held")
	}
	if strings.Contains(body, `id="events-disk"`) {
		t.Error("a check without log events shows an events table")
	}

	// The JSON API carries the same: the alert with its log event.
	_, api := fetch(t, "GET", s.URL+"/api/v1/checks/freepbx_log")
	var got struct {
		Alerts []alerting.HeldAlert `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(api), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Alerts) != 2 || got.Alerts[0].LogEvent == nil || got.Alerts[0].LogEvent.Pattern != "sqlstate" || got.Alerts[0].LogEvent.Until.IsZero() {
		t.Fatalf("API alerts: %+v", got.Alerts)
	}
}
