package accesslog

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// clock is the test's "now": log lines are stamped from it and the checker
// reads it.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newChecker(t *testing.T, cfgYAML, stateDir string, clk *clock) (*checker, error) {
	t.Helper()
	c := &checker{}
	if clk != nil {
		c.now = clk.now
	}
	lines := map[int]int{}
	for i := 1; i <= strings.Count(cfgYAML, "\n")+1; i++ {
		lines[i] = i + 10 // as if the block started at line 11 of the file
	}
	err := c.Configure(context.Background(), sdk.NewConfig("api_access", stateDir, "pbxwatch.yml", []byte(cfgYAML), lines))
	return c, err
}

func mustChecker(t *testing.T, cfgYAML, stateDir string, clk *clock) *checker {
	t.Helper()
	c, err := newChecker(t, cfgYAML, stateDir, clk)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func runCheck(t *testing.T, c *checker) *sdk.Result {
	t.Helper()
	res, err := c.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func series(res *sdk.Result, name string) int {
	n := 0
	for _, m := range res.Metrics {
		if m.Name == name {
			n++
		}
	}
	return n
}

// logWriter appends combined-format lines stamped with the clock.
type logWriter struct {
	t    *testing.T
	path string
	clk  *clock
}

func (w *logWriter) req(client, method, target string, status, n int) {
	w.t.Helper()
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%s - - [%s] \"%s %s HTTP/1.1\" %d 42 \"-\" \"glue/1.0\"\n", client, w.clk.t.Format("02/Jan/2006:15:04:05 -0700"), method, target, status)
	}
	appendRaw(w.t, w.path, b.String())
}

