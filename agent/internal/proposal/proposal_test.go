package proposal

// The proposal from fixed facts, and the facts from a stand-in for the
// freepbx plugin's detect mode. agent/init_e2e_test.go runs init with the
// real plugin against MariaDB and validates its proposals.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pbxwatch/pbxwatch/internal/freepbxdb/facts"
)

var at = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func freepbx17() *Host {
	return &Host{
		FreePBX: facts.Facts{
			Database:     &facts.Database{Name: "asterisk", Host: "localhost", Socket: "/run/mysqld/mysqld.sock"},
			DatabaseRead: true,
			Framework:    facts.Module{Installed: true, Enabled: true, Version: "17.0.19"},
			API:          facts.Module{Installed: true, Enabled: true, Version: "17.0.3", AcceptsAnySecret: true},
			Settings:     map[string]string{"FPBX_LOG_FILE": "/var/log/asterisk/pbx-main.log", "AMPSYSLOGLEVEL": "FILE"},
			Applications: []facts.Application{
				{ID: 1, Name: "Reports\nchecks: []", GrantType: "client_credentials", ClientID: "11aa", Scopes: []string{"gql:framework"}},
				{ID: 2, Name: "WHMCS", GrantType: "client_credentials", ClientID: "f00dcafe", Scopes: []string{"gql:core", "rest"}},
				{ID: 3, Name: "Phone app", GrantType: "password", ClientID: "22bb", Scopes: []string{"gql", "rest"}},
			},
		},
		Version: "17.0.19", VersionFrom: "the framework module's version in the modules table",
		LogFile: "/var/log/asterisk/pbx-main.log", LogFrom: "Advanced Setting FPBX_LOG_FILE",
		Group: &UnixGroup{Name: "asterisk", GID: "995", Members: []string{"pbxwatch"}},
	}
}

func render(t *testing.T, h *Host) string {
	t.Helper()
	out, err := Build(h, "pbx1", at).Render()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func contains(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("proposal lacks %q:\n%s", w, out)
		}
	}
}

// uncommented is the proposal's YAML once the operator removed the "# "
// of every commented-out check.
type uncommented struct {
	Agent  map[string]string `yaml:"agent"`
	Checks []struct {
		Name     string         `yaml:"name"`
		Plugin   string         `yaml:"plugin"`
		Schedule string         `yaml:"schedule"`
		Timeout  string         `yaml:"timeout"`
		Config   map[string]any `yaml:"config"`
	} `yaml:"checks"`
}

func parseUncommented(t *testing.T, out string) uncommented {
	t.Helper()
	var b strings.Builder
	in := false
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "  # - name: ") {
			in = true
		} else if !strings.HasPrefix(line, "  # ") {
			in = false
		}
		if in {
			line = "  " + line[4:]
		}
		b.WriteString(line + "\n")
	}
	var u uncommented
	if err := yaml.Unmarshal([]byte(b.String()), &u); err != nil {
		t.Fatalf("uncommented proposal is not YAML: %v\n%s", err, b.String())
	}
	return u
}

