package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// pluginDir makes a plugin dir holding an executable pbxwatch-plugin-NAME.
func pluginDir(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, PluginPrefix+n), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func parse(t *testing.T, body string) (*Config, error) {
	t.Helper()
	return Parse("/etc/pbxwatch/pbxwatch.yml", []byte(body))
}

func TestDefaultsAndPluginResolution(t *testing.T) {
	dir := pluginDir(t, "whmcs")
	cfg, err := parse(t, "agent:\n  plugin_dir: "+dir+"\nchecks:\n  - name: whmcs_auth\n    plugin: whmcs\n")
	if err != nil {
		t.Fatal(err)
	}
	ch := cfg.Checks[0]
	if cfg.Agent.StateDir != DefaultStateDir || ch.Schedule != DefaultSchedule || ch.Timeout != DefaultTimeout {
		t.Fatalf("defaults not applied: %+v %+v", cfg.Agent, ch)
	}
	if ch.Binary != filepath.Join(dir, "pbxwatch-plugin-whmcs") || ch.Line != 4 {
		t.Fatalf("binary %q line %d", ch.Binary, ch.Line)
	}
	if cfg.StateDir("whmcs_auth") != "/var/lib/pbxwatch/checks/whmcs_auth" {
		t.Fatal(cfg.StateDir("whmcs_auth"))
	}
}

func TestUnknownKeysAreErrorsWithLines(t *testing.T) {
	_, err := parse(t, "agent:\n  state_dir: /x\n  plugins_dir: /y\nchecks:\n  - name: a\n    plugin: p\n    shedule: '@every 1m'\n")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"/etc/pbxwatch/pbxwatch.yml:3: unknown key \"plugins_dir\"", "/etc/pbxwatch/pbxwatch.yml:7: unknown key \"shedule\""} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestEveryProblemIsReported(t *testing.T) {
	dir := pluginDir(t, "ok")
	_, err := parse(t, `agent: {plugin_dir: `+dir+`}
checks:
  - name: Bad-Name
    plugin: ok
  - name: dup
    plugin: ok
  - name: dup
    plugin: missing
    schedule: "every minute"
    timeout: -1s
    sha256: abc
`)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		`pbxwatch.yml:3: check name "Bad-Name" may only hold`,
		`pbxwatch.yml:7: check name "dup" is used twice (first at line 5)`,
		`pbxwatch.yml:8: check "dup": plugin "missing" not found`,
		`pbxwatch.yml:9: check "dup": schedule "every minute"`,
		`pbxwatch.yml:10: check "dup": timeout must be positive`,
		`pbxwatch.yml:11: check "dup": sha256 must be 64 hex digits`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
}

func TestConfigBlockExpansionAndLineMap(t *testing.T) {
	dir := pluginDir(t, "p")
	t.Setenv("PBXWATCH_TEST_SECRET", "0123")
	cfg, err := parse(t, `agent: {plugin_dir: `+dir+`}
checks:
  - name: a
    plugin: p
    timeout: 5s
    config:
      url: http://x/
      secret: ${PBXWATCH_TEST_SECRET}
      literal: "cost $$5"
      nested:
        list: [a, b]
        typo_here: 1
`)
	if err != nil {
		t.Fatal(err)
	}
	ch := cfg.Checks[0]
	if ch.Timeout != 5*time.Second {
		t.Fatal(ch.Timeout)
	}
	var got struct {
		URL     string `yaml:"url"`
		Secret  string `yaml:"secret"`
		Literal string `yaml:"literal"`
		Nested  struct {
			List []string `yaml:"list"`
		} `yaml:"nested"`
	}
	pc := sdk.NewConfig("a", "", cfg.File, ch.ConfigYAML, ch.LineMap)
	err = pc.Decode(&got)
	if err == nil || !strings.Contains(err.Error(), "/etc/pbxwatch/pbxwatch.yml:12: unknown key \"typo_here\"") {
		t.Fatalf("plugin-side error not mapped to the file's line: %v\nblock:\n%s\nmap %v", err, ch.ConfigYAML, ch.LineMap)
	}
	if got.Secret != "0123" || got.Literal != "cost $5" || got.URL != "http://x/" {
		t.Fatalf("decoded %+v", got)
	}
}

func TestUnsetEnvIsAnError(t *testing.T) {
	dir := pluginDir(t, "p")
	_, err := parse(t, "agent: {plugin_dir: "+dir+"}\nchecks:\n  - name: a\n    plugin: p\n    config:\n      secret: ${PBXWATCH_SURELY_UNSET}\n")
	if err == nil || !strings.Contains(err.Error(), "pbxwatch.yml:6: environment variable PBXWATCH_SURELY_UNSET is not set") {
		t.Fatalf("err = %v", err)
	}
}

// yaml.v3 reports a tab at the line before the offending one; the
// operator is told the tab's own line and what to do.
func TestMalformedYAML(t *testing.T) {
	_, err := parse(t, "agent:\n  state_dir: /x\n\tplugin_dir: /y\n")
	if err == nil || !strings.Contains(err.Error(), "/etc/pbxwatch/pbxwatch.yml:3: found a tab character in the indentation: use spaces") {
		t.Fatalf("err = %v", err)
	}
}

func TestEmptyConfigIsValid(t *testing.T) {
	cfg, err := parse(t, "")
	if err != nil || len(cfg.Checks) != 0 {
		t.Fatalf("%v %v", cfg, err)
	}
}