func appendRaw(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func setup(t *testing.T, extra string) (*checker, *logWriter, *clock) {
	dir := t.TempDir()
	clk := &clock{time.Date(2026, 11, 29, 22, 0, 0, 0, time.FixedZone("", 3600))}
	w := &logWriter{t: t, path: filepath.Join(dir, "access.log"), clk: clk}
	c := mustChecker(t, "path: "+w.path+"\nstart_at: beginning\n"+extra, t.TempDir(), clk)
	return c, w, clk
}

func TestCountsByEndpointAndStatus(t *testing.T) {
	c, w, _ := setup(t, "")
	w.req("192.0.2.10", "POST", "/admin/api/api/token", 200, 3)
	w.req("192.0.2.10", "POST", "/admin/api/api/gql", 200, 5)
	w.req("192.0.2.10", "GET", "/admin/api/api/rest/core/extensions", 404, 1)
	w.req("192.0.2.11", "GET", "/admin/config.php?display=extensions", 200, 4)
	w.req("192.0.2.11", "GET", "/admin/assets/x.js", 304, 2)
	w.req("192.0.2.11", "POST", "/admin/ajax.php?module=core", 200, 2)
	w.req("192.0.2.12", "POST", "/ucp/ajax.php", 401, 1)
	appendRaw(t, w.path, "not an access log line\n")
	res := runCheck(t, c)
	if res.Status != sdk.StatusOK {
		t.Fatalf("status %v %+v", res.Status, res.Diagnoses)
	}
	for _, want := range []struct {
		ep, status string
		n          float64
	}{{"token", "200", 3}, {"gql", "200", 5}, {"rest", "404", 1}, {"other", "2xx", 4}, {"other", "3xx", 2}, {"ajax", "200", 2}, {"ucp", "401", 1}} {
		if v, ok := sdktest.Metric(res, "accesslog_requests_total", map[string]string{"endpoint": want.ep, "status": want.status}); !ok || v != want.n {
			t.Errorf("requests{%s,%s} = %v (present %v), want %v", want.ep, want.status, v, ok, want.n)
		}
	}
	if n := series(res, "accesslog_requests_total"); n != 7 {
		t.Errorf("%d requests series, want 7", n)
	}
	if v, _ := sdktest.Metric(res, "accesslog_failed_requests_total", map[string]string{"endpoint": "rest", "status": "404", "client": "192.0.2.10"}); v != 1 {
		t.Errorf("failed rest 404 = %v", v)
	}
	if v, _ := sdktest.Metric(res, "accesslog_unparsed_lines_total", nil); v != 1 {
		t.Errorf("unparsed = %v, want 1", v)
	}
	if !strings.Contains(res.Summary, "18 new requests") || !strings.Contains(res.Summary, "12 to FreePBX's API") {
		t.Errorf("summary %q", res.Summary)
	}
}

// A glue that got tokens and answers, then 403 from GraphQL (its scope
// removed): api_failing names the address, endpoint, counts and times,
// although its token requests keep succeeding. A success clears it; so
// does the window passing without another failure.
func TestAPIFailingAfterSuccess(t *testing.T) {
	c, w, clk := setup(t, "window: 10m\n")
	w.req("192.0.2.10", "POST", "/admin/api/api/token", 200, 1)
	w.req("192.0.2.10", "POST", "/admin/api/api/gql", 200, 4)
	// A scanner that never succeeded is not "began failing".
	w.req("203.0.113.50", "POST", "/admin/api/api/gql", 401, 3)
	if res := runCheck(t, c); res.Status != sdk.StatusOK {
		t.Fatalf("before failing: %v %+v", res.Status, res.Diagnoses)
	}
	clk.advance(time.Minute)
	first := clk.t
	for i := 0; i < 3; i++ {
		w.req("192.0.2.10", "POST", "/admin/api/api/token", 200, 1)
		w.req("192.0.2.10", "POST", "/admin/api/api/gql", 403, 2)
		clk.advance(30 * time.Second)
	}
	last := clk.t.Add(-30 * time.Second)
	res := runCheck(t, c)
	ds := sdktest.Diagnoses(res, "accesslog.api_failing")
	if res.Status != sdk.StatusCritical || len(ds) != 1 {
		t.Fatalf("status %v diagnoses %+v", res.Status, res.Diagnoses)
	}
	d := ds[0].Details
	if d["client"] != "192.0.2.10" || d["endpoints"] != "gql" || d["count"] != "6" || d["statuses"] != "gql 403×6" ||
		d["first"] != first.UTC().Format(time.RFC3339) || d["last"] != last.UTC().Format(time.RFC3339) {
		t.Fatalf("details %v", d)
	}
	// GraphQL's 403 is not FreePBX's (the API module accepts gql from
	// anyone): the remedy points in front of it, not at tokens or scopes.
	if rem := strings.Join(ds[0].Remediation, " "); !strings.Contains(ds[0].Message, "192.0.2.10") || !strings.Contains(rem, "AH01630") || strings.Contains(rem, "bearer") {
		t.Fatalf("diagnosis %+v", ds[0])
	}
	if v, _ := sdktest.Metric(res, "accesslog_failed_requests_total", map[string]string{"endpoint": "gql", "status": "403", "client": "192.0.2.10"}); v != 6 {
		t.Fatalf("failed series = %v", v)
	}

	// Still failing on the next run with nothing new: the alert holds.
	clk.advance(time.Minute)
	if res := runCheck(t, c); len(sdktest.Diagnoses(res, "accesslog.api_failing")) != 1 {
		t.Fatalf("diagnosis dropped on a quiet run: %+v", res.Diagnoses)
	}
	// The window passes without a failure: no longer failing.
	clk.advance(10 * time.Minute)
	if res := runCheck(t, c); res.Status != sdk.StatusOK {
		t.Fatalf("after the window: %v %+v", res.Status, res.Diagnoses)
	}
	// Failing again, then a success on gql clears it.
	w.req("192.0.2.10", "POST", "/admin/api/api/gql", 500, 1)
	if res := runCheck(t, c); len(sdktest.Diagnoses(res, "accesslog.api_failing")) != 1 || len(sdktest.Diagnoses(res, "accesslog.server_errors")) != 1 {
		t.Fatalf("5xx: %+v", res.Diagnoses)
	}
	w.req("192.0.2.10", "POST", "/admin/api/api/gql", 200, 1)
	if res := runCheck(t, c); len(sdktest.Diagnoses(res, "accesslog.api_failing")) != 0 {
		t.Fatalf("after a success: %+v", res.Diagnoses)
	}
}

func TestTokenFailureBurst(t *testing.T) {
	c, w, clk := setup(t, "token_failure_threshold: 5\ntoken_failure_window: 1m\n")
	// Four failures spread over minutes: below the threshold in any window.
	for i := 0; i < 4; i++ {
		w.req("198.51.100.7", "POST", "/admin/api/api/token", 401, 1)
		clk.advance(50 * time.Second)
	}
	if res := runCheck(t, c); len(sdktest.Diagnoses(res, "accesslog.token_failures")) != 0 {
		t.Fatalf("no burst yet: %+v", res.Diagnoses)
	}
	clk.advance(5 * time.Minute)
	first := clk.t
	for i := 0; i < 6; i++ {
		w.req("198.51.100.7", "POST", "/admin/api/api/token", 401, 1)
		clk.advance(5 * time.Second)
	}
	w.req("198.51.100.7", "POST", "/admin/api/api/token", 400, 1)
	res := runCheck(t, c)
	ds := sdktest.Diagnoses(res, "accesslog.token_failures")
	if len(ds) != 1 || res.Status != sdk.StatusWarning {
		t.Fatalf("status %v diagnoses %+v", res.Status, res.Diagnoses)
	}
	d := ds[0].Details
	if d["client"] != "198.51.100.7" || d["count"] != "7" || d["statuses"] != "400×1, 401×6" || d["first"] != first.UTC().Format(time.RFC3339) || d["threshold"] != "5" {
		t.Fatalf("details %v", d)
	}
	if v, _ := sdktest.Metric(res, "accesslog_failed_requests_total", map[string]string{"endpoint": "token", "status": "401", "client": "198.51.100.7"}); v != 10 {
		t.Fatalf("failed token 401 = %v, want 10", v)
	}
}

// The client label is bounded: max_clients addresses, sticky, the rest
// added up under "other"; an address idle for a day gives its slot back,
// its counts moving to "other" so every sum stays monotonic.
func TestFailedClientsBounded(t *testing.T) {
	c, w, clk := setup(t, "max_clients: 3\n")
	for i := 1; i <= 10; i++ {
		w.req(fmt.Sprintf("203.0.113.%d", i), "POST", "/admin/api/api/token", 401, i)
	}
	res := runCheck(t, c)
	if n := series(res, "accesslog_failed_requests_total"); n != 4 {
		t.Fatalf("%d failed series, want 3 clients + other", n)
	}
	total := 0.0
	for i := 1; i <= 3; i++ {
		v, _ := sdktest.Metric(res, "accesslog_failed_requests_total", map[string]string{"client": fmt.Sprintf("203.0.113.%d", i)})
		total += v
	}
	other, _ := sdktest.Metric(res, "accesslog_failed_requests_total", map[string]string{"client": "other"})
	if total != 6 || other != 49 {
		t.Fatalf("own series %v, other %v; want 6 and 49", total, other)
	}
	clk.advance(25 * time.Hour)
	w.req("203.0.113.3", "POST", "/admin/api/api/token", 401, 1) // keeps its slot
	w.req("203.0.113.9", "POST", "/admin/api/api/token", 401, 1) // still other: slots are freed after the run
	runCheck(t, c)
	w.req("203.0.113.9", "POST", "/admin/api/api/token", 401, 1)
	res = runCheck(t, c)
	got := map[string]float64{}
	for _, m := range res.Metrics {
		if m.Name == "accesslog_failed_requests_total" {
			got[m.Labels["client"]] += m.Value
		}
	}
	if fmt.Sprint(got) != "map[203.0.113.3:4 203.0.113.9:1 other:53]" {
		t.Fatalf("after a day: %v", got)
	}
}

func TestMissingFileThenCreated(t *testing.T) {
	c, w, _ := setup(t, "")
	res := runCheck(t, c)
	if len(sdktest.Diagnoses(res, "accesslog.file_missing")) != 1 || res.Status != sdk.StatusWarning {
		t.Fatalf("%v %+v", res.Status, res.Diagnoses)
	}
	w.req("192.0.2.10", "POST", "/admin/api/api/gql", 200, 2)
	res = runCheck(t, c)
	if v, _ := sdktest.Metric(res, "accesslog_requests_total", map[string]string{"endpoint": "gql"}); v != 2 || res.Status != sdk.StatusOK {
		t.Fatalf("%v %v %+v", v, res.Status, res.Diagnoses)
	}
}

func TestWrongFormatIsADiagnosisNotACrash(t *testing.T) {
	c, w, _ := setup(t, "")
	appendRaw(t, w.path, `192.0.2.10 - - [29/Nov/2026:22:01:05 +0000] "POST /admin/api/api/token HTTP/1.1" 401 120`+"\n")
	appendRaw(t, w.path, "\x00\xff\xfe binary\n"+strings.Repeat("x", 40<<10)+"\n")
	res := runCheck(t, c)
	ds := sdktest.Diagnoses(res, "accesslog.unparsed_lines")
	if len(ds) != 1 || !strings.Contains(ds[0].Message, "format: common") && !strings.Contains(ds[0].Details["reason"], "format: common") {
		t.Fatalf("%+v", res.Diagnoses)
	}
	if v, _ := sdktest.Metric(res, "accesslog_unparsed_lines_total", nil); v != 3 {
		t.Fatalf("unparsed %v, want 3", v)
	}
}

func TestRestartKeepsCountsAndStreaks(t *testing.T) {
	dir, stateDir := t.TempDir(), t.TempDir()
	clk := &clock{time.Now()}
	w := &logWriter{t: t, path: filepath.Join(dir, "access.log"), clk: clk}
	cfg := "path: " + w.path + "\nstart_at: beginning\n"
	c := mustChecker(t, cfg, stateDir, clk)
	w.req("192.0.2.10", "POST", "/admin/api/api/gql", 200, 2)
	runCheck(t, c)
	c = mustChecker(t, cfg, stateDir, clk) // a restarted plugin
	w.req("192.0.2.10", "POST", "/admin/api/api/gql", 401, 1)
	res := runCheck(t, c)
	if v, _ := sdktest.Metric(res, "accesslog_requests_total", map[string]string{"endpoint": "gql", "status": "200"}); v != 2 {
		t.Fatalf("gql 200 = %v after restart", v)
	}
	if len(sdktest.Diagnoses(res, "accesslog.api_failing")) != 1 {
		t.Fatalf("streak lost across restart: %+v", res.Diagnoses)
	}
	b, _ := os.ReadFile(filepath.Join(stateDir, filepath.Base(stateFileOf(t, stateDir))))
	if !json.Valid(b) {
		t.Fatalf("state not JSON: %s", b)
	}
}

func stateFileOf(t *testing.T, dir string) string {
	m, _ := filepath.Glob(filepath.Join(dir, "position-*.json"))
	if len(m) != 1 {
		t.Fatalf("state files %v", m)
	}
	return m[0]
}

func TestConfigErrorsNameFileAndLine(t *testing.T) {
	_, err := newChecker(t, "path: /x\nformat: json\nstart_at: middle\nmax_clients: 0\ntoken_failure_window: 0s\n", t.TempDir(), nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"pbxwatch.yml:12: format \"json\"", "pbxwatch.yml:13: start_at", "pbxwatch.yml:14: max_clients 0", "pbxwatch.yml:15: token_failure_window"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := newChecker(t, "path: /x\nformt: common\n", t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "pbxwatch.yml:12") || !strings.Contains(err.Error(), "formt") {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := newChecker(t, "window: soon\n", t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "pbxwatch.yml:11") {
		t.Errorf("bad duration: %v", err)
	}
}

func TestDefaultPathFollowsTheDirectoryThatExists(t *testing.T) {
	for _, c := range []struct {
		dirs []string
		want string
	}{
		{nil, "/var/log/apache2/access.log"},
		{[]string{"/var/log/httpd"}, "/var/log/httpd/access_log"},
		{[]string{"/var/log/apache2", "/var/log/httpd"}, "/var/log/apache2/access.log"},
	} {
		cfg := defaultConfig()
		cfg.resolvePath(func(p string) bool {
			for _, d := range c.dirs {
				if filepath.Dir(p) == d {
					return true
				}
			}
			return false
		})
		if cfg.Path != c.want {
			t.Errorf("dirs %v: path %s, want %s", c.dirs, cfg.Path, c.want)
		}
	}
}

// One stray line among a quiet server's requests is counted, not a
// warning; a file where nothing ever parsed warns from its first line.
func TestOneStrayLineIsNotAFormatWarning(t *testing.T) {
	c, w, _ := setup(t, "")
	w.req("192.0.2.10", "POST", "/admin/api/api/gql", 200, 1)
	runCheck(t, c)
	appendRaw(t, w.path, "stray\n")
	if res := runCheck(t, c); res.Status != sdk.StatusOK {
		t.Fatalf("stray line: %v %+v", res.Status, res.Diagnoses)
	}
	c, w, _ = setup(t, "format: common\n")
	w.req("192.0.2.10", "POST", "/admin/api/api/gql", 200, 1) // combined lines, common config: parsed (common is a prefix)
	if res := runCheck(t, c); res.Status != sdk.StatusOK {
		t.Fatalf("%v %+v", res.Status, res.Diagnoses)
	}
	c, w, _ = setup(t, "format: vhost_combined\n")
	w.req("192.0.2.10", "POST", "/admin/api/api/gql", 200, 1)
	if res := runCheck(t, c); len(sdktest.Diagnoses(res, "accesslog.unparsed_lines")) != 1 {
		t.Fatalf("nothing ever parsed, one line: %+v", res.Diagnoses)
	}
}

// Each (endpoint, status) gets the remedy FreePBX's source explains it by,
// and no other.
func TestFailingRemediesFollowTheStatus(t *testing.T) {
	for pair, want := range map[string]string{
		"token 401": "invalid_client",
		"gql 401":   "bearer token",
		"rest 401":  "on REST only, a scope",
		"token 403": "AH01630",
		"ajax 403":  "ajaxRequest declined",
		"ucp 401":   "Not Authenticated",
		"gql 500":   "FreePBX 17 an expired or invalid bearer token",
		"rest 503":  "PHP fatal error",
	} {
		ep, _, _ := strings.Cut(pair, " ")
		rem := failingRemedies(&failingClient{addr: "192.0.2.10", eps: map[string]bool{ep: true}, pairs: map[string]bool{pair: true}})
		if len(rem) != 2 || !strings.Contains(rem[0], want) {
			t.Errorf("%s: %q, want one remedy with %q and the firewall one", pair, rem, want)
		}
	}
}
