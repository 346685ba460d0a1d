package pluginhost_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/internal/buildtest"
	"github.com/pbxwatch/pbxwatch/sdk/pluginhost"
)

// writeScript makes an executable shell script standing for a plugin.
func writeScript(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path+".tmp", []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil { // never a half-written binary
		t.Fatal(err)
	}
}

// A plugin that dies before its handshake used to be reported as `the
// plugin wrote "" to stdout before its handshake`. It is named by its exit
// status or signal, with its last stderr lines, bounded and scrubbed.
func TestFaultPluginDyingBeforeItsHandshakeIsNamed(t *testing.T) {
	const secret = `pw"<&>é:/@%+x`
	long := strings.Repeat("é", 400) // cut at a character boundary
	for _, tc := range []struct {
		name, body string
		want       []string
		not        []string
	}{
		{"exit 1 with a reason", "echo 'line 1 of 7' >&2\nfor i in 2 3 4 5 6; do echo \"line $i of 7\" >&2; done\n" +
			"echo 'fatal: cannot read /etc/pbxwatch/credentials/db: permission denied; password " + secret + "' >&2\nexit 1\n",
			[]string{"the plugin exited with status 1 before its handshake", "its last stderr lines:", "line 3 of 7", "fatal: cannot read /etc/pbxwatch/credentials/db: permission denied; password <secret>"},
			[]string{"line 2 of 7", secret, "to stdout"}},
		{"killed", "echo 'about to be killed' >&2\nkill -9 $$\n",
			[]string{"the plugin was killed by signal SIGKILL (9) before its handshake", "about to be killed"}, []string{"to stdout"}},
		{"silent exit", "exit 3\n",
			[]string{"the plugin exited with status 3 before its handshake; it wrote nothing to stderr"}, nil},
		{"an overlong line", "echo '" + long + "' >&2\nexit 2\n",
			[]string{"exited with status 2", strings.Repeat("é", 150) + "…"}, []string{strings.Repeat("é", 151)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "pbxwatch-plugin-dies")
			writeScript(t, bin, tc.body)
			_, err := pluginhost.Start(context.Background(), pluginhost.Spec{Check: "t", Plugin: "dies", Binary: bin, Secrets: []string{secret}})
			if err == nil {
				t.Fatal("started")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(err.Error(), n) {
					t.Errorf("error has %q:\n%v", n, err)
				}
			}
		})
	}
}

// A plugin restarted for a run that never completes its handshake is
// given the run's timeout, not the 10 s start timeout: a 1 s run used to
// take 10 s, holding its check (and a reload waiting for it) that long.
func TestFaultPluginNeverHandshakingIsBoundByTheRunsTimeout(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "pbxwatch-plugin-scripted")
	built, err := os.ReadFile(buildtest.Build(t, scriptedPkg))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, built, 0o755); err != nil {
		t.Fatal(err)
	}
	f := start(t, "", func(s *pluginhost.Spec) { s.Binary = bin })
	f.setScript(t, "behave: exit\n")
	if r := f.run(5 * time.Second); code(r) != sdk.CodePluginCrashed {
		t.Fatalf("crash run: %q %q", code(r), r.Summary)
	}
	writeScript(t, bin, "echo 'waiting for a lock' >&2\nexec sleep 60\n")
	began := time.Now()
	r := f.run(time.Second)
	took := time.Since(began)
	if r.Status != sdk.StatusUnknown || code(r) != sdk.CodePluginStartFailed ||
		!strings.Contains(r.Summary, "did not complete its handshake within 1s") || !strings.Contains(r.Summary, "waiting for a lock") {
		t.Fatalf("got %q %q", code(r), r.Summary)
	}
	// A hang guard well under the 10 s start timeout it used to wait.
	if took > 6*time.Second {
		t.Fatalf("a 1s run took %s", took)
	}
}
