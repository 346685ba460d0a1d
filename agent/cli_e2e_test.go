package main_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
)

// TestHelpPrintsOnceExitsZeroAndStartsNothing: --help and -h on every
// command print its usage once to stdout and exit 0; `run --help` must not
// start the daemon (it would listen and never exit).
func TestHelpPrintsOnceExitsZeroAndStartsNothing(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.scriptedCheck("c", "@every 1m", "5s"))
	addr := agenttest.FreeAddr(t)
	for _, cmd := range [][]string{{}, {"run"}, {"validate"}, {"check"}, {"list"}, {"version"}} {
		for _, flag := range []string{"--help", "-h"} {
			args := append(append([]string{}, cmd...), flag, "--web.listen-address="+addr)
			if len(cmd) == 0 || cmd[0] != "run" {
				args = append(append([]string{}, cmd...), flag)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			c := exec.CommandContext(ctx, e.Agent, args...)
			var out, errb strings.Builder
			c.Stdout, c.Stderr = &out, &errb
			err := c.Run()
			timedOut := ctx.Err() != nil
			cancel()
			if timedOut {
				t.Fatalf("pbxwatch %v did not exit: it started something", args)
			}
			if err != nil {
				t.Errorf("pbxwatch %v: %v\n%s", args, err, errb.String())
			}
			if n := strings.Count(out.String(), "usage: pbxwatch"); n != 1 {
				t.Errorf("pbxwatch %v printed the usage %d times:\n%s", args, n, out.String())
			}
			if errb.Len() != 0 {
				t.Errorf("pbxwatch %v wrote to stderr: %s", args, errb.String())
			}
		}
	}
}

func TestVersionFlagAndCommand(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, stderr, code := e.cli(args...)
		if code != 0 || !strings.HasPrefix(out, "pbxwatch, version ") || !strings.Contains(out, "go version:") {
			t.Errorf("pbxwatch %v: exit %d\n%s%s", args, code, out, stderr)
		}
	}
}

// TestUsageErrorsExitWithDocumentedCodes: 1, and 3 (UNKNOWN) for check.
func TestUsageErrorsExitWithDocumentedCodes(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{nil, 1},
		{[]string{"bogus"}, 1},
		{[]string{"run", "--bogus"}, 1},
		{[]string{"list", "--output=xml"}, 1},
		{[]string{"run", "--web.external-url=ftp://x/"}, 1},
		{[]string{"check"}, 3},
		{[]string{"check", "--bogus", "x"}, 3},
	} {
		_, stderr, code := e.cli(tc.args...)
		if code != tc.code || stderr == "" {
			t.Errorf("pbxwatch %v: exit %d, want %d; stderr %q", tc.args, code, tc.code, stderr)
		}
	}
}

func TestListShowsChecksScheduleAndNextRun(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.scriptedCheck("hourly", "0 * * * *", "5s") + e.scriptedCheck("often", "@every 30s", "10s"))
	out, stderr, code := e.cli("list", "--config.file="+e.Config)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^CHECK +PLUGIN +SCHEDULE +TIMEOUT +NEXT RUN$`),
		regexp.MustCompile(`(?m)^hourly +scripted +0 \* \* \* \* +5s +\d{4}-\d\d-\d\dT\d\d:00:00Z$`),
		regexp.MustCompile(`(?m)^often +scripted +@every 30s +10s +\d{4}-`),
	} {
		if !want.MatchString(out) {
			t.Errorf("list output does not match %s:\n%s", want, out)
		}
	}
	out, _, code = e.cli("list", "--config.file="+e.Config, "--output=json")
	var got []struct {
		Name, Plugin, Schedule, Timeout string
		NextRun                         time.Time `json:"next_run"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if len(got) != 2 || got[1].Name != "often" || got[1].Schedule != "@every 30s" || got[1].Plugin != "scripted" {
		t.Fatalf("%+v", got)
	}
	if d := time.Until(got[1].NextRun); d <= 0 || d > 31*time.Second {
		t.Errorf("next run of @every 30s in %s", d)
	}
	if _, stderr, code := e.cli("list", "--config.file=/nonexistent.yml"); code != 1 || !strings.Contains(stderr, "/nonexistent.yml") {
		t.Errorf("missing config: exit %d %q", code, stderr)
	}
}

func request(t *testing.T, method, url string) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestLifecycleEndpointsNeedTheFlag: /-/reload and /-/quit answer 403
// without --web.enable-lifecycle and 405 to a GET, as in Prometheus.
func TestLifecycleEndpointsNeedTheFlag(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.scriptedCheck("c", "@every 1h", "5s"))
	d := e.start()
	for _, p := range []string{"/-/reload", "/-/quit"} {
		if code := request(t, http.MethodPost, "http://"+d.Addr()+p); code != http.StatusForbidden {
			t.Errorf("POST %s without the flag: %d, want 403", p, code)
		}
		if code := request(t, http.MethodGet, "http://"+d.Addr()+p); code != http.StatusMethodNotAllowed {
			t.Errorf("GET %s: %d, want 405", p, code)
		}
	}
	if _, code := d.Fetch("/-/ready"); code != 200 {
		t.Fatal("agent gone after refused lifecycle calls")
	}
	d.Signal(15)
	d.Wait(10 * time.Second)

	d = e.start("--web.enable-lifecycle")
	if code := request(t, http.MethodPost, "http://"+d.Addr()+"/-/reload"); code != 200 {
		t.Errorf("POST /-/reload: %d", code)
	}
	if code := request(t, http.MethodPost, "http://"+d.Addr()+"/-/quit"); code != 200 {
		t.Errorf("POST /-/quit: %d", code)
	}
	if code := d.Wait(10 * time.Second); code != 0 {
		t.Errorf("exit %d after /-/quit", code)
	}
}

// TestEveryLinkOnTheLandingPageIsServed: no link to a page the agent does
// not serve (it once linked to /debug/pprof, which answered 404).
func TestEveryLinkOnTheLandingPageIsServed(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.scriptedCheck("c", "@every 1h", "5s"))
	d := e.start()
	body, code := d.Fetch("/")
	if code != 200 {
		t.Fatalf("GET /: %d", code)
	}
	links := regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(links) < 3 {
		t.Fatalf("too few links on the landing page:\n%s", body)
	}
	for _, l := range links {
		href := l[1]
		if strings.HasPrefix(href, "http") || strings.HasPrefix(href, "#") {
			continue
		}
		if !strings.HasPrefix(href, "/") {
			href = "/" + href
		}
		if _, code := d.Fetch(href); code != 200 {
			t.Errorf("landing page links to %s, which answers %d", l[1], code)
		}
	}
}

// TestExternalURLPathIsTheRoutePrefix: behind a reverse proxy at /pbx/,
// every endpoint is served under it.
func TestExternalURLPathIsTheRoutePrefix(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.scriptedCheck("c", "@every 1h", "5s"))
	d := e.Start(agenttest.Options{Args: []string{"--web.external-url=https://pbx.example.test/pbx"}, NoWait: true, Patience: 15 * time.Second})
	d.WaitFor("ready under /pbx/", func() bool { _, code := d.Fetch("/pbx/-/ready"); return code == http.StatusOK })
	addr := d.Addr()
	for path, want := range map[string]int{"/pbx/metrics": 200, "/pbx/checks": 200, "/metrics": 404} {
		if code := request(t, http.MethodGet, "http://"+addr+path); code != want {
			t.Errorf("GET %s: %d, want %d", path, code, want)
		}
	}
}
