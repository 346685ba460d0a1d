package commands

// The commands' own logic; agent/cli_e2e_test.go runs them through the
// built agent with real plugins.

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeConfig writes a config whose plugin dir holds an executable per
// plugin named (never run: list and the config loader only resolve it).
func writeConfig(t *testing.T, checks string, plugins ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range plugins {
		if err := os.WriteFile(filepath.Join(dir, "pbxwatch-plugin-"+p), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "pbxwatch.yaml")
	cfg := "agent:\n  plugin_dir: " + dir + "\n  state_dir: " + filepath.Join(dir, "state") + "\nchecks:\n" + checks
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const twoChecks = `  - name: disk
    plugin: nagios
    schedule: "@every 1m"
    timeout: 10s
  - name: nightly
    plugin: nagios
    schedule: "0 3 * * *"
`

func TestListJSON(t *testing.T) {
	path := writeConfig(t, twoChecks, "nagios")
	var stdout, stderr bytes.Buffer
	before := time.Now()
	if code := List(path, "json", &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var got []struct {
		Name, Plugin, Schedule, Timeout string
		NextRun                         time.Time `json:"next_run"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || len(got) != 2 {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	if got[0].Name != "disk" || got[0].Plugin != "nagios" || got[0].Schedule != "@every 1m" || got[0].Timeout != "10s" {
		t.Errorf("first check %+v", got[0])
	}
	if d := got[0].NextRun.Sub(before); d < 59*time.Second || d > 61*time.Second+time.Since(before) {
		t.Errorf("@every 1m next run in %v", d)
	}
	if got[1].NextRun.UTC().Hour() != 3 || got[1].NextRun.Minute() != 0 {
		t.Errorf("0 3 * * * next run %v", got[1].NextRun)
	}
}

func TestListText(t *testing.T) {
	path := writeConfig(t, twoChecks, "nagios")
	var stdout, stderr bytes.Buffer
	if code := List(path, "text", &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "CHECK  ") || !strings.Contains(lines[0], "NEXT RUN") ||
		!strings.HasPrefix(lines[1], "disk ") || !strings.Contains(lines[2], "0 3 * * *") {
		t.Errorf("text:\n%s", stdout.String())
	}
}

func TestListBadConfigExitsOne(t *testing.T) {
	path := writeConfig(t, twoChecks) // no plugin binary
	var stdout, stderr bytes.Buffer
	if code := List(path, "text", &stdout, &stderr); code != 1 || stdout.Len() != 0 || !strings.Contains(stderr.String(), path) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}

func TestCheckUnknownNameIsUnknown(t *testing.T) {
	path := writeConfig(t, twoChecks, "nagios")
	var stdout, stderr bytes.Buffer
	if code := Check(path, "nosuch", "text", nil, &stdout, &stderr); code != 3 || !strings.Contains(stderr.String(), `no check named "nosuch" (have: [disk nightly])`) {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestCopyTree(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "a", "b", "pos"), []byte("42"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	if err := copyTree(src, dst); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "a", "b", "pos")); err != nil || string(b) != "42" {
		t.Errorf("copied file: %q %v", b, err)
	}
	if _, err := os.Lstat(filepath.Join(dst, "link")); err == nil {
		t.Error("a symlink was copied")
	}
	if err := copyTree(filepath.Join(src, "missing"), t.TempDir()); err != nil {
		t.Errorf("missing source: %v", err)
	}
}
