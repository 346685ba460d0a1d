package freepbx_test

// The server-side look-up end to end: `pbxwatch check` runs the real plugin
// against the FreePBX simulator (the HTTP side) and a real MariaDB holding
// the api module's tables as FreePBX 16 and 17 create them, found through a
// real freepbx.conf and read by a user with exactly the grants
// docs/freepbx.md gives. One scenario per diagnosis.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/http/httptest"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/freepbxdb"
	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
	"github.com/pbxwatch/pbxwatch/internal/testutil/mariadbtest"
	"github.com/pbxwatch/pbxwatch/plugins/freepbx/freepbxsim"
)

func TestMain(m *testing.M) { os.Exit(mariadbtest.Main(m)) }

// Secrets full of what breaks quoting in PHP, SQL, YAML, forms and HTML.
const (
	serverSecret = `Sv3r-s3cr€t'"<>&%+=/\;$x#`
	wrongSecret  = `Wr0ng-s3cr€t'"<>&%+=/\;$y`
	dbPassword   = `Db-p'a"s$s\w@o:r/d%40?#&;ü`
)

// dbSim is a simulator whose issued tokens land in the scenario's
// database, as FreePBX's AccessTokenRepository writes them.
var dbSim struct {
	once sync.Once
	url  string
	mu   sync.Mutex
	db   string                  // the running scenario's database
	rec  func([]string) []string // scopes to record instead of the granted ones
	srv  *mariadbtest.Server
	errs []error
}

func startDBSim(t *testing.T) string {
	dbSim.once.Do(func() {
		dbSim.srv = mariadbtest.Get(t)
		sim := freepbxsim.New(freepbxsim.Options{Secret: serverSecret, OnIssue: func(clientID, jti string, scopes []string, exp time.Time) {
			dbSim.mu.Lock()
			defer dbSim.mu.Unlock()
			if dbSim.db == "" {
				return // the scenario's database belongs to another FreePBX
			}
			if dbSim.rec != nil {
				scopes = dbSim.rec(scopes)
			}
			if err := dbSim.srv.AddToken(dbSim.db, clientID, jti, scopes, exp, time.Now()); err != nil {
				dbSim.errs = append(dbSim.errs, err)
			}
		}})
		dbSim.url = httptest.NewServer(sim).URL // serves the whole package run
	})
	return dbSim.url
}

type dbScenario struct {
	name     string
	clientID string
	secret   string // configured client secret; default serverSecret
	db       mariadbtest.FreePBX
	keys     string // "" readable, "unreadable", "missing"
	conf     string // "" freepbx.conf of the read-only user, "dsn", "wrong_password"
	extra    string // more config lines
	record   func([]string) []string
	otherDB  bool // the database is another FreePBX's: the simulator's tokens do not land in it
	status   string
	codes    []string
	metrics  []string // metric names that must be reported
	check    func(t *testing.T, r checkJSON)
}

type checkJSON struct {
	Status    string `json:"status"`
	Summary   string `json:"summary"`
	Diagnoses []struct {
		Code        string            `json:"code"`
		Severity    string            `json:"severity"`
		Message     string            `json:"message"`
		Remediation []string          `json:"remediation"`
		Details     map[string]string `json:"details"`
	} `json:"diagnoses"`
	Metrics []struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
		Value  float64           `json:"value"`
	} `json:"metrics"`
}

func (r checkJSON) metric(name string, labels map[string]string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Name != name {
			continue
		}
		match := true
		for k, v := range labels {
			match = match && m.Labels[k] == v
		}
		if match {
			return m.Value, true
		}
	}
	return 0, false
}

func m2m(clientID, scopes string) mariadbtest.App {
	return mariadbtest.App{Name: "WHMCS " + clientID, GrantType: "client_credentials", ClientID: clientID, Secret: serverSecret, AllowedScopes: scopes}
}

// others are applications every database holds besides the checked one.
var others = []mariadbtest.App{
	{Name: "Softphone", GrantType: "password", ClientID: "0f3c", Secret: "x1", Owner: 7},
	{Name: "Billing sync", GrantType: "client_credentials", ClientID: "9a9a", Secret: "x2", AllowedScopes: "gql:core:read"},
}

