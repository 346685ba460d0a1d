package main_test

// The status page seen the way a person sees it: a real headless Chromium
// (Debian's chromium) driven by chromedp loads the pages of a running
// agent whose checks run real plugins (whmcs against its simulator, the
// scripted test plugin for status changes).

import (
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
	"github.com/pbxwatch/pbxwatch/plugins/whmcs/whmcssim"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// browser starts a fresh headless Chromium for the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	testutil.Slow(t, "headless Chromium")
	bin := testutil.Tool(t, "chromium")
	// The profile is removed by this test's own clean-up, after the
	// browser: Chromium's helper processes outlive the one chromedp waits
	// for by a moment and still write into it, which made t.TempDir's
	// removal fail the test ("directory not empty").
	profile, err := os.MkdirTemp("", "pbxwatch-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1200, 900),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		removeProfile(t, profile)
	})
	// Start the browser now. (Its lifetime is that of the context of the
	// first Run, so this one has no timeout of its own.)
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// removeProfile removes Chromium's profile directory, retrying for a few
// seconds while the browser's last helper processes finish writing to it.
func removeProfile(t *testing.T, dir string) {
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
	}
	t.Errorf("remove the browser profile %s: %v", dir, err)
}

// artifacts is where screenshots go: $PBXWATCH_ARTIFACTS (CI keeps it),
// else a temporary directory.
func artifacts(t *testing.T) string {
	dir := os.Getenv("PBXWATCH_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	var png []byte
	if err := run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(artifacts(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

func run(ctx context.Context, actions ...chromedp.Action) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return chromedp.Run(ctx, actions...)
}

// secret is the scripted check's secret: every character that encodings
// change.
const pageSecret = `S3cr&t<"quote'>/%+ =?#\ü`

func secretForms(s string) []string {
	return []string{s, url.QueryEscape(s), url.PathEscape(s), html.EscapeString(s), base64.StdEncoding.EncodeToString([]byte(s)),
		strings.ReplaceAll(strings.ReplaceAll(s, `"`, `\"`), `\`, `\\`), "S3cr&amp;t", `S3cr\u0026t`}
}

func TestStatusPageInABrowser(t *testing.T) {
	e := newEnv(t)
	e.LinkPlugin("whmcs", sdktest.Build(t, "github.com/pbxwatch/pbxwatch/plugins/whmcs"))
	sim := httptest.NewServer(whmcssim.New(whmcssim.Options{}))
	defer sim.Close()
	creds := t.TempDir()
	write := func(path, body string) string {
		t.Helper()
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	ident := write(filepath.Join(creds, "id"), whmcssim.DefaultIdentifier+"\n")
	secret := write(filepath.Join(creds, "secret"), whmcssim.DefaultSecret+"\n")
	flappy := write(filepath.Join(creds, "flappy.yaml"), "status: OK\nsummary: trunk registered\n")
	healthy := write(filepath.Join(creds, "healthy.yaml"), "status: OK\nsummary: all good\n")
	leaky := write(filepath.Join(creds, "leaky.yaml"), "behave: leak_secret\n")
	warn := write(filepath.Join(creds, "warn.yaml"), `status: WARNING
summary: backup is 30 hours old
diagnoses:
  - {code: backup.stale, severity: warning, message: The newest backup is 30 hours old., remediation: [Check the backup job in FreePBX > Admin > Backup & Restore.]}
`)
	cfg := fmt.Sprintf(`agent: {state_dir: %s, plugin_dir: %s}
checks:
  - name: a_healthy
    plugin: scripted
    schedule: "@every 1h"
    config: {script_file: %s}
  - name: flappy
    plugin: scripted
    schedule: "@every 1s"
    config: {script_file: %s}
  - name: backup
    plugin: scripted
    schedule: "@every 1h"
    config: {script_file: %s}
  - name: leaky
    plugin: scripted
    schedule: "@every 1h"
    config: {script_file: %s, secret: %q}
  - name: whmcs_auth
    plugin: whmcs
    schedule: "@every 1h"
    timeout: 10s
    config:
      url: %s/invalid_ip/
      identifier_file: %s
      secret_file: %s
`, e.StateDir, e.PluginDir, healthy, flappy, warn, leaky, pageSecret, sim.URL, ident, secret)
	write(e.Config, cfg)
	d := e.start()
	d.WaitFor("every check run", func() bool {
		body, _ := d.Fetch("/checks")
		return !strings.Contains(body, "not run yet") && strings.Contains(body, "whmcs_auth CRITICAL")
	})

	ctx := browser(t)
	base := "http://" + d.Addr() + "/"
	var summary, bodyText, pageHTML string
	var order []string
	if err := run(ctx,
		chromedp.Navigate(base),
		chromedp.WaitVisible("#summary", chromedp.ByID),
		chromedp.Text("#summary", &summary, chromedp.ByID),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("section.check")).map(s => s.id.replace("check-", "") + ":" + s.dataset.status)`, &order),
		chromedp.Evaluate(`document.body.innerText`, &bodyText),
		chromedp.OuterHTML("html", &pageHTML),
	); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "status-page.png")
	for _, want := range []string{"5 checks:", "1 CRITICAL", "1 UNKNOWN", "1 WARNING", "2 OK", "Alerts: not configured"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary %q lacks %q", summary, want)
		}
	}
	wantOrder := []string{"whmcs_auth:CRITICAL", "leaky:UNKNOWN", "backup:WARNING", "a_healthy:OK", "flappy:OK"}
	if strings.Join(order, " ") != strings.Join(wantOrder, " ") {
		t.Errorf("checks in order %v, want %v (worst first)", order, wantOrder)
	}
	// A person reads the diagnosis, its evidence and the steps to fix it,
	// and the status as a word, not only as a colour.
	for _, want := range []string{"whmcs.invalid_ip", "How to fix", "Evidence", "✖ CRITICAL", "▲ WARNING", "✔ OK",
		"Check the backup job in FreePBX > Admin > Backup & Restore.", "Last run:", "Next run:"} {
		if !strings.Contains(bodyText, want) {
			t.Errorf("page text lacks %q", want)
		}
	}
	var steps int
	if err := run(ctx, chromedp.Evaluate(`document.querySelectorAll("#check-whmcs_auth ol.steps li").length`, &steps)); err != nil || steps < 2 {
		t.Errorf("whmcs_auth shows %d remediation steps (%v)", steps, err)
	}

	// A status change shows in the check's history.
	write(flappy, `status: CRITICAL
summary: trunk lost its registration
diagnoses:
  - {code: trunk.unregistered, severity: critical, message: The trunk is not registered., remediation: [Check the provider's credentials.]}
`)
	d.WaitFor("flappy CRITICAL", func() bool { return d.Metric(`pbxwatch_check_status{check="flappy",plugin="scripted"}`) == 2 })
	var changes, runs, held string
	if err := run(ctx,
		chromedp.Navigate(base+"checks/flappy"),
		chromedp.WaitVisible("#changes", chromedp.ByID),
		chromedp.Text("#changes", &changes, chromedp.ByID),
		chromedp.Text("#runs", &runs, chromedp.ByID),
		chromedp.Text("#alerts", &held, chromedp.ByID),
	); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "check-page.png")
	if !strings.Contains(changes, "OK\tCRITICAL\ttrunk lost its registration") || !strings.Contains(changes, "(start)\tOK") {
		t.Errorf("status changes table:\n%s", changes)
	}
	if !strings.Contains(runs, "trunk.unregistered") || strings.Count(runs, "\n") < 2 {
		t.Errorf("last runs table:\n%s", runs)
	}
	if !strings.Contains(held, "firing\tPbxwatchCheckFailing") || !strings.Contains(held, "code=trunk.unregistered") {
		t.Errorf("alerts table:\n%s", held)
	}

	// No secret on any page, in any encoding.
	api, _ := d.Fetch("/api/v1/checks")
	leakyPage, _ := d.Fetch("/checks/leaky")
	text, _ := d.Fetch("/checks")
	for _, page := range []string{pageHTML, api, leakyPage, text} {
		for _, form := range secretForms(pageSecret) {
			if strings.Contains(page, form) {
				t.Errorf("secret (as %q) on a page", form)
			}
		}
	}
}
