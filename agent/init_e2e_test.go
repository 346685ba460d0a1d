package main_test

// `pbxwatch init` against fake FreePBX roots: a real freepbx.conf, a real
// MariaDB holding FreePBX's tables, /etc/group, module.xml. The proposal
// must pass `pbxwatch validate`, as written and once filled in.

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/freepbxdb"
	"github.com/pbxwatch/pbxwatch/internal/testutil/mariadbtest"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

func TestMain(m *testing.M) { os.Exit(mariadbtest.Main(m)) }

const initDBPassword = `In1t-p'a"s$s\w@o:r/d%40?#&;ü`

// fakeRoot is a FreePBX host's files under a temp dir.
type fakeRoot struct {
	dir string
	srv *mariadbtest.Server
	db  string
}

func newFakeRoot(t *testing.T) *fakeRoot {
	t.Helper()
	return &fakeRoot{dir: t.TempDir()}
}

func (r *fakeRoot) write(t *testing.T, name, content string) {
	t.Helper()
	p := filepath.Join(r.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
}

// database loads f and writes /etc/freepbx.conf for a user with the
// documented read-only grants (password: the given one, which may be wrong).
func (r *fakeRoot) database(t *testing.T, f mariadbtest.FreePBX, wrongPassword bool) {
	t.Helper()
	r.srv = mariadbtest.Get(t)
	r.db = r.srv.NewDatabase(t, "asterisk")
	r.srv.LoadFreePBX(t, r.db, f)
	user := r.srv.NewUser(t, "freepbxuser", initDBPassword)
	r.srv.Exec(t, strings.Split(strings.TrimSuffix(freepbxdb.GrantStatement(r.db, user, "localhost"), ";"), "; ")...)
	pass := initDBPassword
	if wrongPassword {
		pass = "x" + pass
	}
	esc := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pass)
	r.write(t, "etc/freepbx.conf", fmt.Sprintf("<?php\n$amp_conf['AMPDBUSER'] = '%s';\n$amp_conf['AMPDBPASS'] = '%s';\n$amp_conf['AMPDBHOST'] = 'localhost';\n$amp_conf['AMPDBNAME'] = '%s';\n$amp_conf['AMPDBENGINE'] = 'mysql';\n$amp_conf['AMPDBSOCK'] = '%s';\n$amp_conf['datasource'] = ''; //for sqlite3\n\nrequire_once('/var/www/html/admin/bootstrap.php');\n?>\n",
		user, esc, r.db, r.srv.Socket))
}

// snapshot hashes every file under the root and every table's checksum:
// init must change neither.
func (r *fakeRoot) snapshot(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(r.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		sum := sha256.Sum256(data)
		fmt.Fprintf(&b, "%s %s %v\n", p, hex.EncodeToString(sum[:]), err)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.srv != nil {
		rows, err := r.srv.DB(r.db).Query("CHECKSUM TABLE modules, freepbx_settings, api_applications, api_access_tokens")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var table string
			var sum any
			if err := rows.Scan(&table, &sum); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %s\n", table, sum)
		}
	}
	return b.String()
}

// runInit runs `pbxwatch init` with the test's plugin dir, where it finds
// the freepbx plugin that reads FreePBX's database for it.
func runInit(t *testing.T, e *env, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	if _, err := os.Lstat(filepath.Join(e.PluginDir, "pbxwatch-plugin-freepbx")); err != nil {
		e.LinkPlugin("freepbx", sdktest.Build(t, "github.com/pbxwatch/pbxwatch/plugins/freepbx"))
	}
	return e.cli(append([]string{"init", "--plugin.dir=" + e.PluginDir}, args...)...)
}