func fpbx(version int, api string, apps ...mariadbtest.App) mariadbtest.FreePBX {
	return mariadbtest.FreePBX{Version: version, APIVersion: api, Apps: append(apps, others...)}
}

func dbScenarios() []dbScenario {
	return []dbScenario{
		{name: "ok 16", clientID: "16-ok", db: fpbx(16, "16.0.13", m2m("16-ok", "gql")), status: "OK",
			metrics: []string{"freepbx_database_up", "freepbx_api_module_info", "freepbx_api_module_enabled", "freepbx_api_application_live_tokens", "freepbx_api_application_last_used_timestamp_seconds"},
			check: func(t *testing.T, r checkJSON) {
				if v, ok := r.metric("freepbx_api_module_info", map[string]string{"version": "16.0.13"}); !ok || v != 1 {
					t.Errorf("freepbx_api_module_info{version=16.0.13} = %v %v", v, ok)
				}
				labels := map[string]string{"application": "WHMCS 16-ok", "application_id": "1", "grant_type": "client_credentials"}
				if v, _ := r.metric("freepbx_api_application_live_tokens", labels); v != 1 {
					t.Errorf("live tokens of the checked application = %v, want the 1 this run got", v)
				}
				if v, ok := r.metric("freepbx_api_application_last_used_timestamp_seconds", labels); !ok || time.Since(time.Unix(int64(v), 0)) > time.Minute {
					t.Errorf("last used = %v %v", v, ok)
				}
				if v, ok := r.metric("freepbx_api_application_live_tokens", map[string]string{"application": "Softphone", "grant_type": "password"}); !ok || v != 0 {
					t.Errorf("Softphone live tokens = %v %v", v, ok)
				}
			}},
		{name: "ok 17 through database_dsn", clientID: "17-ok", conf: "dsn", db: fpbx(17, "17.0.8", m2m("17-ok", "gql")), status: "OK",
			extra: "probe_wrong_secret: true\n", metrics: []string{"freepbx_wrong_secret_accepted", "freepbx_api_module_enabled"},
			check: func(t *testing.T, r checkJSON) {
				if v, ok := r.metric("freepbx_wrong_secret_accepted", nil); !ok || v != 0 {
					t.Errorf("freepbx_wrong_secret_accepted = %v %v", v, ok)
				}
			}},
		{name: "client_unknown", clientID: "16-retired_app", db: fpbx(16, "16.0.13", m2m("16-ok", "gql")), status: "CRITICAL",
			codes: []string{"freepbx.client_unknown", "freepbx.invalid_client"},
			check: func(t *testing.T, r checkJSON) {
				msg := r.Diagnoses[0].Message
				for _, want := range []string{`"WHMCS 16-ok" Machine-to-Machine app (client_credentials)`, `"Softphone" Native app (password)`, `"Billing sync"`} {
					if !strings.Contains(msg, want) {
						t.Errorf("message lacks %s: %s", want, msg)
					}
				}
			}},
		{name: "grant_type_mismatch 16", clientID: "16-wrong_app_type", db: fpbx(16, "16.0.13",
			mariadbtest.App{Name: "Web portal", GrantType: "authorization_code", ClientID: "16-wrong_app_type", Secret: serverSecret, AllowedScopes: "gql"}),
			status: "CRITICAL", codes: []string{"freepbx.grant_type_mismatch", "freepbx.invalid_client"}},
		{name: "grant_type_mismatch 17 works but warns", clientID: "17-wrong_app_type", db: fpbx(17, "17.0.9",
			mariadbtest.App{Name: "Web portal", GrantType: "authorization_code", ClientID: "17-wrong_app_type", Secret: serverSecret, AllowedScopes: "gql"}),
			status: "WARNING", codes: []string{"freepbx.grant_type_mismatch"}},
		{name: "secret_mismatch", clientID: "16-ok", secret: wrongSecret, db: fpbx(16, "16.0.13", m2m("16-ok", "gql")),
			status: "CRITICAL", codes: []string{"freepbx.secret_mismatch", "freepbx.invalid_client"}},
		{name: "scope_not_allowed", clientID: "16-framework_only", db: fpbx(16, "16.0.13", m2m("16-framework_only", "gql:framework")),
			status: "CRITICAL", codes: []string{"freepbx.scope_not_allowed", "freepbx.missing_scope"},
			check: func(t *testing.T, r checkJSON) {
				if d := r.Diagnoses[0].Details; d["missing_scopes"] != "gql:core:read" || d["allowed_scopes"] != "gql:framework" {
					t.Errorf("details %v", d)
				}
			}},
		{name: "api_module_disabled", clientID: "16-no_api_module", db: func() mariadbtest.FreePBX {
			f := fpbx(16, "16.0.13", m2m("16-no_api_module", "gql"))
			f.APIDisabled = true
			return f
		}(), status: "CRITICAL", codes: []string{"freepbx.api_module_disabled", "freepbx.api_module_missing"},
			check: func(t *testing.T, r checkJSON) {
				if v, ok := r.metric("freepbx_api_module_enabled", nil); !ok || v != 0 {
					t.Errorf("freepbx_api_module_enabled = %v %v", v, ok)
				}
			}},
		{name: "api_module_disabled not installed", clientID: "17-no_api_module", db: mariadbtest.FreePBX{Version: 17},
			status: "CRITICAL", codes: []string{"freepbx.api_module_disabled", "freepbx.api_module_missing"}},
		{name: "oauth_keys_unreadable", clientID: "16-broken_key", keys: "unreadable", db: fpbx(16, "16.0.13", m2m("16-broken_key", "gql")),
			status: "CRITICAL", codes: []string{"freepbx.oauth_keys_unreadable", "freepbx.server_error"}},
		{name: "oauth_keys_unreadable missing", clientID: "17-broken_key", keys: "missing", db: fpbx(17, "17.0.8", m2m("17-broken_key", "gql")),
			status: "CRITICAL", codes: []string{"freepbx.oauth_keys_unreadable", "freepbx.server_error"}},
		{name: "api_module_vulnerable while everything works", clientID: "17-ok", db: fpbx(17, "17.0.3", m2m("17-ok", "gql")),
			status: "CRITICAL", codes: []string{"freepbx.api_module_vulnerable"},
			check: func(t *testing.T, r checkJSON) {
				if !slices.ContainsFunc(r.Diagnoses[0].Remediation, func(s string) bool { return strings.Contains(s, "fwconsole ma upgrade api") }) {
					t.Errorf("no upgrade command: %v", r.Diagnoses[0].Remediation)
				}
			}},
		{name: "wrong secret accepted, found by the probe", clientID: "17-any_secret", secret: wrongSecret, extra: "probe_wrong_secret: true\n",
			db: fpbx(17, "17.0.3", m2m("17-any_secret", "gql")), status: "CRITICAL",
			codes: []string{"freepbx.api_module_vulnerable", "freepbx.secret_mismatch", "freepbx.wrong_secret_accepted"}},
		{name: "token_scopes_differ", clientID: "17-ok", db: fpbx(17, "17.0.8", m2m("17-ok", "gql")),
			record: func([]string) []string { return []string{"gql:framework"} },
			status: "WARNING", codes: []string{"freepbx.token_scopes_differ"}},
		{name: "client_unknown in another PBX's database while the token works", clientID: "17-ok", db: fpbx(17, "17.0.8"), otherDB: true,
			status: "WARNING", codes: []string{"freepbx.client_unknown"},
			check: func(t *testing.T, r checkJSON) {
				if d := r.Diagnoses[0]; !strings.Contains(d.Message, "is not the database of the FreePBX at url") || d.Severity != "warning" {
					t.Errorf("%s %s", d.Severity, d.Message)
				}
			}},
		{name: "secret hash of another PBX's database while the token works", clientID: "16-ok",
			db:     fpbx(16, "16.0.13", mariadbtest.App{Name: "WHMCS", GrantType: "client_credentials", ClientID: "16-ok", Secret: "the-other-pbx-secret", AllowedScopes: "gql"}),
			status: "WARNING", codes: []string{"freepbx.client_unknown"},
			check: func(t *testing.T, r checkJSON) {
				if d := r.Diagnoses[0]; !strings.Contains(d.Message, `stores a different Client Secret hash for application "WHMCS"`) {
					t.Errorf("%s", d.Message)
				}
			}},
		{name: "database_unreachable alone", clientID: "17-ok", conf: "wrong_password", db: fpbx(17, "17.0.8", m2m("17-ok", "gql")),
			status: "WARNING", codes: []string{"freepbx.database_unreachable"}, metrics: []string{"freepbx_database_up", "freepbx_api_up"}},
		{name: "database_unreachable keeps the outside view", clientID: "16-framework_only", conf: "wrong_password",
			db: fpbx(16, "16.0.13", m2m("16-framework_only", "gql:framework")), status: "CRITICAL",
			codes: []string{"freepbx.missing_scope", "freepbx.database_unreachable"},
			check: func(t *testing.T, r checkJSON) {
				if d := r.Diagnoses[1]; !strings.Contains(d.Message, "Access denied for user") || d.Severity != "warning" {
					t.Errorf("does not say why: %s %s", d.Severity, d.Message)
				}
				if !strings.HasPrefix(r.Summary, "freepbx.missing_scope, freepbx.database_unreachable: The token FreePBX granted") {
					t.Errorf("summary does not lead with the outside cause: %s", r.Summary)
				}
			}},
	}
}

