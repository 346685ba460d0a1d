package accesslog

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil/mariadbtest"
	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

func TestMain(m *testing.M) { os.Exit(mariadbtest.Main(m)) }

// TestApplicationNamedFromFreePBXDatabase: clients whose authorize calls
// (the one API request whose URL carries client_id) began failing are
// named by their api application, read from a real MariaDB holding
// FreePBX 17's api tables. A client id no application has says so; a
// wrong database password is a look-up failure in the details, never the
// password.
func TestApplicationNamedFromFreePBXDatabase(t *testing.T) {
	srv := mariadbtest.Get(t)
	db := srv.NewDatabase(t, "accesslog")
	srv.LoadFreePBX(t, db, mariadbtest.FreePBX{Version: 17, APIVersion: "17.0.5", Apps: []mariadbtest.App{
		{Name: "WHMCS provisioning", GrantType: "authorization_code", ClientID: "9f86d081884c7d659a2feaa0c55ad015", Secret: "app-secret"},
	}})
	password := `p@ss:w/o"rd'%\&x`
	user := srv.NewUser(t, "pbxwatch", password)
	srv.Exec(t, fmt.Sprintf("GRANT SELECT ON `%s`.* TO '%s'@'localhost'", db, user))
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "db.password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	clk := &clock{time.Now()}
	w := &logWriter{t: t, path: filepath.Join(dir, "access.log"), clk: clk}
	authorize := func(id string) string {
		return "/admin/api/api/authorize?response_type=code&client_id=" + id + "&state=xyz"
	}
	w.req("192.0.2.30", "GET", authorize("9f86d081884c7d659a2feaa0c55ad015"), 200, 1)
	w.req("192.0.2.30", "GET", authorize("9f86d081884c7d659a2feaa0c55ad015"), 403, 2)
	w.req("192.0.2.31", "GET", authorize("0000deadbeef"), 200, 1)
	w.req("192.0.2.31", "GET", authorize("0000deadbeef"), 401, 1)

	run := func(pwPath string) (*sdk.Result, string) {
		cfg := fmt.Sprintf("path: %s\nstart_at: beginning\ndatabase_dsn: '%s@unix(%s)/%s'\ndatabase_password_file: %s\n", w.path, user, srv.Socket, db, pwPath)
		c := mustChecker(t, cfg, t.TempDir(), clk)
		res := runCheck(t, c)
		b, _ := json.Marshal(res)
		return res, string(b)
	}
	res, js := run(pwFile)
	byClient := map[string]map[string]string{}
	for _, d := range sdktest.Diagnoses(res, "accesslog.api_failing") {
		byClient[d.Details["client"]] = d.Details
	}
	if d := byClient["192.0.2.30"]; d["application"] != "WHMCS provisioning" || d["client_id"] != "9f86d081884c7d659a2feaa0c55ad015" || d["endpoints"] != "ajax" {
		t.Fatalf("192.0.2.30: %v", d)
	}
	if d := byClient["192.0.2.31"]; !strings.HasPrefix(d["application"], "(none") {
		t.Fatalf("unknown client id: %v", d)
	}
	if strings.Contains(js, "p@ss") {
		t.Fatalf("password in result: %s", js)
	}

	bad := filepath.Join(dir, "wrong.password")
	os.WriteFile(bad, []byte("Wr0ng-"+password), 0o600)
	res, js = run(bad)
	if n := len(sdktest.Diagnoses(res, "accesslog.api_failing")); n != 2 {
		t.Fatalf("%d api_failing diagnoses with the look-up failing, want 2: %+v", n, res.Diagnoses)
	}
	for _, d := range sdktest.Diagnoses(res, "accesslog.api_failing") {
		if d.Details["application"] != "" || !strings.Contains(d.Details["application_lookup"], "failed: cannot connect") {
			t.Fatalf("wrong password: %v", d.Details)
		}
	}
	if strings.Contains(js, "p@ss") || strings.Contains(js, "Wr0ng") {
		t.Fatalf("password in result: %s", js)
	}
}

func TestLookupConfigErrors(t *testing.T) {
	_, err := newChecker(t, "path: /x\nfreepbx_conf: etc/freepbx.conf\ndatabase_dsn: u@unix(/s)/a\n", t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), "pbxwatch.yml:12: freepbx_conf must be an absolute path") || !strings.Contains(err.Error(), "pbxwatch.yml:13: freepbx_conf and database_dsn are both set") {
		t.Fatalf("%v", err)
	}
}
