package alerting_test

// Golden renders of configs/alertmanager/templates/pbxwatch.tmpl with
// Debian's amtool (Alertmanager 0.25): one alert, a group of three (two
// firing, one resolved), a group of sixty with long fields (the limits
// hold). go test -run TestNotificationTemplates -update rewrites the golden
// files; read the diff before committing it.

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestNotificationTemplates")

// tmplAlert and tmplData are Alertmanager's template.Alert and
// template.Data, as amtool's --template.data reads them.
type tmplAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

type tmplData struct {
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	Alerts            []tmplAlert       `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
}

var tmplT0 = time.Date(2026, 12, 7, 3, 4, 5, 0, time.UTC)

// invalidIPAlert is what the agent sends for whmcs.invalid_ip on host.
func invalidIPAlert(host, ip string, resolved bool) tmplAlert {
	a := tmplAlert{
		Status: "firing",
		Labels: map[string]string{"alertname": "PbxwatchCheckFailing", "check": "whmcs_auth", "code": "whmcs.invalid_ip",
			"instance": host, "plugin": "whmcs", "severity": "critical"},
		Annotations: map[string]string{
			"summary":     "whmcs_auth: WHMCS refused the API call from " + ip + ": Invalid IP " + ip,
			"description": "WHMCS refused the API call from " + ip + ": Invalid IP " + ip + "\n\nip: " + ip + "\nlocal_address: 192.0.2.10\nurl: https://billing.example.com/includes/api.php",
			"remediation": "1. In WHMCS (Configuration > System Settings > General Settings > Security), add " + ip + " under API IP Access Restriction.\n2. If " + ip + " is not this host's address, fix Trusted Proxies first.\n3. Or set $api_access_key in configuration.php and access_key in this check.",
			"runbook_url": "https://github.com/pbxwatch/pbxwatch/blob/main/docs/diagnoses.md#whmcs.invalid_ip",
		},
		StartsAt:     tmplT0,
		GeneratorURL: "https://" + host + "/pbxwatch/checks/whmcs_auth",
		Fingerprint:  fmt.Sprintf("%016x", len(host)),
	}
	if resolved {
		a.Status = "resolved"
		a.EndsAt = tmplT0.Add(7 * time.Minute)
	}
	return a
}

func groupOf(alerts ...tmplAlert) tmplData {
	status := "resolved"
	for _, a := range alerts {
		if a.Status == "firing" {
			status = "firing"
		}
	}
	return tmplData{Receiver: "ops", Status: status, Alerts: alerts,
		GroupLabels:       map[string]string{"alertname": "PbxwatchCheckFailing", "code": "whmcs.invalid_ip"},
		CommonLabels:      map[string]string{"alertname": "PbxwatchCheckFailing", "code": "whmcs.invalid_ip"},
		CommonAnnotations: map[string]string{}, ExternalURL: "http://alertmanager.example.com:9093"}
}

// sixty is a group of 54 firing and 6 resolved alerts whose every field is
// far longer than any receiver allows, with markup in them.
func sixty() tmplData {
	long := func(s string, n int) string { return strings.Repeat(s, n) }
	var alerts []tmplAlert
	for i := range 60 {
		a := invalidIPAlert(fmt.Sprintf("pbx%02d.%s.example.com", i, long("x", 60)), fmt.Sprintf("198.51.100.%d", i), i >= 54)
		a.Annotations["summary"] += " <b>&" + long(" very long summary", 40)
		a.Annotations["description"] += "\n" + long("evidence <script>alert(1)</script> ", 120)
		a.Annotations["remediation"] += "\n4. " + long("step text ", 400)
		alerts = append(alerts, a)
	}
	return groupOf(alerts...)
}

// templateLimits are the most characters each template may produce
// (0: no limit): Slack cuts titles at 1024, pagers and SMS at 140; Slack's
// text and the generic text (Discord 4096) stay under 4000.
var templateLimits = map[string]int{
	"pbxwatch.email.subject": 400,
	"pbxwatch.email.text":    0,
	"pbxwatch.email.html":    0,
	"pbxwatch.slack.title":   1024,
	"pbxwatch.slack.text":    4000,
	"pbxwatch.webhook.text":  4000,
	"pbxwatch.pager":         140,
}

func templateFile(t *testing.T) string {
	return filepath.Join(configsDir(t), "alertmanager", "templates", "pbxwatch.tmpl")
}

// render runs amtool template render on data with one named template.
func render(t *testing.T, data tmplData, name string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "data.json")
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	typ := "text"
	if strings.HasSuffix(name, ".html") {
		typ = "html"
	}
	cmd := exec.Command(amtoolBin, "template", "render", "--template.glob="+templateFile(t), "--template.data="+file,
		"--template.type="+typ, "--template.text={{ template \""+name+"\" . }}")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("amtool template render %s: %v\n%s", name, err, out)
	}
	return string(out)
}

func TestNotificationTemplates(t *testing.T) {
	t.Parallel()
	testutil.Tool(t, "amtool")
	cases := map[string]tmplData{
		"one":   groupOf(invalidIPAlert("pbx1.example.com", "203.0.113.7", false)),
		"three": groupOf(invalidIPAlert("pbx1.example.com", "203.0.113.7", false), invalidIPAlert("pbx2.example.com", "203.0.113.8", false), invalidIPAlert("pbx3.example.com", "203.0.113.9", true)),
		"sixty": sixty(),
	}
	for name, data := range cases {
		for tmpl, limit := range templateLimits {
			t.Run(name+"/"+tmpl, func(t *testing.T) {
				t.Parallel()
				out := render(t, data, tmpl)
				golden := filepath.Join("testdata", "notify", name+"."+strings.TrimPrefix(tmpl, "pbxwatch.")+".golden")
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -run TestNotificationTemplates -update to write it)", err)
				}
				if out != string(want) {
					t.Errorf("%s differs from %s:\n%s", tmpl, golden, out)
				}
				if n := utf8.RuneCountInString(out); limit > 0 && n > limit {
					t.Errorf("%s: %d characters, over its limit of %d", tmpl, n, limit)
				}
				if !utf8.ValidString(out) {
					t.Errorf("%s: not valid UTF-8", tmpl)
				}
			})
		}
	}
}

// What a person needs is in each notification, for every alert of the
// group, firing apart from resolved.
func TestNotificationTemplatesShowEveryAlertAndItsSteps(t *testing.T) {
	t.Parallel()
	testutil.Tool(t, "amtool")
	three := groupOf(invalidIPAlert("pbx1.example.com", "203.0.113.7", false), invalidIPAlert("pbx2.example.com", "203.0.113.8", false), invalidIPAlert("pbx3.example.com", "203.0.113.9", true))
	subject := render(t, three, "pbxwatch.email.subject")
	for _, want := range []string{"[FIRING:2, RESOLVED:1]", "whmcs.invalid_ip", "pbx1.example.com", "and 2 more"} {
		if !strings.Contains(subject, want) {
			t.Errorf("subject %q lacks %q", subject, want)
		}
	}
	for _, tmpl := range []string{"pbxwatch.email.text", "pbxwatch.email.html", "pbxwatch.slack.text", "pbxwatch.webhook.text"} {
		out := render(t, three, tmpl)
		at := strings.Index(strings.ToLower(out), "resolved: ")
		if at < 0 {
			t.Errorf("%s has no resolved section:\n%s", tmpl, out)
			continue
		}
		firing, resolved := out[:at], out[at:]
		for _, want := range []string{"pbx1.example.com", "pbx2.example.com", "whmcs_auth", "whmcs.invalid_ip", "203.0.113.7", "203.0.113.8",
			"1. In WHMCS", "2. If 203.0.113.8", "3. Or set", "https://pbx2.example.com/pbxwatch/checks/whmcs_auth",
			"https://github.com/pbxwatch/pbxwatch/blob/main/docs/diagnoses.md#whmcs.invalid_ip", "2026-12-07 03:04:05 UTC"} {
			if !strings.Contains(firing, want) {
				t.Errorf("%s: the firing part lacks %q:\n%s", tmpl, want, firing)
			}
		}
		if strings.Contains(firing, "pbx3.example.com") || !strings.Contains(resolved, "pbx3.example.com") {
			t.Errorf("%s: the resolved alert (pbx3) is not apart from the firing ones:\n%s", tmpl, out)
		}
	}
	big := sixty()
	for tmpl, want := range map[string]string{
		"pbxwatch.email.text":   "… and 4 more firing alerts.",
		"pbxwatch.email.html":   "… and 4 more firing alerts.",
		"pbxwatch.slack.text":   "… and 52 more firing.",
		"pbxwatch.webhook.text": "… and 52 more firing.",
		"pbxwatch.slack.title":  "and 59 more",
		"pbxwatch.pager":        "FIRING:54 whmcs.invalid_ip pbx00.",
	} {
		if out := render(t, big, tmpl); !strings.Contains(out, want) {
			t.Errorf("%s of sixty alerts lacks %q:\n%s", tmpl, want, out)
		}
	}
	if out := render(t, big, "pbxwatch.slack.text"); !strings.Contains(out, "… and 1 more resolved.") || strings.Contains(out, "<script>") {
		t.Errorf("slack text of sixty alerts: resolved not cut at 5, or markup not escaped:\n%s", out)
	}
	if out := render(t, big, "pbxwatch.email.html"); strings.Contains(out, "<script>") || !strings.Contains(out, "&lt;script&gt;") {
		t.Errorf("the HTML mail does not escape what alerts carry")
	}
	// An alert of the Prometheus rules: no code, no steps, a link to
	// Prometheus rather than to the agent.
	down := groupOf(tmplAlert{Status: "firing", StartsAt: tmplT0, GeneratorURL: "http://prometheus.example.com:9090/graph?g0.expr=up",
		Labels:      map[string]string{"alertname": "PbxwatchAgentDown", "instance": "pbx7.example.com", "severity": "critical", "job": "pbxwatch"},
		Annotations: map[string]string{"summary": "pbx7.example.com: the pbxwatch agent is down"}})
	for _, tmpl := range []string{"pbxwatch.email.text", "pbxwatch.email.html", "pbxwatch.slack.text", "pbxwatch.webhook.text"} {
		out := render(t, down, tmpl)
		if !strings.Contains(out, "PbxwatchAgentDown") || !strings.Contains(out, "pbx7.example.com") || !strings.Contains(out, "Source") ||
			strings.Contains(out, "Check page") || strings.Contains(out, "To fix") {
			t.Errorf("%s of a Prometheus rule's alert:\n%s", tmpl, out)
		}
	}

	one := groupOf(invalidIPAlert("pbx1.example.com", "203.0.113.7", true))
	if s := render(t, one, "pbxwatch.email.subject"); !strings.HasPrefix(s, "[RESOLVED:1] whmcs.invalid_ip on pbx1.example.com") {
		t.Errorf("resolved subject: %q", s)
	}
}
