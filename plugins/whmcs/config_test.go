package whmcs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/plugins/whmcs/whmcssim"
)

func TestConfigDefaultsAndURLForms(t *testing.T) {
	for in, want := range map[string]string{
		"https://billing.example.com":                 "https://billing.example.com/includes/api.php",
		"https://billing.example.com/":                "https://billing.example.com/includes/api.php",
		"https://example.com/whmcs/includes/api.php":  "https://example.com/whmcs/includes/api.php",
		"https://example.com/whmcs/includes/api.php/": "https://example.com/whmcs/includes/api.php",
		"http://127.0.0.1:9861/invalid_ip/":           "http://127.0.0.1:9861/invalid_ip/includes/api.php",
	} {
		c, err := configure(t, "url: "+in+"\nidentifier: id-123456789012\nsecret: s3cret-value\n")
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := c.cfg.endpoint.String(); got != want {
			t.Errorf("%s: endpoint %s, want %s", in, got, want)
		}
		if strings.Join(c.cfg.RequiredActions, ",") != "GetClients,GetClientsProducts,GetProducts" || c.cfg.CertExpiryWarning.Hours() != 336 {
			t.Errorf("defaults: %+v", c.cfg)
		}
	}
}

func TestConfigFromFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, v string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c, err := configure(t, "url: https://b.example.com/\nidentifier_file: "+write("id", whmcssim.DefaultIdentifier)+
		"\nsecret_file: "+write("secret", whmcssim.DefaultSecret)+"\naccess_key_file: "+write("key", whmcssim.DefaultAccessKey)+
		"\nrequired_actions: [getclients, GetStats]\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.Secret.Reveal() != whmcssim.DefaultSecret || c.cfg.AccessKey.Reveal() != whmcssim.DefaultAccessKey {
		t.Fatal("secrets not loaded from files")
	}
	if strings.Join(c.cfg.RequiredActions, ",") != "GetClients,GetStats" {
		t.Fatalf("actions not canonicalised: %v", c.cfg.RequiredActions)
	}
}

func TestConfigErrorsNameLineAndFix(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"nothing set", "oidc: true\n", []string{"url is required", "identifier is missing: set identifier_file", "secret is missing"}},
		{"unknown key", "url: https://b.example.com/\nidentifer: x\n", []string{"pbxwatch.yml:2", "identifer"}},
		{"write actions", "url: https://b.example.com/\nidentifier: abcdefgh\nsecret: abcdefgh\nrequired_actions: [GetClients, AddClient, ModuleCreate, UpdateClientProduct, AcceptOrder]\n", []string{
			"pbxwatch.yml:4: required_actions: AddClient is refused: it changes WHMCS",
			"CreateQuote creates a quote for a client that does not exist", "AddClient", "e.g. GetClients", "ModuleCreate is refused", "GetClientsProducts (module commands act on services)",
			"UpdateClientProduct is refused", "AcceptOrder is refused", "e.g. GetOrders",
		}},
		{"secret-returning", "url: https://b.example.com/\nidentifier: abcdefgh\nsecret: abcdefgh\nrequired_actions: [ListOAuthCredentials]\n", []string{"ListOAuthCredentials is refused: it returns every OAuth", "oidc: true"}},
		{"unknown non-read", "url: https://b.example.com/\nidentifier: abcdefgh\nsecret: abcdefgh\nrequired_actions: [FetchClients]\n", []string{"FetchClients is not a known read-only WHMCS action"}},
		{"bad url", "url: ftp://b.example.com/\nidentifier: abcdefgh\nsecret: abcdefgh\n", []string{"pbxwatch.yml:1: url:", "want an http:// or https:// URL"}},
		{"credentials in url", "url: https://u:p@b.example.com/\nidentifier: abcdefgh\nsecret: abcdefgh\n", []string{"must not carry a user or password"}},
		{"both secret forms", "url: https://b.example.com/\nidentifier: abcdefgh\nsecret: abcdefgh\nsecret_file: /x\n", []string{"secret and secret_file are both set"}},
		{"bad access key", "url: https://b.example.com/\nidentifier: abcdefgh\nsecret: abcdefgh\naccess_key: \"has space\"\n", []string{"pbxwatch.yml:4: access_key", "does not allow"}},
		{"missing ca", "url: https://b.example.com/\nidentifier: abcdefgh\nsecret: abcdefgh\ntls: {ca_file: /nonexistent/ca.pem}\n", []string{"pbxwatch.yml:4: tls: ca_file"}},
		{"bad durations", "url: https://b.example.com/\nidentifier: abcdefgh\nsecret: abcdefgh\ncert_expiry_warning: -1h\nrequest_timeout: 0s\n", []string{"pbxwatch.yml:4: cert_expiry_warning", "pbxwatch.yml:5: request_timeout"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := configure(t, c.yaml)
			if err == nil {
				t.Fatal("accepted")
			}
			mustContain(t, "error", err.Error(), c.want...)
		})
	}
}

func TestActionSuggestions(t *testing.T) {
	for in, want := range map[string]string{"GetSystemStats": "GetStats", "GetClient": "GetClientsDetails", "GetClientProducts": "GetClientsProducts", "GetInvoces": "GetInvoices"} {
		if got := suggest(in); got != want {
			t.Errorf("suggest(%s) = %s, want %s", in, got, want)
		}
	}
}