func TestServerSideScenarios(t *testing.T) {
	base := startDBSim(t)
	srv := mariadbtest.Get(t)
	for _, sc := range dbScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			db := srv.NewDatabase(t, "asterisk")
			keysDir, webUser := oauthKeys(t, sc.keys)
			sc.db.Settings = map[string]string{"CERTKEYLOC": keysDir, "AMPASTERISKWEBUSER": webUser, "ASTETCDIR": "/etc/asterisk"}
			srv.LoadFreePBX(t, db, sc.db)
			lookup := dbConfig(t, srv, db, sc.conf)
			secret := sc.secret
			if secret == "" {
				secret = serverSecret
			}
			dbSim.mu.Lock()
			dbSim.db, dbSim.rec, dbSim.errs = db, sc.record, nil
			if sc.otherDB {
				dbSim.db = ""
			}
			dbSim.mu.Unlock()

			checks := fmt.Sprintf("  - name: fpbx\n    plugin: freepbx\n    timeout: 20s\n    config:\n      url: %s\n      client_id: %s\n      client_secret_file: %s\n%s",
				base, sc.clientID, writeSecret(t, secret), indent(lookup+sc.extra))
			e := newAgentEnv(t, checks)
			stdout, stderr, code := cli(e, "check", "--config.file="+e.Config, "--output=json", "--log.level=debug", "fpbx")
			var r checkJSON
			if err := json.Unmarshal([]byte(stdout), &r); err != nil {
				t.Fatalf("not JSON: %v\n%s\n%s", err, stdout, stderr)
			}
			var codes []string
			for _, d := range r.Diagnoses {
				codes = append(codes, d.Code)
				if len(d.Remediation) == 0 || d.Message == "" {
					t.Errorf("%s without message or remediation", d.Code)
				}
			}
			want := map[string]int{"OK": 0, "WARNING": 1, "CRITICAL": 2}[sc.status]
			if r.Status != sc.status || code != want || !slices.Equal(codes, sc.codes) {
				t.Fatalf("status %s exit %d codes %v, want %s %v\n%s\n%s", r.Status, code, codes, sc.status, sc.codes, stdout, stderr)
			}
			for _, m := range sc.metrics {
				if _, ok := r.metric(m, nil); !ok {
					t.Errorf("metric %s missing:\n%s", m, stdout)
				}
			}
			if sc.check != nil {
				sc.check(t, r)
			}
			assertNoLeak(t, stdout+stderr, serverSecret, wrongSecret, dbPassword)
			text, stderr2, code2 := cli(e, "check", "--config.file="+e.Config, "fpbx")
			if code2 != code || !strings.Contains(text, "fpbx "+sc.status) || (len(sc.codes) > 0 && !strings.Contains(text, sc.codes[0])) {
				t.Errorf("text output: exit %d\n%s\n%s", code2, text, stderr2)
			}
			assertNoLeak(t, text+stderr2, serverSecret, wrongSecret, dbPassword)
			t.Logf("pbxwatch check:\n%s", text)
			if !strings.Contains(stderr, "freepbx API checked") {
				t.Errorf("the plugin's log did not reach stderr, so the leak check proves nothing:\n%s", stderr)
			}
			dbSim.mu.Lock()
			defer dbSim.mu.Unlock()
			if len(dbSim.errs) > 0 {
				t.Errorf("recording tokens: %v", dbSim.errs)
			}
		})
	}
}

