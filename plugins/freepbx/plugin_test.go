package freepbx_test

// These tests run the real plugin binary over the agent's transport
// (sdk/sdktest) against the simulator: one case per diagnosis, alternating
// FreePBX 16 and 17, each asserting the client secret shows up nowhere in
// the result or the plugin's log.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/plugins/freepbx/freepbxsim"
	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

const (
	pluginPkg = "github.com/pbxwatch/pbxwatch/plugins/freepbx"
	// e2eSecret is long and unusual so any leak is unambiguous.
	e2eSecret = "e2e-secret-5d41402abc4b2a76b9719d911017c592"
)

var (
	simOnce sync.Once
	simBase string
)

func sim(t *testing.T) string {
	t.Helper()
	simOnce.Do(func() {
		// Not closed: it serves every test of this package's process.
		srv := httptest.NewServer(freepbxsim.New(freepbxsim.Options{Secret: e2eSecret, SlowDelay: 5 * time.Second}))
		simBase = srv.URL
	})
	return simBase
}

func writeSecret(t *testing.T, v string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "freepbx.secret")
	if err := os.WriteFile(p, []byte(v+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type pluginCase struct {
	name, clientID, extra, secret string
	status                        sdk.Status
	code                          string
	timeout                       time.Duration
}

func pluginCases(t *testing.T) []pluginCase {
	base := sim(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	return []pluginCase{
		{name: "ok", clientID: "16-ok", status: sdk.StatusOK},
		{name: "invalid_client", clientID: "17-ok", secret: "wrong-secret-value", status: sdk.StatusCritical, code: "freepbx.invalid_client"},
		{name: "invalid_client app type", clientID: "16-wrong_app_type", status: sdk.StatusCritical, code: "freepbx.invalid_client"},
		{name: "unsupported_grant_type", clientID: "16-no_cc_grant", status: sdk.StatusCritical, code: "freepbx.unsupported_grant_type"},
		{name: "invalid_scope", clientID: "17-ok", extra: "scopes: [gql:voicemail]\n", status: sdk.StatusCritical, code: "freepbx.invalid_scope"},
		{name: "missing_scope", clientID: "16-extension_scope_only", status: sdk.StatusCritical, code: "freepbx.missing_scope"},
		{name: "query_not_permitted", clientID: "17-core_disabled", status: sdk.StatusCritical, code: "freepbx.query_not_permitted"},
		{name: "token_rejected", clientID: "17-revoked", status: sdk.StatusCritical, code: "freepbx.token_rejected"},
		{name: "token_rejected 16", clientID: "16-key_changed", status: sdk.StatusCritical, code: "freepbx.token_rejected"},
		{name: "ajax_declined", clientID: "16-ok", extra: "graphql_url: " + base + "/admin/api/api/resource\n", status: sdk.StatusCritical, code: "freepbx.ajax_declined"},
		{name: "referrer_declined", clientID: "17-ok", extra: "graphql_url: " + base + "/admin/ajax.php?module=api&command=getApplications\n", status: sdk.StatusCritical, code: "freepbx.referrer_declined"},
		{name: "not_authenticated", clientID: "16-checkreferer_off", extra: "graphql_url: " + base + "/admin/api/api/getTokens\n", status: sdk.StatusCritical, code: "freepbx.not_authenticated"},
		{name: "api_module_missing", clientID: "17-no_api_module", status: sdk.StatusCritical, code: "freepbx.api_module_missing"},
		{name: "extension_missing", clientID: "17-ok", extra: "expected_extensions: ['2001', '2099']\n", status: sdk.StatusWarning, code: "freepbx.extension_missing"},
		{name: "unreachable", clientID: "17-ok", extra: "token_url: http://" + closed + "/admin/api/api/token\n", status: sdk.StatusCritical, code: "freepbx.unreachable"},
		{name: "timeout", clientID: "16-slow", status: sdk.StatusCritical, code: "freepbx.timeout", timeout: 1500 * time.Millisecond},
		{name: "tls_error", clientID: "17-ok", extra: "token_url: " + strings.Replace(base, "http:", "https:", 1) + "/admin/api/api/token\ntls: {insecure_skip_verify: false}\n", status: sdk.StatusCritical, code: "freepbx.tls_error"},
		{name: "server_error echoing the secret", clientID: "17-debug_page", status: sdk.StatusCritical, code: "freepbx.server_error"},
		{name: "unexpected_response", clientID: "16-sso_login", status: sdk.StatusCritical, code: "freepbx.unexpected_response"},
		{name: "api_routing_broken", clientID: "17-rewrite_off", status: sdk.StatusCritical, code: "freepbx.api_routing_broken"},
	}
}

func TestPluginDiagnosesThroughTransport(t *testing.T) {
	bin := sdktest.Build(t, pluginPkg)
	for _, c := range pluginCases(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			secret := c.secret
			if secret == "" {
				secret = e2eSecret
			}
			cfg := fmt.Sprintf("url: %s\nclient_id: %s\nclient_secret_file: %s\n%s", sim(t), c.clientID, writeSecret(t, secret), c.extra)
			p, err := sdktest.Start(t, bin, sdktest.Options{Config: cfg, Timeout: c.timeout})
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			res := p.Check(context.Background())
			var got []string
			for _, d := range res.Diagnoses {
				got = append(got, d.Code)
			}
			if res.Status != c.status || strings.Join(got, ",") != c.code {
				t.Fatalf("status %s codes %v, want %s %q\n%s", res.Status, got, c.status, c.code, res.Summary)
			}
			logs := waitLogs(p, "freepbx API checked")
			b, _ := json.Marshal(res)
			for _, s := range []string{e2eSecret, secret} {
				if strings.Contains(string(b), s) {
					t.Errorf("result reveals the secret: %s", b)
				}
				if strings.Contains(logs, s) {
					t.Errorf("plugin log reveals the secret:\n%s", logs)
				}
			}
			if !strings.Contains(logs, "freepbx API checked") || !strings.Contains(logs, c.clientID) {
				t.Errorf("plugin log lacks the run record:\n%s", logs)
			}
		})
	}
}

// waitLogs waits for the plugin's stderr, relayed asynchronously, to
// carry want.
func waitLogs(p *sdktest.Plugin, want string) string {
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.Logs(), want) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return p.Logs()
}

func TestPluginInlineSecretAndConfigErrors(t *testing.T) {
	bin := sdktest.Build(t, pluginPkg)
	p, err := sdktest.Start(t, bin, sdktest.Options{Config: fmt.Sprintf("url: %s\nclient_id: 17-ok\nclient_secret: %s\n", sim(t), e2eSecret)})
	if err != nil {
		t.Fatal(err)
	}
	if res := p.Check(context.Background()); res.Status != sdk.StatusOK {
		t.Fatalf("inline secret: %s", res.Summary)
	}
	_, err = sdktest.Start(t, bin, sdktest.Options{Config: fmt.Sprintf("url: %s\nclient_id: 17-ok\nclient_secret: %s\nrequired_scopes: [extensions:read]\n", sim(t), e2eSecret)})
	if !sdktest.IsConfigError(err) || !strings.Contains(err.Error(), `did you mean "gql:core:read"`) || !strings.Contains(err.Error(), "config:4") {
		t.Fatalf("want a config error naming line 4 and gql:core:read, got %v", err)
	}
	if strings.Contains(err.Error(), e2eSecret) {
		t.Errorf("config error reveals the secret: %v", err)
	}
}