// validateProposal writes proposal (plugin_dir pointed at the test's
// plugins) with the secret files it names in credentials/ beside it, and
// validates it.
func validateProposal(t *testing.T, e *env, proposal string, wantChecks int) {
	t.Helper()
	for _, p := range []string{"whmcs", "freepbx", "logtail"} {
		if _, err := os.Lstat(filepath.Join(e.PluginDir, "pbxwatch-plugin-"+p)); err != nil {
			e.LinkPlugin(p, sdktest.Build(t, "github.com/pbxwatch/pbxwatch/plugins/"+p))
		}
	}
	creds := filepath.Join(filepath.Dir(e.Config), "credentials")
	if err := os.MkdirAll(creds, 0o750); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"whmcs.identifier", "whmcs.secret", "freepbx.secret"} {
		if err := os.WriteFile(filepath.Join(creds, f), []byte("filled-in-credential\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := strings.NewReplacer("plugin_dir: /usr/libexec/pbxwatch", "plugin_dir: "+e.PluginDir).Replace(proposal)
	if err := os.WriteFile(e.Config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(e.Agent, "validate", "--config.file="+e.Config).CombinedOutput()
	if err != nil || !strings.Contains(string(out), fmt.Sprintf("%d checks, configuration valid", wantChecks)) {
		t.Fatalf("validate: %v\n%s\nconfig:\n%s", err, out, cfg)
	}
}

// uncomment does what the proposal asks the operator to do once the
// secrets are in place: drop the "# " of the named checks' lines.
func uncomment(proposal string, checks ...string) string {
	lines := strings.Split(proposal, "\n")
	in := false
	for i, l := range lines {
		for _, c := range checks {
			if l == "  # - name: "+c {
				in = true
			}
		}
		if in && !strings.HasPrefix(l, "  # ") {
			in = false
		}
		if in {
			lines[i] = "  " + l[4:]
		}
	}
	return strings.Join(lines, "\n")
}

func assertNoPassword(t *testing.T, text string) {
	t.Helper()
	for _, v := range []string{initDBPassword, initDBPassword[:10], url.QueryEscape(initDBPassword), base64.StdEncoding.EncodeToString([]byte(initDBPassword)), `In1t-p\'a`} {
		if strings.Contains(text, v) {
			t.Fatalf("init output reveals the database password (%q):\n%s", v, text)
		}
	}
}

func TestInitOnFreePBX17(t *testing.T) {
	e := newEnv(t)
	r := newFakeRoot(t)
	r.database(t, mariadbtest.FreePBX{
		Version: 17, FrameworkVersion: "17.0.19", APIVersion: "17.0.3",
		Settings: map[string]string{"FPBX_LOG_FILE": "/var/log/asterisk/pbx-main.log", "AMPSYSLOGLEVEL": "FILE"},
		Apps: []mariadbtest.App{
			{Name: "Reports\nchecks: []", GrantType: "client_credentials", ClientID: "11aa", Secret: "a", AllowedScopes: "gql:framework"},
			{Name: "WHMCS", GrantType: "client_credentials", ClientID: "f00dcafe", Secret: "b", AllowedScopes: "gql:core rest"},
			{Name: "Phone app", GrantType: "password", ClientID: "22bb", Secret: "c"},
		},
	}, false)
	r.write(t, "etc/group", "root:x:0:\nasterisk:x:995:\nwww-data:x:33:\n")
	before := r.snapshot(t)

	out, stderr, code := runInit(t, e, "--root="+r.dir, "--output=-")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	t.Logf("proposal:\n%s", out)
	for _, want := range []string{
		"FreePBX 17 (version 17.0.19, from the framework module's version in the modules table)",
		"API module 17.0.3, enabled; 3 API application(s)",
		"CVE-2026-44237", "fwconsole ma upgrade api",
		"Group asterisk (gid 995) exists", "SupplementaryGroups=asterisk",
		"path: /var/log/asterisk/pbx-main.log", "(Advanced Setting FPBX_LOG_FILE)",
		`#     client_id: f00dcafe`, `application "WHMCS" (allowed scopes: gql:core rest)`,
		`Other Machine-to-Machine application: "Reports\nchecks: []", Client ID 11aa`,
		"#     freepbx_conf: /etc/freepbx.conf", "FILL IN", "billing.example.com",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("proposal lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, "CVE-2026-44237") {
		t.Errorf("no warning on stderr: %s", stderr)
	}
	assertNoPassword(t, out+stderr)
	if after := r.snapshot(t); after != before {
		t.Errorf("init changed FreePBX's files or database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	validateProposal(t, e, out, 1)
	validateProposal(t, e, uncomment(out, "freepbx_api", "whmcs_auth"), 3)
}

func TestInitFreePBX16DatabaseUnreadable(t *testing.T) {
	e := newEnv(t)
	r := newFakeRoot(t)
	r.database(t, mariadbtest.FreePBX{Version: 16, APIVersion: "16.0.13"}, true)
	r.write(t, "var/www/html/admin/modules/framework/module.xml", "<module>\n\t<rawname>framework</rawname>\n\t<version>16.0.40.7</version>\n</module>\n")
	out, stderr, code := runInit(t, e, "--root="+r.dir, "--output=-")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{
		"FreePBX 16 (version 16.0.40.7, from /var/www/html/admin/modules/framework/module.xml)",
		"Access denied for user", "#     client_id: FILL-IN-the-Client-ID", "The database could not be read",
		"No asterisk group in /etc/group", "path: /var/log/asterisk/freepbx.log",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("proposal lacks %q:\n%s", want, out)
		}
	}
	assertNoPassword(t, out+stderr)
	validateProposal(t, e, out, 1)
	validateProposal(t, e, uncomment(out, "freepbx_api"), 2)
}

func TestInitWritesOnceAndNeverOverwrites(t *testing.T) {
	e := newEnv(t)
	r := newFakeRoot(t)
	_, stderr, code := runInit(t, e, "--root="+r.dir)
	target := filepath.Join(r.dir, "etc/pbxwatch/pbxwatch.yaml")
	written, err := os.ReadFile(target)
	if code != 0 || err != nil || !strings.Contains(stderr, "wrote "+target) {
		t.Fatalf("exit %d, %v:\n%s", code, err, stderr)
	}
	if !strings.Contains(string(written), "No /etc/freepbx.conf") || strings.Contains(string(written), "freepbx_api") {
		t.Errorf("without FreePBX the proposal should say so and leave out the API check:\n%s", written)
	}
	validateProposal(t, e, string(written), 1)

	mine := "# the operator's own config\n"
	if err := os.WriteFile(target, []byte(mine), 0o640); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runInit(t, e, "--root="+r.dir)
	if b, _ := os.ReadFile(target); string(b) != mine {
		t.Fatalf("init overwrote %s:\n%s", target, b)
	}
	if code != 0 || !strings.Contains(stderr, target+" exists and is left as it is") || !strings.Contains(out, "checks:\n") {
		t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	other := filepath.Join(t.TempDir(), "sub", "proposal.yaml")
	if _, stderr, code := runInit(t, e, "--root="+r.dir, "--output="+other); code != 0 {
		t.Fatalf("--output: exit %d %s", code, stderr)
	}
	if fi, err := os.Stat(other); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("--output file: %v %v", fi, err)
	}
}
