package config

import (
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/agent/internal/remotewrite"
)

func TestRemoteWriteDefaultsAndShape(t *testing.T) {
	cfg, err := parse(t, `agent:
  external_labels: { instance: pbx1.example.com, customer: acme }
remote_write:
  - url: https://prom.example.com/api/v1/write
    basic_auth: { username: pbx1, password_file: rw.pass }
    tls_config: { ca_file: /etc/pbxwatch/ca.pem, cert_file: c.pem, key_file: k.pem }
    headers: { X-Scope-OrgID: acme }
  - url: http://vm.example.com:8428/api/v1/write
    interval: 30s
    queue: { max_bytes: 8MiB, max_age: 6h }
`)
	if err != nil {
		t.Fatal(err)
	}
	a, b := cfg.RemoteWrite[0], cfg.RemoteWrite[1]
	if a.Interval != remotewrite.DefaultInterval || a.Queue.MaxBytes != remotewrite.DefaultMaxBytes || a.Queue.MaxAge != remotewrite.DefaultMaxAge {
		t.Errorf("defaults not applied: %+v", a)
	}
	if a.BasicAuth.PasswordFile != "rw.pass" || a.TLSConfig.CertFile != "c.pem" || a.Headers["X-Scope-OrgID"] != "acme" {
		t.Errorf("decoded %+v", a)
	}
	if b.Interval != 30*time.Second || b.Queue.MaxBytes != 8<<20 || b.Queue.MaxAge != 6*time.Hour {
		t.Errorf("decoded %+v", b)
	}
	if cfg.Agent.ExternalLabels["customer"] != "acme" {
		t.Errorf("external labels %v", cfg.Agent.ExternalLabels)
	}
}

func TestRemoteWriteProblemsHaveLines(t *testing.T) {
	_, err := parse(t, `agent:
  external_labels: { check: x }
remote_write:
  - url: https://user:hunter2@prom.example.com/api/v1/write
    basic_auth: { username: pbx1 }
    intervall: 30s
  - url: ftp://x
    headers: { Authorization: Bearer abc }
    queue: { max_bytes: 12 parsecs }
`)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		`pbxwatch.yml:2: agent.external_labels: "check" is set by the agent`,
		`pbxwatch.yml:4: remote_write: url "https://user:xxxxx@prom.example.com/api/v1/write" carries credentials`,
		`pbxwatch.yml:5: remote_write https://prom.example.com/api/v1/write: basic_auth needs password_file`,
		`pbxwatch.yml:6: unknown key "intervall"`,
		`pbxwatch.yml:7: remote_write: url "ftp://x" must start with http:// or https://`,
		`pbxwatch.yml:8: remote_write ftp://x: header Authorization may not be set here: use basic_auth or bearer_token_file`,
		`pbxwatch.yml:9:`,
		`unknown unit "parsecs"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "hunter2") || strings.Contains(msg, "Bearer abc") {
		t.Errorf("a secret in the error:\n%s", msg)
	}
}

func TestAgentExternalLabelsReachAlertsAlertingWins(t *testing.T) {
	cfg, err := parse(t, "agent:\n  external_labels: { instance: pbx1, site: a }\nalerting:\n  external_labels: { site: b }\n")
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Alerting.ExternalLabels
	if got["instance"] != "pbx1" || got["site"] != "b" || len(got) != 2 {
		t.Fatalf("merged %v", got)
	}
	if cfg.Agent.ExternalLabels["site"] != "a" {
		t.Fatalf("agent labels changed: %v", cfg.Agent.ExternalLabels)
	}
}

func TestRemoteWriteListedTwice(t *testing.T) {
	_, err := parse(t, "remote_write:\n  - url: http://a/api/v1/write\n  - url: http://a/api/v1/write\n")
	if err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Fatalf("got %v", err)
	}
}