func indent(lines string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(lines, "\n"), "\n") {
		if l != "" {
			b.WriteString("      " + l + "\n")
		}
	}
	return b.String()
}

// dbConfig creates a read-only user with docs/freepbx.md's grants and
// returns the check's config lines that reach the database as it: a
// freepbx.conf (the default), a DSN with a password file, or a
// freepbx.conf with a wrong password.
func dbConfig(t *testing.T, srv *mariadbtest.Server, db, how string) string {
	t.Helper()
	user := srv.NewUser(t, "pbxwatch", dbPassword)
	srv.Exec(t, strings.Split(strings.TrimSuffix(freepbxdb.GrantStatement(db, user, "localhost"), ";"), "; ")...)
	dir := t.TempDir()
	switch how {
	case "dsn":
		pw := filepath.Join(dir, "db.pass")
		if err := os.WriteFile(pw, []byte(dbPassword+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("database_dsn: '%s@unix(%s)/%s'\ndatabase_password_file: %s\n", user, srv.Socket, db, pw)
	}
	pass := dbPassword
	if how == "wrong_password" {
		pass = "not-" + dbPassword
	}
	// The installer's single quotes for most settings; the password in
	// double quotes with PHP escapes.
	dq := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`).Replace(pass)
	conf := fmt.Sprintf("<?php\n$amp_conf['AMPDBUSER'] = '%s';\n$amp_conf['AMPDBPASS'] = \"%s\";\n$amp_conf['AMPDBHOST'] = 'localhost';\n$amp_conf['AMPDBNAME'] = '%s';\n$amp_conf['AMPDBENGINE'] = 'mysql';\n$amp_conf['AMPDBSOCK'] = '%s';\n$amp_conf['datasource'] = ''; //for sqlite3\n\nrequire_once('/var/www/html/admin/bootstrap.php');\n?>\n",
		user, dq, db, srv.Socket)
	path := filepath.Join(dir, "freepbx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o640); err != nil {
		t.Fatal(err)
	}
	return "freepbx_conf: " + path + "\n"
}

// oauthKeys makes a key directory as FreePBX leaves it (files 0600, owned
// by the web server user) or broken as state says, and names the web user.
// As root the web user is nobody, so "unreadable" is a real permission
// problem rather than a mode the test cannot enforce.
func oauthKeys(t *testing.T, state string) (dir, webUser string) {
	t.Helper()
	dir = t.TempDir()
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	webUser, uid, gid := me.Username, -1, -1
	if os.Geteuid() == 0 {
		nobody, err := user.Lookup("nobody")
		if err != nil {
			t.Fatal(err)
		}
		webUser = "nobody"
		uid, _ = strconv.Atoi(nobody.Uid)
		gid, _ = strconv.Atoi(nobody.Gid)
	}
	for _, f := range []string{"api_oauth.key", "api_oauth_public.key"} {
		if state == "missing" && f == "api_oauth.key" {
			continue
		}
		p := filepath.Join(dir, f)
		if err := os.WriteFile(p, []byte("-----BEGIN PRIVATE KEY-----\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if uid >= 0 && !(state == "unreadable" && f == "api_oauth.key") {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
		if state == "unreadable" && f == "api_oauth.key" && uid < 0 {
			if err := os.Chmod(p, 0o200); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir, webUser
}

// assertNoLeak fails when text holds any secret in any usual encoding, or
// its first 12 bytes.
func assertNoLeak(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		js, _ := json.Marshal(s)
		forms := map[string]string{
			"raw": s, "prefix": s[:12], "url query": url.QueryEscape(s), "url path": url.PathEscape(s),
			"json": strings.Trim(string(js), `"`), "html": html.EscapeString(s),
			"base64": base64.StdEncoding.EncodeToString([]byte(s)), "base64url": base64.RawURLEncoding.EncodeToString([]byte(s)),
		}
		for form, v := range forms {
			if strings.Contains(text, v) {
				t.Errorf("output reveals a secret (%s form %q):\n%s", form, v, text)
			}
		}
	}
}