func TestProposalOnFreePBX17(t *testing.T) {
	h := freepbx17()
	out := render(t, h)
	contains(t, out,
		"# pbxwatch configuration proposed by `pbxwatch init` on pbx1 at 2026-03-01T12:00:00Z.\n",
		"# Database: asterisk on socket /run/mysqld/mysqld.sock (from /etc/freepbx.conf).\n",
		"# FreePBX 17 (version 17.0.19, from the framework module's version in the modules table).\n",
		"# API module 17.0.3, enabled; 3 API application(s).\n",
		"# SECURITY: API module 17.0.3 accepts ANY client secret (CVE-2026-44237, fixed in 17.0.8)",
		"# Group asterisk (gid 995) exists: it can read FreePBX's logs and /etc/freepbx.conf; pbxwatch is a member.\n",
		"\nagent:\n  state_dir: /var/lib/pbxwatch # the default;",
		"\nchecks:\n  # FreePBX's own log, /var/log/asterisk/pbx-main.log (Advanced Setting FPBX_LOG_FILE)",
		"  - name: freepbx_log\n    plugin: logtail\n    schedule: \"@every 10s\"\n    timeout: 30s\n    config:\n      path: /var/log/asterisk/pbx-main.log\n",
		`  # the Client ID is application "WHMCS" (allowed scopes: gql:core rest).`,
		`  #   Other Machine-to-Machine application: "Reports\nchecks: []", Client ID 11aa`,
		"  # - name: freepbx_api\n  #   plugin: freepbx\n",
		"  #     client_id: f00dcafe\n",
		"  #     required_scopes: ['gql:core:read'] # what the integration needs",
		"  #     # or, with a read-only database user (docs/freepbx.md gives the GRANTs), instead of freepbx_conf:\n  #     # database_dsn: pbxwatch@unix(/run/mysqld/mysqld.sock)/asterisk\n  #     # database_password_file: freepbx-db.pass\n",
		"  # - name: whmcs_auth\n",
	)
	if strings.Contains(out, "Phone app") {
		t.Error("a password-grant application is offered for the API check")
	}
	if w := h.Warnings(); len(w) != 1 || !strings.Contains(w[0], "CVE-2026-44237") {
		t.Errorf("warnings %q", w)
	}
	u := parseUncommented(t, out)
	if u.Agent["plugin_dir"] != "/usr/libexec/pbxwatch" || len(u.Checks) != 3 {
		t.Fatalf("uncommented: %+v", u)
	}
	api := u.Checks[1]
	if api.Name != "freepbx_api" || api.Schedule != "@every 5m" || api.Timeout != "20s" || api.Config["client_id"] != "f00dcafe" ||
		api.Config["client_secret_file"] != "freepbx.secret" || api.Config["freepbx_conf"] != "/etc/freepbx.conf" {
		t.Errorf("freepbx_api uncommented: %+v", api)
	}
	if _, ok := api.Config["database_dsn"]; ok {
		t.Error("the alternative database_dsn is not a comment")
	}
	whmcs := u.Checks[2]
	if whmcs.Plugin != "whmcs" || whmcs.Config["secret_file"] != "whmcs.secret" || len(whmcs.Config["required_actions"].([]any)) != 3 {
		t.Errorf("whmcs_auth uncommented: %+v", whmcs)
	}
}

func TestProposalWithoutFreePBX(t *testing.T) {
	h := &Host{FreePBX: facts.Facts{ConfMissing: true, ConfError: "no such file"}, LogFile: defaultFPBXLog, LogFrom: "FreePBX's default"}
	out := render(t, h)
	contains(t, out, "# No /etc/freepbx.conf: FreePBX does not seem to be installed here; only the log check is proposed.\n",
		"# No asterisk group in /etc/group", "  - name: freepbx_log\n", "  # - name: whmcs_auth\n")
	if strings.Contains(out, "freepbx_api") || strings.Contains(out, "FreePBX version") {
		t.Errorf("without FreePBX: an API check or a version line:\n%s", out)
	}
	if len(h.Warnings()) != 0 {
		t.Errorf("warnings %q", h.Warnings())
	}
}

func TestProposalSyslogCommentsTheLogCheckOut(t *testing.T) {
	h := freepbx17()
	h.FreePBX.Settings["AMPSYSLOGLEVEL"] = "syslog"
	out := render(t, h)
	contains(t, out, "  # Advanced Setting AMPSYSLOGLEVEL is SYSLOG: FreePBX logs to syslog, not to this\n",
		"  # - name: freepbx_log\n  #   plugin: logtail\n")
}

func TestProposalAPIModule(t *testing.T) {
	h := freepbx17()
	h.FreePBX.API = facts.Module{Installed: true, Version: "17.0.9"}
	out := render(t, h)
	contains(t, out, "# API module 17.0.9: installed but DISABLED;")
	if strings.Contains(out, "SECURITY") {
		t.Error("a fixed API module is reported vulnerable")
	}

	h.FreePBX.API, h.FreePBX.Applications = facts.Module{}, nil
	out = render(t, h)
	contains(t, out, "# API module: not installed (Admin → Module Admin → API), so the API check is left out.")
	if strings.Contains(out, "freepbx_api") {
		t.Errorf("API check proposed without the API module:\n%s", out)
	}

	h.FreePBX.API = facts.Module{Installed: true, Enabled: true, Version: "17.0.9"}
	out = render(t, h)
	contains(t, out, "# FreePBX has no Machine-to-Machine application: add one", "  #     client_id: FILL-IN-the-Client-ID\n")
}

