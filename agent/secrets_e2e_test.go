package main_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// hostileSecret is made of what URL, JSON, HTML and shell encoders treat
// specially.
const hostileSecret = `p@ss:w/rd+%&"<>'\!#$()*[]=é`

// encodedForms is the secret as servers echo it back: every form the
// agent's scrubbing must catch.
func encodedForms(s string) []string {
	j, _ := json.Marshal(s)
	return []string{
		s,
		"secret=" + url.QueryEscape(s) + "&x=1",
		strings.ToLower(url.QueryEscape(s)),
		url.PathEscape(s),
		string(j),
		html.EscapeString(s),
		strconv.QuoteToASCII(s),
		"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("api:"+s)),
		base64.URLEncoding.EncodeToString([]byte(s)),
		string([]rune(s)[:9]) + "…",
	}
}

// leaks reports which recognisable piece of the secret text holds.
func leaks(text, secret string) []string {
	text = strings.ReplaceAll(text, "<secret>", "")
	var found []string
	for _, form := range []string{secret, url.QueryEscape(secret), base64.StdEncoding.EncodeToString([]byte("api:" + secret))[4:]} {
		r := []rune(form)
		for i := 0; i+7 <= len(r); i++ {
			if p := string(r[i : i+7]); strings.Contains(text, p) {
				found = append(found, p)
				break
			}
		}
	}
	return found
}

// alertSink is an Alertmanager stand-in keeping every POST body raw: the
// bytes on the wire are what must hold no secret.
type alertSink struct {
	mu     sync.Mutex
	bodies []string
}

func (s *alertSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, string(b))
	s.mu.Unlock()
}

func (s *alertSink) all() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.bodies, "\n")
}

