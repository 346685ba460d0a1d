package config

import (
	"strings"
	"testing"
	"time"
)

func TestFleetBlock(t *testing.T) {
	cfg, err := parse(t, "fleet:\n  prometheus_url: http://prometheus.example.com:9090\n")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Fleet == nil || cfg.Fleet.PrometheusURL != "http://prometheus.example.com:9090" || cfg.Fleet.SilentAfter != 5*time.Minute {
		t.Errorf("fleet %+v", cfg.Fleet)
	}
	if cfg, err := parse(t, "checks: []\n"); err != nil || cfg.Fleet != nil {
		t.Errorf("without fleet: %+v, %v", cfg.Fleet, err)
	}
}

func TestFleetProblemsHaveLines(t *testing.T) {
	for src, want := range map[string]string{
		"fleet:\n  prometheus_ur: http://p:9090\n":               `pbxwatch.yml:2: unknown key "prometheus_ur"`,
		"fleet:\n  prometheus_url: \"\"\n":                       "pbxwatch.yml:2: fleet: prometheus_url is empty",
		"fleet: {}\n":                                            "pbxwatch.yml:1: fleet: prometheus_url is empty",
		"\nfleet:\n  prometheus_url: p:9090\n":                   `pbxwatch.yml:3: fleet: prometheus_url "p:9090" must start with http:// or https://`,
		"fleet:\n  prometheus_url: https://u:hunter2@p:9090\n":   `pbxwatch.yml:2: fleet: prometheus_url "https://u:xxxxx@p:9090" carries credentials`,
		"fleet:\n  prometheus_url: http://p:9090/api/v1/query\n": "pbxwatch.yml:2: fleet: prometheus_url \"http://p:9090/api/v1/query\": give the base URL",
		"fleet:\n  prometheus_url: [http://p:9090]\n":            "pbxwatch.yml:2:",
	} {
		_, err := parse(t, src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", src, err, want)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the password in %v", err)
		}
	}
}