// What FreePBX's database holds is the operator's text: it never breaks out
// of its comment or its value.
func TestProposalHostileValuesStayInPlace(t *testing.T) {
	h := freepbx17()
	h.FreePBX.Applications = []facts.Application{{ID: 9, Name: "x\r\n- name: evil\u2028", GrantType: "client_credentials",
		ClientID: "id: #\n  plugin: evil\xff", Scopes: []string{"gql"}}}
	h.LogFile = "/var/log/a b: #c\nd.log"
	out := render(t, h)
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "evil") && !strings.HasPrefix(line, "  # ") {
			t.Errorf("a detected value escaped its comment: %q", line)
		}
	}
	u := parseUncommented(t, out)
	if got := u.Checks[0].Config["path"]; got != "/var/log/a b: #c d.log" {
		t.Errorf("log path %q", got)
	}
	if got := u.Checks[1].Config["client_id"]; got != "id: #   plugin: evil?" {
		t.Errorf("client_id %q", got)
	}
}

// fakePlugin writes a pbxwatch-plugin-freepbx that runs script.
func fakePlugin(t *testing.T, script string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pbxwatch-plugin-freepbx"), []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func rootWithConf(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, facts.ConfPath), []byte("<?php\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestDetectAsksTheFreePBXPlugin(t *testing.T) {
	root := rootWithConf(t)
	dir := fakePlugin(t, `[ "$1 $2" = "detect --root=`+root+`" ] || { echo "bad args: $*" >&2; exit 2; }
cat <<'EOF'
{"database":{"name":"asterisk","host":"db"},"database_read":true,"framework":{"installed":true,"version":"16.0.40"},
 "api":{"installed":true,"enabled":true,"version":"16.0.13"},"settings":{"FPBX_LOG_FILE":"/var/log/fpbx.log"}}
EOF`)
	h := Detect(context.Background(), root, dir)
	if h.FreePBX.DatabaseError != "" || h.Version != "16.0.40" || h.Major() != "16" || h.LogFile != "/var/log/fpbx.log" || h.LogFrom != "Advanced Setting FPBX_LOG_FILE" {
		t.Errorf("host %+v", h)
	}
}

func TestDetectWhenThePluginCannotAnswer(t *testing.T) {
	root := rootWithConf(t)
	for name, c := range map[string]struct{ dir, want string }{
		"missing":  {t.TempDir(), "there is none at "},
		"failing":  {fakePlugin(t, "echo 'detect: boom' >&2; exit 1"), "exit status 1 detect: boom"},
		"garbage":  {fakePlugin(t, "echo 'This binary is a plugin.'"), "answered no facts"},
		"too much": {fakePlugin(t, `printf '{"settings":{"A":"'; head -c 2000000 /dev/zero | tr '\0' x; printf '"}}'`), "answered no facts"},
	} {
		h := Detect(context.Background(), root, c.dir)
		if !strings.Contains(h.FreePBX.DatabaseError, c.want) || h.FreePBX.DatabaseRead {
			t.Errorf("%s: database error %q, want it to say %q", name, h.FreePBX.DatabaseError, c.want)
		}
		out := render(t, h)
		contains(t, out, "# Database from /etc/freepbx.conf: not read:", "The database could not be read: copy the Client ID")
	}
}

func TestDetectWithoutFreePBXAsksNoPlugin(t *testing.T) {
	dir := fakePlugin(t, "touch \"$(dirname \"$0\")/asked\"; exit 1")
	h := Detect(context.Background(), t.TempDir(), dir)
	if !h.FreePBX.ConfMissing {
		t.Errorf("facts %+v", h.FreePBX)
	}
	if _, err := os.Stat(filepath.Join(dir, "asked")); err == nil {
		t.Error("the plugin was asked although there is no freepbx.conf")
	}
}

func TestVersionFromModuleXMLAndGroup(t *testing.T) {
	root := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("srv/www/admin/modules/framework/module.xml", "<module><rawname>framework</rawname><version> 16.0.40.7 </version></module>")
	write("etc/group", "root:x:0:\nasterisk:x:995:asterisk, pbxwatch\n")
	h := &Host{FreePBX: facts.Facts{Settings: map[string]string{"AMPWEBROOT": "/srv/www"}}}
	h.versionFromModuleXML(root)
	if h.Version != "16.0.40.7" || h.VersionFrom != "/srv/www/admin/modules/framework/module.xml" {
		t.Errorf("version %q from %q", h.Version, h.VersionFrom)
	}
	g := readGroup(filepath.Join(root, "etc/group"), "asterisk")
	if g == nil || g.GID != "995" || strings.Join(g.Members, ",") != "asterisk,pbxwatch" {
		t.Errorf("group %+v", g)
	}
}
