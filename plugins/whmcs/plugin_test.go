package whmcs

// Tests of the real plugin binary over the real plugin transport (sdktest):
// one run per diagnosis code, and no secret in any result field or log line.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/plugins/whmcs/whmcssim"
	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

const pluginPkg = "github.com/pbxwatch/pbxwatch/plugins/whmcs"

// credFiles writes identifier, secret and access key files as an operator
// would install them and returns the config lines naming them.
func credFiles(t *testing.T, identifier, secret, accessKey string) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	for _, f := range []struct{ key, value string }{{"identifier_file", identifier}, {"secret_file", secret}, {"access_key_file", accessKey}} {
		if f.value == "" {
			continue
		}
		p := filepath.Join(dir, f.key)
		if err := os.WriteFile(p, []byte(f.value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s: %s\n", f.key, p)
	}
	return b.String()
}

// diagCase is one scenario per diagnosis code: the plugin config (YAML, top
// level keys) that provokes it and the outcome expected of it. The sdktest
// and the `pbxwatch check` tests share these cases.
type diagCase struct {
	name, code string
	status     sdk.Status
	config     string
	secrets    []string // must appear nowhere, beside the default credentials
}

// leaks are the values that must appear in no output of case c.
func (c diagCase) leaks() []string {
	return append([]string{whmcssim.DefaultSecret, whmcssim.DefaultAccessKey, whmcssim.DefaultIdentifier}, c.secrets...)
}

// diagCases builds the cases against the shared simulator, a TLS simulator
// whose certificate expires in 5 days and a closed port.
func diagCases(t *testing.T) []diagCase {
	t.Helper()
	tlsURL, ca := tlsSim(t, time.Now().Add(5*24*time.Hour))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + l.Addr().String() + "/"
	l.Close()

	const wrongSecret, wrongKey = "not-the-right-secret-42", "not-the-right-key-42"
	good := credFiles(t, whmcssim.DefaultIdentifier, whmcssim.DefaultSecret, whmcssim.DefaultAccessKey)
	return []diagCase{
		{"ok", "", sdk.StatusOK, "url: " + sim.url + "/\noidc: true\n" + good, nil},
		{"invalid_ip", "whmcs.invalid_ip", sdk.StatusCritical, "url: " + sim.url + "/invalid_ip/\n" + credFiles(t, whmcssim.DefaultIdentifier, whmcssim.DefaultSecret, wrongKey), []string{wrongKey}},
		{"auth_failed", "whmcs.auth_failed", sdk.StatusCritical, "url: " + sim.url + "/\n" + credFiles(t, whmcssim.DefaultIdentifier, wrongSecret, whmcssim.DefaultAccessKey), []string{wrongSecret}},
		{"invalid_credentials", "whmcs.invalid_credentials", sdk.StatusCritical, "url: " + sim.url + "/\n" + credFiles(t, "unknownIdentifier0123456789", whmcssim.DefaultSecret, whmcssim.DefaultAccessKey), []string{"unknownIdentifier0123456789"}},
		{"permission_denied", "whmcs.permission_denied", sdk.StatusWarning, "url: " + sim.url + "/restricted/\n" + good, nil},
		{"invalid_action", "whmcs.invalid_action", sdk.StatusWarning, "url: " + sim.url + "/\nrequired_actions: [GetSystemStats]\n" + good, nil},
		{"edge_blocked", "whmcs.edge_blocked", sdk.StatusCritical, "url: " + sim.url + "/cloudflare_block/\n" + good, nil},
		{"wrong_endpoint", "whmcs.wrong_endpoint", sdk.StatusCritical, "url: " + sim.url + "/maintenance/\n" + good, nil},
		{"redirected", "whmcs.redirected", sdk.StatusCritical, "url: " + sim.url + "/redirect_https/\n" + good, nil},
		{"unreachable", "whmcs.unreachable", sdk.StatusCritical, "url: " + deadURL + "\n" + good, nil},
		{"timeout", "whmcs.timeout", sdk.StatusCritical, "url: " + sim.url + "/slow/\nrequest_timeout: 300ms\n" + good, nil},
		{"tls_error", "whmcs.tls_error", sdk.StatusCritical, "url: " + tlsURL + "/\n" + good, nil},
		{"tls_expiring", "whmcs.tls_expiring", sdk.StatusWarning, "url: " + tlsURL + "/\ntls: {ca_file: " + ca + "}\n" + good, nil},
		{"server_error", "whmcs.server_error", sdk.StatusCritical, "url: " + sim.url + "/server_error/\n" + good, nil},
		{"unexpected_response", "whmcs.unexpected_response", sdk.StatusCritical, "url: " + sim.url + "/unexpected/\n" + good, nil},
		{"oidc_discovery_failed", "whmcs.oidc_discovery_failed", sdk.StatusCritical, "url: " + sim.url + "/oidc_missing/\noidc: true\n" + good, nil},
		{"oidc_keys_invalid", "whmcs.oidc_keys_invalid", sdk.StatusCritical, "url: " + sim.url + "/oidc_no_keys/\noidc: true\n" + good, nil},
	}
}

func TestPluginBinaryEveryDiagnosis(t *testing.T) {
	bin := sdktest.Build(t, pluginPkg)
	for _, c := range diagCases(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p, err := sdktest.Start(t, bin, sdktest.Options{Config: c.config, CheckName: "whmcs_auth"})
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			res := p.Check(context.Background())
			if res.Status != c.status {
				t.Fatalf("status %s, want %s: %q %+v", res.Status, c.status, res.Summary, res.Diagnoses)
			}
			if c.code == "" && len(res.Diagnoses) != 0 || c.code != "" && (len(res.Diagnoses) == 0 || res.Diagnoses[0].Code != c.code) {
				t.Fatalf("diagnoses %+v, want %q first", res.Diagnoses, c.code)
			}
			if c.code != "" && (res.Diagnoses[0].Message == "" || len(res.Diagnoses[0].Remediation) == 0 || len(res.Diagnoses[0].Details) == 0) {
				t.Fatalf("diagnosis without message, remediation or details: %+v", res.Diagnoses[0])
			}
			p.Close() // flush its stderr
			leaks := c.leaks()
			assertAbsent(t, "result", resultText(t, res), leaks)
			assertAbsent(t, "plugin log", p.Logs(), leaks)
			if strings.HasPrefix(c.config, "url: http://") && !strings.Contains(p.Logs(), "plain http") {
				t.Errorf("the plugin's warning did not reach its log, so the log check proves nothing: %q", p.Logs())
			}

			// The same through the agent: `pbxwatch check` prints the
			// code, exits with the status, and leaks nothing, logs included.
			run := agentCheck(t, c.config)
			var out struct {
				Status    string `json:"status"`
				Diagnoses []struct {
					Code string `json:"code"`
				} `json:"diagnoses"`
			}
			if err := json.Unmarshal([]byte(run.Stdout), &out); err != nil {
				t.Fatalf("pbxwatch check: not JSON: %v\n%s\n%s", err, run.Stdout, run.Stderr)
			}
			if run.Exit != int(c.status) || out.Status != c.status.String() {
				t.Fatalf("pbxwatch check: exit %d status %s, want %s\n%s", run.Exit, out.Status, c.status, run.Stderr)
			}
			if c.code == "" && len(out.Diagnoses) != 0 || c.code != "" && (len(out.Diagnoses) == 0 || out.Diagnoses[0].Code != c.code) {
				t.Fatalf("pbxwatch check: diagnoses %+v, want %q first", out.Diagnoses, c.code)
			}
			assertAbsent(t, "pbxwatch check stdout", run.Stdout, leaks)
			assertAbsent(t, "pbxwatch check stderr", run.Stderr, leaks)
			if strings.HasPrefix(c.config, "url: http://") && !strings.Contains(run.Stderr, "plain http") {
				t.Errorf("the plugin's log did not reach the agent's stderr, so the leak check proves nothing: %q", run.Stderr)
			}
		})
	}
}

func TestPluginBinaryRejectsBadConfigWithLine(t *testing.T) {
	bin := sdktest.Build(t, pluginPkg)
	_, err := sdktest.Start(t, bin, sdktest.Options{Config: "url: " + sim.url + "/\nsecret: " + whmcssim.DefaultSecret + "\nidentifier: x1234567\nrequired_actions: [GetClients, DeleteClient]\n"})
	if !sdktest.IsConfigError(err) {
		t.Fatalf("want a config error, got %v", err)
	}
	mustContain(t, "error", err.Error(), "config:4", "DeleteClient is refused", "e.g. GetClients")
	assertAbsent(t, "config error", err.Error(), []string{whmcssim.DefaultSecret})
}

func resultText(t *testing.T, res *sdk.Result) string {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + fmt.Sprintf("%#v", *res)
}

func assertAbsent(t *testing.T, what, text string, values []string) {
	t.Helper()
	for _, v := range values {
		if strings.Contains(text, v) {
			t.Errorf("%s contains %q:\n%s", what, v, text)
		}
	}
}
