package freepbxdb_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/freepbxdb"
	"github.com/pbxwatch/pbxwatch/internal/testutil/mariadbtest"
)

func TestMain(m *testing.M) { os.Exit(mariadbtest.Main(m)) }

// dbPassword is full of what breaks quoting in PHP, SQL, DSNs and URLs.
const dbPassword = `p'a"s$s\w@o:r/d%40?#&;` + "ü"

// phpSingle writes s as a single-quoted PHP literal.
func phpSingle(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// readOnlyFreePBX loads a FreePBX database and a user holding exactly the
// grants docs/freepbx.md gives, and writes a freepbx.conf for that user.
func readOnlyFreePBX(t *testing.T, version int) (srv *mariadbtest.Server, db, conf string) {
	t.Helper()
	srv = mariadbtest.Get(t)
	db = srv.NewDatabase(t, fmt.Sprintf("asterisk%d", version))
	srv.LoadFreePBX(t, db, mariadbtest.FreePBX{
		Version: version, APIVersion: fmt.Sprintf("%d.0.5", version),
		Settings: map[string]string{"ASTETCDIR": "/etc/asterisk", "FPBX_LOG_FILE": "/var/log/asterisk/freepbx.log"},
		Apps: []mariadbtest.App{
			{Name: "WHMCS provisioning", GrantType: "client_credentials", ClientID: "aa11", Secret: "s1", AllowedScopes: "gql:core gql:framework"},
			{Name: "Softphone", GrantType: "password", ClientID: "bb22", Secret: "s2", Owner: 3},
			{Name: "Portal", GrantType: "implicit", ClientID: "cc33", Algo: "sha1"},
		},
	})
	user := srv.NewUser(t, "pbxwatch", dbPassword)
	srv.Exec(t, strings.Split(strings.TrimSuffix(freepbxdb.GrantStatement(db, user, "localhost"), ";"), "; ")...)
	conf = filepath.Join(t.TempDir(), "freepbx.conf")
	src := fmt.Sprintf("<?php\n$amp_conf['AMPDBUSER'] = %s;\n$amp_conf['AMPDBPASS'] = %s;\n$amp_conf['AMPDBHOST'] = 'localhost';\n$amp_conf['AMPDBNAME'] = %s;\n$amp_conf['AMPDBSOCK'] = %s;\n$amp_conf['AMPDBENGINE'] = 'mysql';\nrequire_once('/var/www/html/admin/bootstrap.php');\n",
		phpSingle(user), phpSingle(dbPassword), phpSingle(db), phpSingle(srv.Socket))
	if err := os.WriteFile(conf, []byte(src), 0o640); err != nil {
		t.Fatal(err)
	}
	return srv, db, conf
}

func TestReadThroughFreePBXConf(t *testing.T) {
	for _, version := range []int{16, 17} {
		t.Run(fmt.Sprint(version), func(t *testing.T) {
			srv, db, conf := readOnlyFreePBX(t, version)
			var seen []string
			d, err := freepbxdb.Source{ConfPath: conf, OnSecret: func(s string) { seen = append(seen, s) }}.Open(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if !slices.Equal(seen, []string{dbPassword}) {
				t.Errorf("OnSecret got %q", seen)
			}
			ctx := context.Background()
			apps, err := d.Applications(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range apps {
				got = append(got, fmt.Sprintf("%d %s %s %s %v owner=%v", a.ID, a.Name, a.GrantType, a.ClientID, a.EffectiveScopes(), a.Owner != nil))
			}
			want := []string{"1 WHMCS provisioning client_credentials aa11 [gql:core gql:framework] owner=false",
				"2 Softphone password bb22 [gql rest] owner=true", "3 Portal implicit cc33 [gql rest] owner=false"}
			if !slices.Equal(got, want) {
				t.Fatalf("applications:\n%s", strings.Join(got, "\n"))
			}
			// The stored hash is SHA2('s1', 256) computed by MariaDB.
			if sum := sha256.Sum256([]byte("s1")); apps[0].SecretHash() != hex.EncodeToString(sum[:]) || apps[0].Algo != "sha256" {
				t.Fatalf("secret hash %q algo %q", apps[0].SecretHash(), apps[0].Algo)
			}
			if a, err := d.ApplicationByClientID(ctx, "bb22"); err != nil || a == nil || a.Name != "Softphone" {
				t.Fatalf("by client id: %+v %v", a, err)
			}
			if a, err := d.ApplicationByClientID(ctx, "nope"); err != nil || a != nil {
				t.Fatalf("unknown client id: %+v %v", a, err)
			}
			m, err := d.Module(ctx, "api")
			if err != nil || !m.Installed || !m.Enabled || m.Version != fmt.Sprintf("%d.0.5", version) {
				t.Fatalf("api module %+v %v", m, err)
			}
			if m, err := d.Module(ctx, "nosuch"); err != nil || m.Installed {
				t.Fatalf("missing module %+v %v", m, err)
			}
			set, err := d.Settings(ctx, "ASTETCDIR", "CERTKEYLOC")
			if err != nil || len(set) != 1 || set["ASTETCDIR"] != "/etc/asterisk" {
				t.Fatalf("settings %v %v", set, err)
			}

			now := time.Now()
			for _, tok := range []struct {
				id, client string
				exp, last  time.Time
			}{
				{"j1", "aa11", now.Add(time.Hour), now.Add(-time.Minute)},
				{"j2", "aa11", now.Add(-time.Hour), now.Add(-2 * time.Hour)},
				{"j3", "bb22", now.Add(-time.Minute), now.Add(-3 * time.Hour)},
			} {
				if err := srv.AddToken(db, tok.client, tok.id, []string{"gql:core"}, tok.exp, tok.last); err != nil {
					t.Fatal(err)
				}
			}
			use, err := d.TokenUseByApplication(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			if u := use[1]; u.Live != 1 || u.LastAccessed.Unix() != now.Add(-time.Minute).Unix() {
				t.Errorf("app 1 use %+v", u)
			}
			if u := use[2]; u.Live != 0 || u.LastAccessed.Unix() != now.Add(-3*time.Hour).Unix() {
				t.Errorf("app 2 use %+v", u)
			}
			tok, err := d.TokenByID(ctx, "j1")
			if err != nil || tok == nil || tok.AID != 1 || !slices.Equal(tok.Scopes, []string{"gql:core"}) {
				t.Fatalf("token %+v %v", tok, err)
			}
			if tok, err := d.TokenByID(ctx, "none"); tok != nil || err != nil {
				t.Fatalf("missing token %+v %v", tok, err)
			}
		})
	}
}

// The documented grants give read access to those tables only: a write or
// another table is refused, and the error names the GRANT to run.
func TestGrantIsReadOnly(t *testing.T) {
	_, db, conf := readOnlyFreePBX(t, 17)
	c, err := freepbxdb.ReadConf(conf)
	if err != nil {
		t.Fatal(err)
	}
	dsn := fmt.Sprintf("%s@unix(%s)/%s", c.User, c.Socket, db)
	d, err := freepbxdb.Source{DSN: dsn, Password: dbPassword}.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Applications(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := d.DBForTest().Exec("UPDATE api_applications SET name = 'x'"); err == nil || !strings.Contains(err.Error(), "UPDATE command denied") {
		t.Fatalf("the read-only user could write: %v", err)
	}
	if _, err := d.DBForTest().Exec("SELECT * FROM api_auth_codes"); err == nil {
		t.Fatal("the read-only user reads a table it does not need")
	}
}

// Errors say what failed without the password, in any of the forms the
// driver could print it.
func TestOpenErrorsHideThePassword(t *testing.T) {
	srv, db, conf := readOnlyFreePBX(t, 16)
	c, _ := freepbxdb.ReadConf(conf)
	for name, src := range map[string]freepbxdb.Source{
		"wrong password":  {DSN: fmt.Sprintf("%s:%s@unix(%s)/%s", c.User, "x"+dbPassword[:5], srv.Socket, db)},
		"wrong user":      {DSN: fmt.Sprintf("nobody@unix(%s)/%s", srv.Socket, db), Password: dbPassword},
		"no socket":       {DSN: fmt.Sprintf("%s@unix(%s)/%s", c.User, filepath.Join(t.TempDir(), "none.sock"), db), Password: dbPassword},
		"bad dsn":         {DSN: c.User + ":" + dbPassword + "@bogus(" + db, Password: dbPassword},
		"unreadable conf": {ConfPath: filepath.Join(t.TempDir(), "missing.conf")},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := src.Open(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			for _, leak := range []string{dbPassword, dbPassword[:8], "x" + dbPassword[:5]} {
				if strings.Contains(err.Error(), leak) {
					t.Fatalf("error reveals the password: %v", err)
				}
			}
			t.Log(err)
		})
	}
}
