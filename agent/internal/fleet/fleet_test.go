package fleet_test

// The fleet view against the real Prometheus scraping real agents: hosts
// that share a cause, a host that fails two checks, a healthy one, and one
// that went silent; read through `pbxwatch fleet` as an operator runs it.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
	"github.com/pbxwatch/pbxwatch/internal/testutil/promtest"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

const (
	agentPkg    = "github.com/pbxwatch/pbxwatch/agent"
	scriptedPkg = "github.com/pbxwatch/pbxwatch/sdk/pluginhost/internal/testplugins/scripted"
)

const (
	okScript       = "status: OK\nsummary: all good\n"
	invalidIP      = "status: CRITICAL\nsummary: WHMCS refuses this host\ndiagnoses:\n  - {code: whmcs.invalid_ip, severity: critical, message: Invalid IP 203.0.113.7}\n"
	backupStale    = "status: WARNING\nsummary: backup is old\ndiagnoses:\n  - {code: backup.stale, severity: warning, message: The newest backup is 30 hours old.}\n"
	backupFailed   = "status: CRITICAL\nsummary: backup failed\ndiagnoses:\n  - {code: backup.failed, severity: critical, message: The last backup failed.}\n"
	undiagnosedBad = "status: CRITICAL\nsummary: something is wrong\n"
)

// host is one real agent with two scripted checks, whmcs_auth and backup.
type host struct {
	name   string
	dir    string
	agent  *agenttest.Daemon
	script map[string]string // check -> script file
}

func startHost(t *testing.T, plugin, name string, scripts map[string]string) *host {
	t.Helper()
	return startHostWith(t, plugin, name, "", scripts)
}

// startHostWith starts a host whose config has extra (top-level blocks
// such as remote_write:) added; its agent: block carries its instance.
func startHostWith(t *testing.T, plugin, name, extra string, scripts map[string]string) *host {
	t.Helper()
	in := agenttest.New(t)
	in.LinkPlugin("scripted", plugin)
	h := &host{name: name, dir: in.Dir, script: map[string]string{}}
	cfg := fmt.Sprintf("  external_labels: {instance: %s, site: lyon}\n%schecks:\n", name, extra)
	for _, check := range []string{"whmcs_auth", "backup"} {
		h.script[check] = filepath.Join(h.dir, check+".yaml")
		h.set(t, check, scripts[check])
		cfg += fmt.Sprintf("  - {name: %s, plugin: scripted, schedule: \"@every 1s\", config: {script_file: %s}}\n", check, h.script[check])
	}
	in.WriteConfig(cfg)
	h.agent = in.Start(agenttest.Options{})
	return h
}

