package main_test

// The fleet page seen the way a person sees it: the real Prometheus
// scrapes four real agents (two refused by WHMCS for the same reason, one
// healthy, one that goes silent); a fifth agent with `fleet:` pointing at
// that Prometheus serves the page; headless Chromium loads it, draws the
// timelines with the vendored uPlot, and a screenshot is kept.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
	"github.com/pbxwatch/pbxwatch/internal/testutil/promtest"
)

const (
	fleetOK        = "status: OK\nsummary: all good\n"
	fleetInvalidIP = "status: CRITICAL\nsummary: WHMCS refuses this host\ndiagnoses:\n  - {code: whmcs.invalid_ip, severity: critical, message: Invalid IP 203.0.113.7}\n"
	fleetStale     = "status: WARNING\nsummary: backup is old\ndiagnoses:\n  - {code: backup.stale, severity: warning, message: The newest backup is 30 hours old.}\n"
	fleetTrunkDown = "status: CRITICAL\nsummary: trunk down\ndiagnoses:\n  - {code: freepbx.trunk_unreachable, severity: critical, message: The trunk does not answer.}\n"
)

// fleetHost starts a real agent with two scripted checks, an installation
// of its own.
func fleetHost(t *testing.T, scripts map[string]string) *agenttest.Daemon {
	t.Helper()
	in := agenttest.New(t)
	in.AddPlugin("scripted", scriptedPkg)
	checks := "checks:\n"
	for _, check := range []string{"whmcs_auth", "backup"} {
		script := filepath.Join(in.Dir, check+".yaml")
		if err := os.WriteFile(script, []byte(scripts[check]), 0o644); err != nil {
			t.Fatal(err)
		}
		checks += fmt.Sprintf("  - {name: %s, plugin: scripted, schedule: \"@every 1s\", config: {script_file: %s}}\n", check, script)
	}
	in.WriteConfig(checks)
	return in.Start(agenttest.Options{})
}

func TestFleetPageInABrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t)
	hosts := map[string]*agenttest.Daemon{
		"pbx-a": fleetHost(t, map[string]string{"whmcs_auth": fleetInvalidIP, "backup": fleetOK}),
		"pbx-b": fleetHost(t, map[string]string{"whmcs_auth": fleetInvalidIP, "backup": fleetStale}),
		"pbx-c": fleetHost(t, map[string]string{"whmcs_auth": fleetOK, "backup": fleetOK}),
		"pbx-d": fleetHost(t, map[string]string{"whmcs_auth": fleetTrunkDown, "backup": fleetOK}),
	}
	scrape := "global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: pbxwatch\n    static_configs:\n"
	for name, h := range hosts {
		h.WaitForText("/metrics", `pbxwatch_check_status{check="backup"`)
		scrape += fmt.Sprintf("      - {targets: [%q], labels: {instance: %s, customer: acme}}\n", h.Addr(), name)
	}
	prom := promtest.Prometheus(t, scrape)

	// The viewer: an agent whose fleet: block points at that Prometheus.
	e.WriteConfig(fmt.Sprintf(`fleet:
  prometheus_url: %s
  silent_after: 3s
checks:
  - {name: local, plugin: scripted, schedule: "@every 1h", config: {script_file: %s}}
`, prom.URL, e.script))
	d := e.start()
	d.WaitFor("four hosts in Prometheus, pbx-b's warning among them", func() bool {
		body, code := d.Fetch("/api/v1/fleet")
		return code == 200 && strings.Count(body, `"instance"`) == 4 && strings.Contains(body, `"backup.stale"`)
	})
	// pbx-d goes silent.
	hosts["pbx-d"].Stop()
	d.WaitFor("pbx-d silent", func() bool {
		body, _ := d.Fetch("/api/v1/fleet")
		var v struct {
			Hosts []struct {
				Instance string `json:"instance"`
				Silent   bool   `json:"silent"`
			} `json:"hosts"`
		}
		_ = json.Unmarshal([]byte(body), &v)
		for _, h := range v.Hosts {
			if h.Instance == "pbx-d" {
				return h.Silent
			}
		}
		return false
	})

	base := "http://" + d.Addr() + "/"
	var order, causes, resources []string
	var summary, bodyText string
	var charts int
	if err := run(ctx,
		chromedp.Navigate(base+"fleet"),
		chromedp.WaitVisible("#fleet-summary", chromedp.ByID),
		chromedp.WaitReady(`.timeline[data-drawn="true"]`),
		chromedp.Text("#fleet-summary", &summary, chromedp.ByID),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("section.host")).map(s => s.id.replace("host-", "") + ":" + s.dataset.status)`, &order),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("tr.cause")).map(r => r.dataset.code + ":" + r.dataset.hosts)`, &causes),
		chromedp.Evaluate(`document.querySelectorAll('.timeline[data-drawn="true"] .uplot canvas').length`, &charts),
		chromedp.Evaluate(`performance.getEntriesByType("resource").map(r => r.name)`, &resources),
		chromedp.Evaluate(`document.body.innerText`, &bodyText),
	); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "fleet-page.png")
	for _, want := range []string{"4 hosts:", "1 silent", "2 failing", "1 OK"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary %q lacks %q", summary, want)
		}
	}
	// Worst first: the silent host, then the CRITICAL ones (most failing
	// checks first), the healthy last.
	if got, want := strings.Join(order, " "), "pbx-d:SILENT pbx-b:CRITICAL pbx-a:CRITICAL pbx-c:OK"; got != want {
		t.Errorf("hosts in order %s, want %s", got, want)
	}
	if got := strings.Join(causes, " "); got != "whmcs.invalid_ip:2" {
		t.Errorf("shared causes %q, want whmcs.invalid_ip on 2 hosts", got)
	}
	// One chart per host that failed in the last 24 hours: pbx-d, pbx-b, pbx-a.
	if charts != 3 {
		t.Errorf("%d timelines drawn, want 3", charts)
	}
	for _, want := range []string{"one fix at whmcs, 2 hosts", "shared by 2 hosts", "Silent: last seen", "last known",
		"freepbx.trunk_unreachable", "backup.stale", "customer=acme", "Failing checks over the last 24 hours"} {
		if !strings.Contains(bodyText, want) {
			t.Errorf("page text lacks %q", want)
		}
	}
	// Everything the page loaded came from the agent itself.
	for _, r := range resources {
		if !strings.HasPrefix(r, base) {
			t.Errorf("the page loaded %s from elsewhere", r)
		}
	}
	if len(resources) < 3 {
		t.Errorf("resources %v: the chart library, its CSS and the page script", resources)
	}
}
