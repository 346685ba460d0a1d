package freepbxdb_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/freepbxdb"
)

// rootWith puts conf at etc/freepbx.conf under a new root.
func rootWith(t *testing.T, conf []byte) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "freepbx.conf"), conf, 0o640); err != nil {
		t.Fatal(err)
	}
	return root
}

// Detect is what `pbxwatch-plugin-freepbx detect` prints for init: the
// facts, and never the password or a secret's hash.
func TestDetectReadsTheFactsInitNeeds(t *testing.T) {
	_, _, conf := readOnlyFreePBX(t, 17)
	src, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	f := freepbxdb.Detect(context.Background(), rootWith(t, src))
	if !f.DatabaseRead || f.DatabaseError != "" || f.ConfError != "" {
		t.Fatalf("facts %+v", f)
	}
	if !f.API.Installed || f.API.Version != "17.0.5" || !f.API.AcceptsAnySecret || !f.Framework.Installed {
		t.Errorf("modules: framework %+v, api %+v", f.Framework, f.API)
	}
	if f.Settings["FPBX_LOG_FILE"] != "/var/log/asterisk/freepbx.log" {
		t.Errorf("settings %v", f.Settings)
	}
	if len(f.Applications) != 3 || f.Applications[0].ClientID != "aa11" || !f.Applications[0].MachineToMachine() ||
		strings.Join(f.Applications[0].Scopes, " ") != "gql:core gql:framework" || strings.Join(f.Applications[2].Scopes, " ") != "gql rest" {
		t.Errorf("applications %+v", f.Applications)
	}
	out, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	s1 := sha256.Sum256([]byte("s1"))
	for _, secret := range []string{dbPassword, dbPassword[:6], hex.EncodeToString(s1[:]), "pbxwatch"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("the facts hold %q (a credential, its hash or the database user):\n%s", secret, out)
		}
	}
	var shape struct {
		Database     map[string]any   `json:"database"`
		Applications []map[string]any `json:"applications"`
	}
	if err := json.Unmarshal(out, &shape); err != nil {
		t.Fatal(err)
	}
	for k := range shape.Database {
		if k != "name" && k != "host" && k != "port" && k != "socket" {
			t.Errorf("the database facts have a key %q", k)
		}
	}
	for _, app := range shape.Applications {
		for k := range app {
			if k != "id" && k != "name" && k != "grant_type" && k != "client_id" && k != "scopes" {
				t.Errorf("an application's facts have a key %q", k)
			}
		}
	}
}

func TestDetectSaysWhyItCouldNotRead(t *testing.T) {
	_, _, conf := readOnlyFreePBX(t, 16)
	src, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.Replace(string(src), "$amp_conf['AMPDBPASS'] = '", "$amp_conf['AMPDBPASS'] = 'x", 1)
	f := freepbxdb.Detect(context.Background(), rootWith(t, []byte(wrong)))
	if f.DatabaseRead || !strings.Contains(f.DatabaseError, "Access denied") || f.Database == nil {
		t.Errorf("wrong password: facts %+v", f)
	}
	out, _ := json.Marshal(f)
	if strings.Contains(string(out), dbPassword[:6]) {
		t.Errorf("the facts hold the password:\n%s", out)
	}

	f = freepbxdb.Detect(context.Background(), t.TempDir())
	if !f.ConfMissing || f.ConfError == "" || f.Database != nil {
		t.Errorf("no freepbx.conf: facts %+v", f)
	}
	f = freepbxdb.Detect(context.Background(), rootWith(t, []byte("<?php\n$amp_conf['AMPDBUSER'] = $user;\n")))
	if f.ConfMissing || !strings.Contains(f.ConfError, "freepbx.conf:2") {
		t.Errorf("unparsable freepbx.conf: facts %+v", f)
	}
}
