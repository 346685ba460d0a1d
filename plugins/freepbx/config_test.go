package freepbx

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// configure runs Configure on a block that sits at line 10 of pbxwatch.yml,
// so errors must come back as pbxwatch.yml:<10+n>.
func configure(t testing.TB, block string) (*checker, error) {
	t.Helper()
	lines := map[int]int{}
	for i := 1; i <= strings.Count(block, "\n")+1; i++ {
		lines[i] = i + 9
	}
	c := &checker{}
	err := c.Configure(context.Background(), sdk.NewConfig("freepbx_api", t.TempDir(), "pbxwatch.yml", []byte(block), lines))
	return c, err
}

func secretFile(t testing.TB, v string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "freepbx.secret")
	if err := os.WriteFile(p, []byte(v+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigDefaults(t *testing.T) {
	c, err := configure(t, "url: https://pbx.example.com/admin/\nclient_id: abc\nclient_secret_file: "+secretFile(t, "s3cret-value")+"\n")
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.cfg
	if cfg.TokenURL != "https://pbx.example.com/admin/api/api/token" || cfg.GraphQLURL != "https://pbx.example.com/admin/api/api/gql" {
		t.Errorf("urls %s %s", cfg.TokenURL, cfg.GraphQLURL)
	}
	if strings.Join(cfg.RequiredScopes, " ") != "gql:core:read" || cfg.ProbeQuery != defaultProbe || cfg.Scopes != nil {
		t.Errorf("defaults: %+v", cfg)
	}
	if cfg.ClientSecret.Reveal() != "s3cret-value" {
		t.Errorf("secret not loaded from file")
	}
}

func TestConfigErrorsNameLineAndFix(t *testing.T) {
	sf := secretFile(t, "s3cret-value")
	cases := []struct {
		name, block string
		want        []string
	}{
		{"not a freepbx scope", "url: http://pbx\nclient_id: a\nclient_secret_file: " + sf + "\nrequired_scopes: [extensions:read]\n",
			[]string{"pbxwatch.yml:13", `"extensions:read" is not a FreePBX scope`, `did you mean "gql:core:read"`}},
		{"scopes too", "url: http://pbx\nclient_id: a\nclient_secret_file: " + sf + "\nscopes:\n  - gql\n  - users.read\n",
			[]string{"pbxwatch.yml:13", "scopes[1]", `"users.read"`}},
		{"unknown key", "url: http://pbx\nclient_id: a\nclient_secret_file: " + sf + "\nclient_secrte: x\n",
			[]string{`pbxwatch.yml:13: unknown key "client_secrte": did you mean "client_secret"?`}},
		{"unknown tls key", "url: https://pbx\nclient_id: a\nclient_secret_file: " + sf + "\ntls:\n  ca: x\n",
			[]string{`pbxwatch.yml:14: unknown key "ca": not a setting here (valid here: ca_file, insecure_skip_verify, server_name`}},
		{"missing everything", "probe_query: ''\n",
			[]string{"url is required", "client_id is required", "client_secret_file is required", "pbxwatch.yml:10: probe_query must be a GraphQL query"}},
		{"both secrets", "url: http://pbx\nclient_id: a\nclient_secret: x\nclient_secret_file: " + sf + "\n",
			[]string{"pbxwatch.yml:12", "both set"}},
		{"unreadable secret file", "url: http://pbx\nclient_id: a\nclient_secret_file: /nonexistent/secret\n",
			[]string{"pbxwatch.yml:12", "client_secret_file", "no such file"}},
		{"bad url", "url: pbx.example.com\nclient_id: a\nclient_secret_file: " + sf + "\n",
			[]string{"pbxwatch.yml:10", "not an http:// or https:// address"}},
		{"credentials in url", "url: http://admin:pw@pbx\nclient_id: a\nclient_secret_file: " + sf + "\n",
			[]string{"carries credentials"}},
		{"tls over http", "url: http://pbx\nclient_id: a\nclient_secret_file: " + sf + "\ntls: {insecure_skip_verify: true}\n",
			[]string{"pbxwatch.yml:13", "tls is set but"}},
		{"expected needs extensionId", "url: http://pbx\nclient_id: a\nclient_secret_file: " + sf + "\nprobe_query: '{ system { version } }'\nexpected_extensions: ['2000', '2000']\n",
			[]string{"pbxwatch.yml:14", "listed twice", "needs a probe_query"}},
		{"wrong type", "url: http://pbx\nclient_id: a\nclient_secret_file: " + sf + "\nscopes: gql\n",
			[]string{"pbxwatch.yml:13", "scopes must be a list"}},
	}
	for _, c := range cases {
		_, err := configure(t, c.block)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error lacks %q:\n%v", c.name, w, err)
			}
		}
		if strings.Contains(err.Error(), "s3cret-value") {
			t.Errorf("%s: error reveals the secret", c.name)
		}
	}
}
