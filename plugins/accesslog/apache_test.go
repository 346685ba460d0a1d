package accesslog

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
	"github.com/pbxwatch/pbxwatch/internal/testutil/apachetest"
	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

const pluginPkg = "github.com/pbxwatch/pbxwatch/plugins/accesslog"

// apiCall is a request the tests make, with the endpoint the plugin must
// file it under: written out here, not computed with classify.
type apiCall struct {
	method, path, endpoint string
}

var calls = []apiCall{
	{"POST", "/admin/api/api/token", "token"},
	{"POST", "/admin/api/api/gql", "gql"},
	{"GET", "/admin/api/api/rest/core/extensions", "rest"},
	{"POST", "/admin/ajax.php?module=core&command=getExtensions", "ajax"},
	{"POST", "/admin/api/api/graphql", "ajax"},
	{"POST", "/ucp/ajax.php?module=home&command=poll", "ucp"},
	{"GET", "/admin/config.php?display=extensions", "other"},
}

// expected tracks what the plugin must count.
type expected map[string]float64

func (e expected) add(c apiCall, status int) {
	label := fmt.Sprint(status)
	if c.endpoint == "other" {
		label = fmt.Sprintf("%dxx", status/100)
	}
	e[c.endpoint+" "+label]++
}

func (e expected) check(t *testing.T, res *sdk.Result) {
	t.Helper()
	got := map[string]float64{}
	for _, m := range res.Metrics {
		if m.Name == "accesslog_requests_total" {
			got[m.Labels["endpoint"]+" "+m.Labels["status"]] = m.Value
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(map[string]float64(e)) {
		t.Fatalf("accesslog_requests_total\n got  %v\n want %v\n%s", got, map[string]float64(e), res.Summary)
	}
}

func startPlugin(t *testing.T, bin, cfg, stateDir string) *sdktest.Plugin {
	t.Helper()
	p, err := sdktest.Start(t, bin, sdktest.Options{Config: cfg, StateDir: stateDir})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRealApacheDiagnoses: requests from three loopback addresses against
// a real Apache; the plugin process reads the access log Apache wrote.
// 127.0.0.2's GraphQL calls begin failing with 403 after successes;
// 127.0.0.3 retries a wrong secret (token 401s); REST answers 500.
func TestRealApacheDiagnoses(t *testing.T) {
	ap := apachetest.Start(t)
	bin := sdktest.Build(t, pluginPkg)
	cfg := fmt.Sprintf("path: %s\nstart_at: beginning\ntoken_failure_threshold: 5\ntoken_failure_window: 1m\n", ap.AccessLog)
	p := startPlugin(t, bin, cfg, t.TempDir())
	want := expected{}
	do := func(from string, c apiCall, status int) {
		ap.Do(from, c.method, c.path, status)
		if status == 0 {
			status = 200
		}
		want.add(c, status)
	}
	glue, guesser := "127.0.0.2", "127.0.0.3"
	do(glue, calls[0], 200)
	for i := 0; i < 3; i++ {
		do(glue, calls[1], 200)
	}
	do(glue, calls[6], 200)
	ap.Settle()
	res := p.Check(context.Background())
	if res.Status != sdk.StatusOK {
		t.Fatalf("healthy traffic: %v %s %+v", res.Status, res.Summary, res.Diagnoses)
	}
	want.check(t, res)

	start := time.Now().UTC().Truncate(time.Second)
	do(glue, calls[0], 200)
	do(glue, calls[1], 403)
	do(glue, calls[1], 403)
	for i := 0; i < 6; i++ {
		do(guesser, calls[0], 401)
	}
	do(glue, calls[2], 500)
	ipv6 := ""
	if ap.IPv6 {
		ipv6 = "::1"
		do(ipv6, calls[2], 200)
		do(ipv6, calls[2], 401)
	}
	ap.Settle()
	res = p.Check(context.Background())
	if res.Status != sdk.StatusCritical {
		t.Fatalf("status %v %+v", res.Status, res.Diagnoses)
	}
	want.check(t, res)
	failing := map[string]sdk.Diagnosis{}
	for _, d := range sdktest.Diagnoses(res, "accesslog.api_failing") {
		failing[d.Details["client"]] = d
	}
	d, ok := failing[glue]
	if !ok || d.Details["endpoints"] != "gql,rest" || d.Details["statuses"] != "gql 403×2, rest 500×1" || d.Details["count"] != "3" {
		t.Fatalf("api_failing for %s: %+v", glue, res.Diagnoses)
	}
	if first, _ := time.Parse(time.RFC3339, d.Details["first"]); first.Before(start) || first.After(time.Now()) {
		t.Fatalf("first failure %s, test started failing at %s", d.Details["first"], start)
	}
	if _, ok := failing[guesser]; ok {
		t.Fatalf("a client that never succeeded is not 'began failing': %+v", failing[guesser])
	}
	if ipv6 != "" {
		// ::1 had no earlier success on rest before its 200, then 401: failing.
		if d, ok := failing[ipv6]; !ok || d.Details["statuses"] != "rest 401×1" {
			t.Fatalf("IPv6 client: %+v", res.Diagnoses)
		}
	}
	bursts := sdktest.Diagnoses(res, "accesslog.token_failures")
	if len(bursts) != 1 || bursts[0].Details["client"] != guesser || bursts[0].Details["count"] != "6" || bursts[0].Details["statuses"] != "401×6" {
		t.Fatalf("token_failures: %+v", bursts)
	}
	se := sdktest.Diagnoses(res, "accesslog.server_errors")
	if len(se) != 1 || se[0].Details["endpoint"] != "rest" || se[0].Details["clients"] != glue+"×1" {
		t.Fatalf("server_errors: %+v", se)
	}
	if v, _ := sdktest.Metric(res, "accesslog_failed_requests_total", map[string]string{"endpoint": "token", "status": "401", "client": guesser}); v != 6 {
		t.Fatalf("failed token 401 from %s = %v", guesser, v)
	}
}

// TestRealApacheLogrotate: Apache serves a random mix of FreePBX API
// requests while the real logrotate rotates its access log, as Debian's
// apache2 logrotate file does (create, compress, delaycompress, a graceful
// reload in postrotate) and with copytruncate, and the plugin process is
// killed and restarted, sometimes across two rotations. Every request is
// counted once, by endpoint and exact status.
func TestRealApacheLogrotate(t *testing.T) {
	lr := testutil.Tool(t, "logrotate")
	bin := sdktest.Build(t, pluginPkg)
	modes := map[string]string{
		"create_reload": "  create 0640 root root\n  compress\n  delaycompress\n  sharedscripts\n  postrotate\n    kill -USR1 $(cat %s)\n  endscript\n",
		"copytruncate":  "  copytruncate\n  compress\n  delaycompress\n",
	}
	for name, opts := range modes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runApacheRotation(t, lr, bin, opts)
		})
	}
}