func (h *host) set(t *testing.T, check, script string) {
	t.Helper()
	if err := os.WriteFile(h.script[check], []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fleetHost is the JSON contract of `pbxwatch fleet --output=json`.
type fleetHost struct {
	Instance string            `json:"instance"`
	Labels   map[string]string `json:"labels"`
	Silent   bool              `json:"silent"`
	LastSeen *time.Time        `json:"last_seen"`
	Status   string            `json:"status"`
	Checks   []struct {
		Check             string     `json:"check"`
		Status            string     `json:"status"`
		Code              string     `json:"code"`
		Since             *time.Time `json:"since"`
		SinceBeforeWindow bool       `json:"since_before_window"`
		Timeline          []struct {
			From, To time.Time
			Status   string
		} `json:"timeline"`
	} `json:"checks"`
}

func fleetCLI(t *testing.T, agent string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(agent, append([]string{"fleet"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func TestFleetCommandAgainstPrometheus(t *testing.T) {
	testutil.Slow(t, "prometheus and four agents")
	t.Parallel()
	agent := sdktest.Build(t, agentPkg)
	plugin := sdktest.Build(t, scriptedPkg)
	hosts := []*host{
		startHost(t, plugin, "pbx-a", map[string]string{"whmcs_auth": invalidIP, "backup": okScript}),
		startHost(t, plugin, "pbx-b", map[string]string{"whmcs_auth": invalidIP, "backup": backupStale}),
		startHost(t, plugin, "pbx-c", map[string]string{"whmcs_auth": okScript, "backup": okScript}),
		startHost(t, plugin, "pbx-d", map[string]string{"whmcs_auth": undiagnosedBad, "backup": okScript}),
	}
	scrape := "global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: pbxwatch\n    static_configs:\n"
	for _, h := range hosts {
		h.agent.WaitForText("/metrics", `pbxwatch_check_status{check="backup"`)
		scrape += fmt.Sprintf("      - {targets: [%q], labels: {instance: %s, site: lyon}}\n", h.agent.Addr(), h.name)
	}
	prom := promtest.Prometheus(t, scrape)

	// Let Prometheus see every host for a while, then make pbx-c's backup
	// fail and stop pbx-d's agent.
	waitQuery(t, prom.URL, `count(count by (instance) (pbxwatch_check_status))`, "4")
	time.Sleep(2 * time.Second)
	changed := time.Now()
	hosts[2].set(t, "backup", backupFailed)
	hosts[3].agent.Stop()
	stopped := time.Now()
	waitQuery(t, prom.URL, `pbxwatch_check_diagnosis{instance="pbx-c",code="backup.failed"}`, "1")
	time.Sleep(4 * time.Second) // longer than --silent.after

	out, stderr, code := fleetCLI(t, agent, "--prometheus.url="+prom.URL, "--output=json", "--silent.after=3s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got []fleetHost
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not a JSON list of hosts: %v\n%s", err, out)
	}
	var order []string
	for _, h := range got {
		order = append(order, fmt.Sprintf("%s:%s:%v", h.Instance, h.Status, h.Silent))
	}
	// Worst first: the silent host, then the CRITICAL ones, most failing
	// checks first, then by name; the healthy last.
	want := "pbx-d:CRITICAL:true pbx-b:CRITICAL:false pbx-a:CRITICAL:false pbx-c:CRITICAL:false"
	if strings.Join(order, " ") != want {
		t.Fatalf("hosts %v, want %s\n%s", order, want, out)
	}
	byName := map[string]fleetHost{}
	for _, h := range got {
		byName[h.Instance] = h
		if h.Labels["site"] != "lyon" || h.Labels["job"] != "pbxwatch" {
			t.Errorf("%s: identity labels %v", h.Instance, h.Labels)
		}
	}
	checks := func(h string) string {
		var s []string
		for _, c := range byName[h].Checks {
			s = append(s, c.Check+"="+c.Status+"/"+c.Code)
		}
		return strings.Join(s, " ")
	}
	for h, want := range map[string]string{
		"pbx-a": "whmcs_auth=CRITICAL/whmcs.invalid_ip backup=OK/",
		"pbx-b": "whmcs_auth=CRITICAL/whmcs.invalid_ip backup=WARNING/backup.stale",
		"pbx-c": "backup=CRITICAL/backup.failed whmcs_auth=OK/",
		"pbx-d": "whmcs_auth=CRITICAL/pbxwatch.unknown backup=OK/",
	} {
		if got := checks(h); got != want {
			t.Errorf("%s checks %s, want %s", h, got, want)
		}
	}
	// Since when: pbx-c's backup turned CRITICAL at `changed` (the view's
	// resolution is a minute); its whmcs_auth has been OK all along.
	c := byName["pbx-c"].Checks[0]
	if c.Since == nil || c.Since.Before(changed.Add(-2*time.Second)) || c.Since.After(changed.Add(61*time.Second)) {
		t.Errorf("pbx-c backup CRITICAL since %v, changed at %v", c.Since, changed)
	}
	if len(c.Timeline) != 1 || c.Timeline[0].Status != "CRITICAL" {
		t.Errorf("pbx-c backup timeline %+v", c.Timeline)
	}
	if ok := byName["pbx-c"].Checks[1]; !ok.SinceBeforeWindow || len(ok.Timeline) != 0 {
		t.Errorf("pbx-c whmcs_auth: OK all the window, got %+v", ok)
	}
	d := byName["pbx-d"]
	if d.LastSeen == nil || d.LastSeen.Before(stopped.Add(-3*time.Second)) || d.LastSeen.After(stopped.Add(time.Second)) {
		t.Errorf("pbx-d last seen %v, stopped at %v", d.LastSeen, stopped)
	}

	text, stderr, code := fleetCLI(t, agent, "--prometheus.url="+prom.URL, "--silent.after=3s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	t.Logf("pbxwatch fleet:\n%s", text)
	for _, want := range []string{
		"4 hosts: 1 silent, 3 failing, 0 OK",
		"CRITICAL whmcs.invalid_ip: one fix at whmcs, 2 hosts: pbx-a, pbx-b",
		"whmcs.invalid_ip (shared by 2 hosts)",
		"SILENT",
		"CRITICAL (last known)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q", want)
		}
	}
	if strings.Contains(text, "pbxwatch.unknown (shared") {
		t.Error("a silent host's last cause counted as shared")
	}
}

func TestFleetCommandSaysWhyTheEngineCannotAnswer(t *testing.T) {
	agent := sdktest.Build(t, agentPkg)
	addr := agenttest.FreeAddr(t)
	_, stderr, code := fleetCLI(t, agent, "--prometheus.url=http://"+addr)
	if code != 1 || !strings.Contains(stderr, "http://"+addr) || !strings.Contains(stderr, "connection refused") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = fleetCLI(t, agent)
	if code != 1 || !strings.Contains(stderr, "--prometheus.url") {
		t.Errorf("without --prometheus.url: exit %d, stderr %q", code, stderr)
	}
}

// waitQuery waits until the instant query's first result has the value
// want.
func waitQuery(t *testing.T, promURL, q, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get(promURL + "/api/v1/query?query=" + url.QueryEscape(q))
		if err == nil {
			var body struct {
				Data struct {
					Result []struct {
						Value [2]any `json:"value"`
					} `json:"result"`
				} `json:"data"`
			}
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if err == nil && len(body.Data.Result) > 0 {
				last = fmt.Sprint(body.Data.Result[0].Value[1])
				if last == want {
					return
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("query %s: last %q, want %q", q, last, want)
}

// Any engine with Prometheus's HTTP API: VictoriaMetrics fed by the
// agents' own remote write (no scrape at all), read by `pbxwatch fleet`.
func TestFleetCommandAgainstVictoriaMetricsFedByRemoteWrite(t *testing.T) {
	testutil.Slow(t, "victoria-metrics and four agents")
	t.Parallel()
	vm := promtest.VictoriaMetrics(t)
	agent := sdktest.Build(t, agentPkg)
	plugin := sdktest.Build(t, scriptedPkg)
	push := fmt.Sprintf("remote_write: [{url: %q, interval: 1s}]\n", vm.URL+"/api/v1/write")
	hosts := []*host{
		startHostWith(t, plugin, "pbx-a", push, map[string]string{"whmcs_auth": invalidIP, "backup": okScript}),
		startHostWith(t, plugin, "pbx-b", push, map[string]string{"whmcs_auth": invalidIP, "backup": backupStale}),
		startHostWith(t, plugin, "pbx-c", push, map[string]string{"whmcs_auth": okScript, "backup": backupFailed}),
		startHostWith(t, plugin, "pbx-d", push, map[string]string{"whmcs_auth": okScript, "backup": okScript}),
	}
	waitQuery(t, vm.URL, `count(count by (instance) (pbxwatch_check_diagnosis))`, "3")
	// pbx-c's backup is fixed; pbx-d's agent stops.
	hosts[2].set(t, "backup", okScript)
	hosts[3].agent.Stop()
	stopped := time.Now()
	waitQuery(t, vm.URL, `pbxwatch_check_status{instance="pbx-c",check="backup"}`, "0")
	time.Sleep(4 * time.Second) // past --silent.after

	out, stderr, code := fleetCLI(t, agent, "--prometheus.url="+vm.URL, "--output=json", "--silent.after=3s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got []fleetHost
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not a JSON list of hosts: %v\n%s", err, out)
	}
	var order []string
	for _, h := range got {
		order = append(order, fmt.Sprintf("%s:%s:%v", h.Instance, h.Status, h.Silent))
		var checks []string
		for _, c := range h.Checks {
			checks = append(checks, c.Check+"="+c.Status+"/"+c.Code)
		}
		want := map[string]string{
			"pbx-a": "whmcs_auth=CRITICAL/whmcs.invalid_ip backup=OK/",
			"pbx-b": "whmcs_auth=CRITICAL/whmcs.invalid_ip backup=WARNING/backup.stale",
			"pbx-c": "backup=OK/ whmcs_auth=OK/",
			"pbx-d": "backup=OK/ whmcs_auth=OK/",
		}[h.Instance]
		if strings.Join(checks, " ") != want {
			t.Errorf("%s: checks %v, want %s", h.Instance, checks, want)
		}
		if h.Instance == "pbx-c" {
			// The failure it had shows in its timeline, ended.
			if c := h.Checks[0]; len(c.Timeline) != 1 || c.Since == nil || c.Timeline[0].To.After(time.Now()) {
				t.Errorf("pbx-c backup: since %v, timeline %+v", c.Since, c.Timeline)
			}
		}
		if h.Instance == "pbx-d" && (h.LastSeen == nil || h.LastSeen.Before(stopped.Add(-5*time.Second)) || h.LastSeen.After(stopped.Add(2*time.Second))) {
			t.Errorf("pbx-d last seen %v, stopped at %v", h.LastSeen, stopped)
		}
	}
	if want := "pbx-d:OK:true pbx-b:CRITICAL:false pbx-a:CRITICAL:false pbx-c:OK:false"; strings.Join(order, " ") != want {
		t.Errorf("hosts %v, want %s\n%s", order, want, out)
	}
}