// TestDaemonServerSideHidesSecrets: `pbxwatch run` with look-ups that fail
// in the likeliest leaking ways (wrong client secret, wrong database
// password in freepbx.conf, DSN with its password inline) exports the
// look-up's metrics, and neither /metrics, /checks nor its debug log
// carries a secret.
func TestDaemonServerSideHidesSecrets(t *testing.T) {
	base := startDBSim(t)
	srv := mariadbtest.Get(t)
	db := srv.NewDatabase(t, "asterisk")
	keysDir, webUser := oauthKeys(t, "")
	f := fpbx(16, "16.0.13", m2m("16-ok", "gql"))
	f.Settings = map[string]string{"CERTKEYLOC": keysDir, "AMPASTERISKWEBUSER": webUser}
	srv.LoadFreePBX(t, db, f)
	dbSim.mu.Lock()
	dbSim.db, dbSim.rec = db, nil
	dbSim.mu.Unlock()
	user := srv.NewUser(t, "inline", dbPassword)
	srv.Exec(t, strings.Split(strings.TrimSuffix(freepbxdb.GrantStatement(db, user, "localhost"), ";"), "; ")...)
	check := func(name, secret, lookup string) string {
		return fmt.Sprintf("  - name: %s\n    plugin: freepbx\n    timeout: 20s\n    config:\n      url: %s\n      client_id: 16-ok\n      client_secret_file: %s\n%s",
			name, base, writeSecret(t, secret), indent(lookup))
	}
	checks := check("fpbx_secret", wrongSecret, dbConfig(t, srv, db, "")) +
		check("fpbx_dbpass", serverSecret, dbConfig(t, srv, db, "wrong_password")) +
		check("fpbx_dsn", serverSecret, "database_dsn: ${FPBX_DSN}\n")
	e := newAgentEnv(t, checks)
	e.Env = []string{fmt.Sprintf("FPBX_DSN=%s:%s@unix(%s)/%s", user, dbPassword, srv.Socket, db)}
	d := e.Start(agenttest.Options{})
	var statuses []string
	for name, status := range map[string]int{"fpbx_secret": 2, "fpbx_dbpass": 1, "fpbx_dsn": 0} {
		statuses = append(statuses, fmt.Sprintf("pbxwatch_check_status{check=%q,plugin=\"freepbx\"} %d\n", name, status))
	}
	metrics := d.WaitForText("/metrics", statuses...)
	for _, s := range []string{
		`freepbx_api_module_info{check="fpbx_dsn",version="16.0.13"} 1`,
		`freepbx_api_application_live_tokens{application="WHMCS 16-ok",application_id="1",check="fpbx_dsn",grant_type="client_credentials"}`,
		`freepbx_database_up{check="fpbx_dbpass"} 0`,
	} {
		if !strings.Contains(metrics, s) {
			t.Errorf("/metrics lacks %s", s)
		}
	}
	page := d.Get("/checks")
	d.Stop()
	log := d.Logs()
	if !strings.Contains(log, "freepbx API checked") || !strings.Contains(page, "freepbx.secret_mismatch") {
		t.Errorf("the plugins' lines or diagnoses are missing, so the leak check proves nothing:\n%s\n%s", log, page)
	}
	for what, text := range map[string]string{"/metrics": metrics, "/checks": page, "log": log} {
		t.Run(what, func(t *testing.T) { assertNoLeak(t, text, serverSecret, wrongSecret, dbPassword) })
	}
}