func runApacheRotation(t *testing.T, lrBin, bin, opts string) {
	ap := apachetest.Start(t)
	dir := t.TempDir()
	reload := strings.Contains(opts, "postrotate")
	if reload {
		opts = fmt.Sprintf(opts, ap.PIDFile())
	}
	conf := filepath.Join(dir, "logrotate.conf")
	body := fmt.Sprintf("%s {\n  rotate 100\n  missingok\n  ifempty\n%s}\n", ap.AccessLog, opts)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	rotations := 0
	rotate := func() {
		ap.Settle()
		gen := ap.Generation()
		if out, err := exec.Command(lrBin, "-f", "-s", filepath.Join(dir, "logrotate.state"), conf).CombinedOutput(); err != nil {
			t.Fatalf("logrotate: %v\n%s", err, out)
		}
		if reload {
			ap.WaitReloaded(gen)
		}
		rotations++
	}
	stateDir := filepath.Join(dir, "state")
	os.Mkdir(stateDir, 0o755)
	cfg := fmt.Sprintf("path: %s\nstart_at: beginning\n", ap.AccessLog)
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	want := expected{}
	clients := []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}
	statuses := append([]int{200, 200, 200}, apachetest.Statuses...)
	traffic := func(n int) {
		for i := 0; i < n; i++ {
			c, st := calls[rng.Intn(len(calls))], statuses[rng.Intn(len(statuses))]
			ap.Do(clients[rng.Intn(len(clients))], c.method, c.path, st)
			want.add(c, st)
		}
	}
	traffic(20)
	p := startPlugin(t, bin, cfg, stateDir)
	for step := 0; step < 8; step++ {
		traffic(10 + rng.Intn(20))
		switch step % 4 {
		case 1:
			rotate()
		case 2:
			syscall.Kill(p.PID(), syscall.SIGKILL)
			p.Close()
			p = startPlugin(t, bin, cfg, stateDir)
		case 3:
			// Down across two rotations.
			syscall.Kill(p.PID(), syscall.SIGTERM)
			p.Close()
			traffic(5)
			rotate()
			traffic(5)
			rotate()
			p = startPlugin(t, bin, cfg, stateDir)
		}
		ap.Settle()
		if res := p.Check(context.Background()); res.Status == sdk.StatusUnknown || len(sdktest.Diagnoses(res, "accesslog.unparsed_lines")) > 0 {
			t.Fatalf("step %d: %v %s %+v", step, res.Status, res.Summary, res.Diagnoses)
		}
	}
	traffic(10)
	ap.Settle()
	res := p.Check(context.Background())
	want.check(t, res)
	if v, _ := sdktest.Metric(res, "accesslog_rotations_total", nil); v != float64(rotations) {
		t.Fatalf("%v rotations counted, logrotate ran %d times", v, rotations)
	}
	if v, _ := sdktest.Metric(res, "accesslog_unparsed_lines_total", nil); v != 0 {
		t.Fatalf("%v unparsed lines", v)
	}
	t.Logf("%d requests, %d rotations, all counted once", ap.Requests(), rotations)
}
