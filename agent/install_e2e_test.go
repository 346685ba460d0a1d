package main_test

// The installed layout's contracts: the shipped starting config validates,
// relative secret files resolve in credentials/ beside the config for the
// service and for commands run by hand, and `pbxwatch version` is complete.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// specialSecret has the characters that break naive quoting and encoding.
const specialSecret = `Wh!mcs s3cr3t"'<>&%+/=\$x;` + "`ü"

// installEnv is an /etc/pbxwatch look-alike: dir/pbxwatch.yaml beside
// dir/credentials/, every directory enterable by other users (so a test can
// run pbxwatch as nobody), with the real plugins.
type installEnv struct {
	t                         *testing.T
	agent, dir, config, creds string
	pluginDir, stateDir       string
}

func newInstallEnv(t *testing.T) *installEnv {
	t.Helper()
	dir, err := os.MkdirTemp("", "pbxwatch-etc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	e := &installEnv{t: t, agent: sdktest.Build(t, agentPkg), dir: dir,
		config: filepath.Join(dir, "pbxwatch.yaml"), creds: filepath.Join(dir, "credentials"),
		pluginDir: filepath.Join(dir, "plugins"), stateDir: filepath.Join(dir, "state")}
	for _, d := range []string{dir, e.creds, e.pluginDir, e.stateDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"whmcs", "freepbx", "logtail"} {
		if err := os.Symlink(sdktest.Build(t, "github.com/pbxwatch/pbxwatch/plugins/"+p), filepath.Join(e.pluginDir, "pbxwatch-plugin-"+p)); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// writeShippedConfig installs configs/pbxwatch.yaml, pointed at the test's
// plugin and state dirs, after edit.
func (e *installEnv) writeShippedConfig(edit func(string) string) {
	e.t.Helper()
	b, err := os.ReadFile("../configs/pbxwatch.yaml")
	if err != nil {
		e.t.Fatal(err)
	}
	cfg := strings.NewReplacer("state_dir: /var/lib/pbxwatch", "state_dir: "+e.stateDir,
		"plugin_dir: /usr/libexec/pbxwatch", "plugin_dir: "+e.pluginDir).Replace(string(b))
	if edit != nil {
		cfg = edit(cfg)
	}
	if err := os.WriteFile(e.config, []byte(cfg), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func (e *installEnv) writeSecret(name, value string, mode os.FileMode) string {
	e.t.Helper()
	p := filepath.Join(e.creds, name)
	if err := os.WriteFile(p, []byte(value+"\n"), mode); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// run runs pbxwatch in dir with a clean credentials environment (as a
// shell would have: no $CREDENTIALS_DIRECTORY), as uid when uid >= 0.
func (e *installEnv) run(dir string, uid int, args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	cmd := exec.Command(e.agent, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CREDENTIALS_DIRECTORY=") && !strings.HasPrefix(kv, "PBXWATCH_CREDENTIALS_DIR=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if uid >= 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// uncommentBlocks turns the commented-out blocks of the shipped config
// (those starting "# alerting:" or "# - name:") into live YAML, so the
// examples a user is told to uncomment are validated too.
func uncommentBlocks(cfg string) string {
	start := regexp.MustCompile(`^(\s*)# (alerting:|- name:)`)
	var out []string
	prefix := ""
	for _, line := range strings.Split(cfg, "\n") {
		if m := start.FindStringSubmatch(line); m != nil {
			prefix = m[1] + "# "
		}
		switch {
		case prefix != "" && strings.HasPrefix(line, prefix):
			line = strings.TrimSuffix(prefix, "# ") + strings.TrimPrefix(line, prefix)
		case prefix != "" && strings.TrimSpace(line) == strings.TrimSpace(prefix):
			line = ""
		default:
			prefix = ""
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

func TestShippedStartingConfigValidates(t *testing.T) {
	e := newInstallEnv(t)
	e.writeShippedConfig(nil)
	if out, errs, code := e.run(e.dir, -1, "validate", "--config.file="+e.config); code != 0 || !strings.Contains(out, "1 checks, configuration valid") {
		t.Fatalf("as shipped: exit %d\n%s%s", code, out, errs)
	}
}

// TestShippedConfigExamplesValidate uncomments the WHMCS, FreePBX and
// alerting blocks and puts their secret files, named as the comments say,
// in credentials/ beside the config: `pbxwatch validate` run from another
// directory with a relative --config.file, without systemd's credentials,
// reads them there.
func TestShippedConfigExamplesValidate(t *testing.T) {
	e := newInstallEnv(t)
	var live string
	e.writeShippedConfig(func(cfg string) string { live = uncommentBlocks(cfg); return live })
	for _, want := range []string{"\n  - name: whmcs_auth\n", "\n  - name: freepbx_api\n", "\nalerting:\n", "secret_file: whmcs.secret", "client_secret_file: freepbx.secret"} {
		if !strings.Contains(live, want) {
			t.Fatalf("uncommented config lacks %q:\n%s", want, live)
		}
	}
	for _, f := range []string{"whmcs.identifier", "whmcs.secret", "freepbx.secret"} {
		e.writeSecret(f, specialSecret+f, 0o640)
	}
	out, errs, code := e.run(filepath.Dir(e.dir), -1, "validate", "--config.file="+filepath.Join(filepath.Base(e.dir), "pbxwatch.yaml"))
	if code != 0 || !strings.Contains(out, "3 checks, configuration valid") {
		t.Fatalf("exit %d\n%s%s\nconfig:\n%s", code, out, errs, live)
	}
	assertNoSecretAnyEncoding(t, out+errs, specialSecret)

	// The same files, missing: the error names where it looked.
	os.Remove(filepath.Join(e.creds, "freepbx.secret"))
	out, errs, code = e.run(e.dir, -1, "validate", "--config.file="+e.config)
	if code == 0 || !strings.Contains(errs, filepath.Join(e.creds, "freepbx.secret")) || !strings.Contains(errs, "no such file") {
		t.Fatalf("missing secret: exit %d\n%s%s", code, out, errs)
	}
}

func TestValidateWarnsOnSecretReadableByOthers(t *testing.T) {
	e := newInstallEnv(t)
	e.writeShippedConfig(uncommentBlocks)
	e.writeSecret("whmcs.identifier", specialSecret+"id", 0o640)
	open := e.writeSecret("whmcs.secret", specialSecret, 0o644)
	e.writeSecret("freepbx.secret", specialSecret+"fp", 0o600)
	out, errs, code := e.run(e.dir, -1, "validate", "--config.file="+e.config)
	if code != 0 {
		t.Fatalf("a readable secret is a warning, not an error: exit %d\n%s%s", code, out, errs)
	}
	var warned []string
	for _, line := range strings.Split(errs, "\n") {
		if strings.Contains(line, "readable by every user") {
			warned = append(warned, line)
		}
	}
	if len(warned) != 1 || !strings.Contains(warned[0], open) || !strings.Contains(warned[0], "level=WARN") || !strings.Contains(warned[0], "chmod o-rwx") {
		t.Fatalf("want one warning naming %s and the fix, got %q\nstderr:\n%s", open, warned, errs)
	}
	assertNoSecretAnyEncoding(t, out+errs, specialSecret)
}

// TestUnreadableSecretErrorNamesUserAndFix runs `pbxwatch validate` as
// nobody on a root-only secret: the error says who could not read what and
// how to fix it.
func TestUnreadableSecretErrorNamesUserAndFix(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run pbxwatch as another user (CI runs as root)")
	}
	e := newInstallEnv(t)
	e.writeShippedConfig(uncommentBlocks)
	e.writeSecret("whmcs.identifier", specialSecret+"id", 0o640)
	locked := e.writeSecret("whmcs.secret", specialSecret, 0o600)
	e.writeSecret("freepbx.secret", specialSecret+"fp", 0o644)
	out, errs, code := e.run(e.dir, 65534, "validate", "--config.file="+e.config)
	t.Logf("pbxwatch validate as nobody:\n%s", errs)
	if code == 0 {
		t.Fatalf("nobody read a root-only secret:\n%s%s", out, errs)
	}
	for _, want := range []string{"secret_file " + locked, "permission denied", "uid 65534", "chown root:pbxwatch " + locked, "chmod 0640", "sudo"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	assertNoSecretAnyEncoding(t, out+errs, specialSecret)
}

// TestVersionWithoutLdflags: a plain `go build` (no -ldflags stamping)
// still prints every field of `pbxwatch version`.
func TestVersionWithoutLdflags(t *testing.T) {
	out, err := exec.Command(sdktest.Build(t, agentPkg), "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	assertVersionComplete(t, string(out))
}

// assertVersionComplete fails when a field of version.Print's output is
// empty.
func assertVersionComplete(t *testing.T, out string) {
	t.Helper()
	head := regexp.MustCompile(`^pbxwatch, version (\S+) \(branch: (\S+), revision: (\S+)\)`)
	if !head.MatchString(out) {
		t.Fatalf("version line has an empty field:\n%s", out)
	}
	for _, field := range []string{"build user", "build date", "go version", "platform", "tags"} {
		m := regexp.MustCompile(`(?m)^\s+` + field + `:\s+(\S.*)$`).FindStringSubmatch(out)
		if m == nil {
			t.Errorf("%s is empty or missing:\n%s", field, out)
		}
	}
}

// assertNoSecretAnyEncoding fails when s appears in out raw, URL-, JSON- or
// HTML-escaped, base64-encoded, or as a prefix of 8 characters or more.
func assertNoSecretAnyEncoding(t *testing.T, out, s string) {
	t.Helper()
	j, _ := json.Marshal(s)
	forms := map[string]string{
		"raw": s, "query-escaped": url.QueryEscape(s), "path-escaped": url.PathEscape(s),
		"json": strings.Trim(string(j), `"`), "html": html.EscapeString(s),
		"base64": base64.StdEncoding.EncodeToString([]byte(s)), "base64url": base64.RawURLEncoding.EncodeToString([]byte(s)),
		"prefix": s[:8],
	}
	for name, f := range forms {
		if strings.Contains(out, f) {
			t.Errorf("output holds the secret (%s form %q):\n%s", name, f, out)
		}
	}
}