// A plugin that forgets to register its credential, against a server
// echoing it in every encoding: the agent's boundary keeps it out of
// /checks, alerts on the wire, the alert state file, the debug log, reload
// replies and `pbxwatch check` in both formats; other checks' plugins do not
// even get the variable.
func TestNoSecretInAnyOutputInAnyEncoding(t *testing.T) {
	t.Setenv("PBXW_TEST_TOKEN", hostileSecret)
	t.Setenv("PBXW_OTHER_SECRET", "other-check-secret-value")
	sink := &alertSink{}
	am := httptest.NewServer(sink)
	defer am.Close()

	e := newEnv(t)
	forms := encodedForms(hostileSecret)
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	var script strings.Builder
	fmt.Fprintf(&script, "status: CRITICAL\nsummary: %s\ndiagnoses:\n", q("server said "+strings.Join(forms, " | ")))
	for i, f := range forms {
		fmt.Fprintf(&script, "  - code: test.echo_%d\n    severity: critical\n    message: %s\n    details: {body: %s}\n    remediation: [%s]\n", i, q("echo "+f), q(f), q("use "+f))
	}
	fmt.Fprintf(&script, "metrics:\n  - {name: test_info, labels: {version: %s}, value: 1}\n", q(forms[1]))
	fmt.Fprintf(&script, "events:\n  - {name: line, severity: critical, message: %s, labels: {line: %s}}\n", q(forms[4]), q(forms[7]))
	e.setScript(script.String())

	writeCfg := func(reject, amURL string) {
		e.WriteConfig(fmt.Sprintf(`alerting:
  alertmanagers: [{url: %q}]
  resend_interval: 1s
checks:
  - name: echo
    plugin: scripted
    schedule: "@every 5s"
    config: {script_file: %s, token: "${PBXW_TEST_TOKEN}"%s}
  - name: other
    plugin: scripted
    schedule: "@every 1h"
    config: {script_file: %s, token: "${PBXW_OTHER_SECRET}"}
`, amURL, e.script, reject, filepath.Join(e.Dir, "none")))
	}
	writeCfg("", am.URL)
	d := e.start("--web.enable-lifecycle")
	d.WaitFor("an alert POST", func() bool { return strings.Contains(sink.all(), "test.echo_9") })
	checks, _ := d.Fetch("/checks")
	metricsPage, _ := d.Fetch("/metrics")
	if !strings.Contains(metricsPage, "test_info{") {
		t.Fatalf("/metrics lacks the plugin's metric")
	}
	if !strings.Contains(checks, "test.echo_9") || !strings.Contains(checks, "<secret>") {
		t.Fatalf("/checks lacks the result:\n%s", checks)
	}

	// The other check's plugin never saw this check's variable, and this
	// check's plugin never saw the other's.
	for _, pid := range children(d.PID()) {
		env, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
		if strings.Contains(string(env), "PBXW_TEST_TOKEN") && strings.Contains(string(env), "PBXW_OTHER_SECRET") {
			t.Errorf("plugin %d inherited both checks' secrets", pid)
		}
	}
	stateFile, err := os.ReadFile(filepath.Join(e.StateDir, "alerting", "alerts.json"))
	if err != nil {
		t.Fatal(err)
	}

	// A config the plugin rejects, quoting the secret: the check reports
	// it as its evidence.
	writeCfg(`, reject: "bad token ${PBXW_TEST_TOKEN} (`+"%2B"+`)"`, am.URL)
	reload := func() (int, string) {
		resp, err := http.Post("http://"+d.Addr()+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, reply := reload(); code != 200 {
		t.Fatalf("reload: %d %s", code, reply)
	}
	var invalid string
	d.WaitFor("the rejected config as evidence", func() bool {
		invalid, _ = d.Fetch("/checks")
		return strings.Contains(invalid, "bad token <secret>")
	})
	// A file the agent refuses, with a password in a URL: the reload
	// reply and the log never show it.
	const amPassword = `p@ss:w/rd!`
	writeCfg("", "http://admin:"+amPassword+"@127.0.0.1:bad/")
	code, reply := reload()
	// Nothing before the URL's last '@' is shown (the user name neither:
	// a password holding '@' would otherwise leave its head there).
	if code != 500 || !strings.Contains(reply, "http://<secret>@127.0.0.1:bad/") || strings.Contains(reply, amPassword) || strings.Contains(reply, "p@ss") {
		t.Fatalf("reload reply %d: %s", code, reply)
	}
	d.WaitFor("the failed reload in the log", func() bool { return strings.Contains(d.Logs(), "reload failed") })
	if strings.Contains(d.Logs(), amPassword) {
		t.Errorf("the Alertmanager password is in the log")
	}

	writeCfg("", am.URL)
	e.setScript(script.String())
	jsonOut, jsonErr, _ := e.cli("check", "--config.file="+e.Config, "--output=json", "--log.level=debug", "echo")
	textOut, textErr, _ := e.cli("check", "--config.file="+e.Config, "--log.level=debug", "echo")
	e.setScript("behave: leak_token\n")
	errOut, errErr, _ := e.cli("check", "--config.file="+e.Config, "--output=json", "--log.level=debug", "echo")
	if !strings.Contains(errOut, `server rejected token \u003csecret\u003e`) {
		t.Errorf("check error output: %s\n%s", errOut, errErr)
	}
	writeCfg(`, reject: "bad token ${PBXW_TEST_TOKEN}"`, am.URL)
	_, validateErr, code := e.cli("validate", "--config.file="+e.Config)
	if code != 1 || !strings.Contains(validateErr, "bad token <secret>") {
		t.Errorf("validate: %d %s", code, validateErr)
	}

	for name, text := range map[string]string{
		"/checks": checks, "/metrics": metricsPage, "alert POSTs": sink.all(), "alert state file": string(stateFile),
		"agent log": d.Logs(), "reload reply": reply, "/checks of the invalid check": invalid,
		"check --output=json": jsonOut + jsonErr, "check text": textOut + textErr,
		"check error": errOut + errErr, "validate": validateErr,
	} {
		if l := leaks(text, hostileSecret); len(l) > 0 {
			t.Errorf("%s leaks %q:\n%s", name, l, text)
		}
	}
}

// `pbxwatch check X` runs X even when another check's ${ENV} is unset; X's
// own unset variable is still an error.
func TestCheckIgnoresAnotherChecksUnsetEnv(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.scriptedCheck("mine", "@every 1m", "10s") +
		"  - name: theirs\n    plugin: scripted\n    config: {script_file: x, token: \"${PBXW_SURELY_UNSET_VAR}\"}\n")
	out, errOut, code := e.cli("check", "--config.file="+e.Config, "mine")
	if code != 0 || !strings.Contains(out, "mine OK") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	_, errOut, code = e.cli("check", "--config.file="+e.Config, "theirs")
	if code != 3 || !strings.Contains(errOut, "PBXW_SURELY_UNSET_VAR is not set") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}
