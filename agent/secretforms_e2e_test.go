package main_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The forms of issue 23 that got out, from a plugin that forgot to
// register its credentials (the agent's own boundary must hold): a Latin-1
// echo as the SDK shows it (\xE9), OAuth's client_secret_basic, an excerpt
// cut inside the URL-encoded secret (with an ellipsis, the SDK's cut mark,
// or at the end), a six-character secret in Basic credentials and base64
// at every offset, and a config error quoting a piece of the secret as Go's
// URL parser does. Over every surface: /checks (the JSON API), the status
// page, the Alertmanager POSTs, the alert state file, `check` in both
// formats and `validate`.
func TestFaultSecretFormsOverEverySurface(t *testing.T) {
	const short = `p@s:é!`
	t.Setenv("PBXW_FORMS_SECRET", hostileSecret)
	t.Setenv("PBXW_FORMS_SHORT", short)
	sink := &alertSink{}
	am := httptest.NewServer(sink)
	defer am.Close()
	e := newEnv(t)

	q := url.QueryEscape(hostileSecret)
	latin1 := strings.ReplaceAll(hostileSecret, "é", `\xE9`)
	forms := []string{
		"you sent " + latin1 + " which is wrong",
		"secret=" + strings.ReplaceAll(q, "%C3%A9", "%E9") + "&x=1",
		"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape("client@id")+":"+q)),
		"client_secret=" + q[:len(q)-5] + "…",
		"client_secret=" + q[:len(q)-4] + " …[cut: 9000 bytes in all]",
		"body ends client_secret=" + q[:len(q)-3],
	}
	for i := 0; i < 6; i++ {
		forms = append(forms,
			"Basic "+base64.StdEncoding.EncodeToString([]byte(strings.Repeat("u", i)+":"+short)),
			"token "+base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("x", i)+short+"y")))
	}
	js := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	var script strings.Builder
	fmt.Fprintf(&script, "status: CRITICAL\nsummary: %s\ndiagnoses:\n", js("server said "+strings.Join(forms[:3], " | ")))
	for i, f := range forms {
		fmt.Fprintf(&script, "  - code: test.form_%d\n    severity: critical\n    message: %s\n    details: {body: %s}\n", i, js("echo "+f), js(f))
	}
	e.setScript(script.String())
	writeCfg := func(extra string) {
		cfg := fmt.Sprintf(`agent: {state_dir: %s, plugin_dir: %s}
alerting:
  alertmanagers: [{url: %q}]
  resend_interval: 1s
checks:
  - name: forms
    plugin: scripted
    schedule: "@every 5s"
    config: {script_file: %s, token: "${PBXW_FORMS_SECRET} ${PBXW_FORMS_SHORT}"%s}
`, e.StateDir, e.PluginDir, am.URL, e.script, extra)
		if err := os.WriteFile(e.Config, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg("")
	d := e.start()
	last := fmt.Sprintf("test.form_%d", len(forms)-1)
	d.WaitFor("an alert POST", func() bool { return strings.Contains(sink.all(), last) })
	checks, _ := d.Fetch("/checks")
	page, _ := d.Fetch("/")
	if !strings.Contains(checks, last) || !strings.Contains(page, "forms") {
		t.Fatalf("/checks or the status page lacks the result:\n%s", checks)
	}
	stateFile, err := os.ReadFile(filepath.Join(e.StateDir, "alerting", "alerts.json"))
	if err != nil {
		t.Fatal(err)
	}
	jsonOut, jsonErr, _ := e.cli("check", "--config.file="+e.Config, "--output=json", "forms")
	textOut, textErr, _ := e.cli("check", "--config.file="+e.Config, "forms")
	// The plugin rejects its url quoting a piece of the secret as Go's URL
	// parser does: `invalid port ":<piece>" after host`.
	piece := string([]rune(hostileSecret)[5:14])
	writeCfg(fmt.Sprintf(`, reject: %s`, js(`url: parse error: invalid port ":`+piece+`" after host`)))
	_, validateErr, code := e.cli("validate", "--config.file="+e.Config)
	if code != 1 || !strings.Contains(validateErr, "invalid port") {
		t.Fatalf("validate: %d %s", code, validateErr)
	}

	for name, text := range map[string]string{
		"/checks": checks, "status page": page, "alert POSTs": sink.all(), "alert state file": string(stateFile),
		"check --output=json": jsonOut + jsonErr, "check text": textOut + textErr, "validate": validateErr,
	} {
		if l := leaks(text, hostileSecret); len(l) > 0 {
			t.Errorf("%s leaks %q", name, l)
		}
		if strings.Contains(text, piece[:4]) || strings.Contains(text, q[:12]) {
			t.Errorf("%s shows a piece of the secret", name)
		}
		for _, f := range forms[6:] {
			if strings.Contains(text, f[strings.Index(f, " ")+1:]) {
				t.Errorf("%s shows the short secret's form %q", name, f)
			}
		}
	}
}
