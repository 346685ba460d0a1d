package alerting

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pbxwatch/pbxwatch/sdk"
)

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// decode decodes strictly, as the agent's config loader does.
func decode(t *testing.T, src string, v any) error {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	return dec.Decode(v)
}

func TestConfigDefaults(t *testing.T) {
	var c Config
	if err := decode(t, "alertmanagers:\n  - url: http://127.0.0.1:9093\nexternal_labels: {site: pbx1}\n", &c); err != nil {
		t.Fatal(err)
	}
	if c.ResendInterval != time.Minute || c.EventQuietPeriod != 5*time.Minute {
		t.Errorf("defaults: resend %v quiet %v", c.ResendInterval, c.EventQuietPeriod)
	}
	if len(c.Alertmanagers) != 1 || c.Alertmanagers[0].Timeout != 10*time.Second {
		t.Errorf("alertmanager defaults: %+v", c.Alertmanagers)
	}
	var a CheckAlert
	if err := decode(t, "for: 2m\nseverity: critical\nlabels: {team: billing}\nrunbook_url: https://wiki/x\n", &a); err != nil {
		t.Fatal(err)
	}
	if a.For != 2*time.Minute || a.Severity != "critical" || a.Labels["team"] != "billing" {
		t.Errorf("check alert: %+v", a)
	}
}

func TestConfigErrorsSayWhatToFix(t *testing.T) {
	cases := []struct {
		name, yaml, want string
		check            bool
	}{
		{"unknown key", "resend_intervall: 1m\n", "field resend_intervall not found", false},
		{"unknown key in alertmanager", "alertmanagers: [{url: 'http://a:9093', timout: 1s}]\n", "field timout not found", false},
		{"no url", "alertmanagers: [{timeout: 1s}]\n", "url is empty", false},
		{"bad scheme", "alertmanagers: [{url: 'ftp://a'}]\n", "must start with http:// or https://", false},
		{"credentials in url", "alertmanagers: [{url: 'http://u:hunter2@a:9093'}]\n", "move them to basic_auth", false},
		{"password and file", "alertmanagers: [{url: 'http://a', basic_auth: {username: u, password: p, password_file: /f}}]\n", "not both", false},
		{"basic and bearer", "alertmanagers: [{url: 'http://a', basic_auth: {username: u, password: p}, bearer_token_file: /t}]\n", "not both", false},
		{"negative resend", "resend_interval: -1s\n", "resend_interval must be positive", false},
		{"reserved external label", "external_labels: {check: x}\n", `"check" is set by the agent`, false},
		{"bad label name", "external_labels: {'a-b': x}\n", "not a valid label name", false},
		{"duplicate am", "alertmanagers: [{url: 'http://a'}, {url: 'http://a'}]\n", "listed twice", false},
		{"bad severity", "severity: page\n", "use info, warning or critical", true},
		{"reserved check label", "labels: {code: x}\n", `"code" is set by the agent`, true},
		{"negative for", "for: -1m\n", "must not be negative", true},
		{"relative runbook", "runbook_url: wiki/x\n", "not an absolute URL", true},
		{"unknown key in alert", "fore: 1m\n", "field fore not found", true},
		{"relative runbook base", "runbook_base_url: docs/diagnoses.md\n", "want an absolute http(s) URL", false},
		{"agent's annotation", "annotations: {remediation: x}\n", `"remediation" is written by the agent`, true},
		{"bad annotation name", "annotations: {'a-b': x}\n", "not a valid annotation name", true},
		{"relative annotation url", "annotations: {runbook_url: wiki/x}\n", "want an absolute http(s) URL", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.check {
				var a CheckAlert
				err = decode(t, tc.yaml, &a)
			} else {
				var c Config
				err = decode(t, tc.yaml, &c)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestPasswordNeverPrinted(t *testing.T) {
	const pw = "s3cr3t-Pa55"
	var c Config
	src := "alertmanagers:\n  - url: http://127.0.0.1:9093\n    basic_auth: {username: pbx, password: " + pw + "}\n"
	if err := decode(t, src, &c); err != nil {
		t.Fatal(err)
	}
	if got := string(c.Alertmanagers[0].BasicAuth.Password); got != pw {
		t.Fatalf("password not decoded: %q", got)
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "%v %+v %#v %s %q\n", c, c, c, c.Alertmanagers[0].BasicAuth.Password, c.Alertmanagers[0].BasicAuth.Password)
	slogTo(&out).Info("config", "cfg", c, "am", c.Alertmanagers[0], "pw", c.Alertmanagers[0].BasicAuth.Password)
	j, _ := json.Marshal(c)
	out.Write(j)
	y, _ := yaml.Marshal(c)
	out.Write(y)
	if strings.Contains(out.String(), pw) {
		t.Fatalf("password printed:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "<secret>") {
		t.Fatalf("expected <secret> in the output:\n%s", out.String())
	}
}

// Issue 23: an Alertmanager URL that does not parse printed its password
// (whole without a scheme, most of it with one, six of nine characters in
// Go's `invalid port` form). No part of it is shown now.
func TestFaultUnparsableAlertmanagerURLShowsNoPartOfItsPassword(t *testing.T) {
	const pw = `s3cr/t#9@x`
	for _, raw := range []string{
		"admin:" + pw + "@127.0.0.1:9093",
		"http://admin:" + pw + "@127.0.0.1:9093/",
		"http://admin:" + pw + "@127.0.0.1:bad/",
		"http://admin:pw1234567@127.0.0.1:9093/%zz",
		"http://admin:s3cr/t#9",
	} {
		a := AlertmanagerConfig{URL: raw, Timeout: DefaultTimeout}
		p := sdk.NewProblems(func(any) error { return nil })
		a.validate(p)
		msg := fmt.Sprint(p.Err())
		for _, piece := range []string{"s3cr", "cr/t", "t#9", "9@x", "pw12", "4567", "3cr3t"} {
			if strings.Contains(msg, piece) {
				t.Errorf("%q: error shows %q: %s", raw, piece, msg)
			}
		}
		if !strings.Contains(msg, "alertmanager url") {
			t.Errorf("%q: %s", raw, msg)
		}
	}
}
