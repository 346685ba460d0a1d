package freepbx

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
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

// testSecret is the simulated applications' client secret; every test
// checks it never shows up in what the check returns.
const testSecret = "pbxwatch-test-secret-9f8e7d6c5b4a"

var (
	simOnce sync.Once
	simSrv  *httptest.Server
)

// simURL serves one simulator for the whole package: scenarios are picked by
// client_id.
func simURL(t testing.TB) string {
	t.Helper()
	simOnce.Do(func() {
		simSrv = httptest.NewServer(freepbxsim.New(freepbxsim.Options{Secret: testSecret, SlowDelay: 3 * time.Second}))
	})
	return simSrv.URL
}

// checkWith configures the plugin core with block and runs it once.
func checkWith(t *testing.T, block string, timeout time.Duration) *sdk.Result {
	t.Helper()
	c, err := configure(t, block)
	if err != nil {
		t.Fatalf("configure: %v\n%s", err, block)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// run, not Check: Check also logs to stderr, which the sdktest tests
	// cover through the real transport.
	res := run(ctx, &c.cfg, c.client, c.rec)
	assertNoSecret(t, res)
	return res
}

func assertNoSecret(t *testing.T, res *sdk.Result) {
	t.Helper()
	b, _ := json.Marshal(res)
	if strings.Contains(string(b), testSecret) || strings.Contains(fmt.Sprintf("%+v", res), testSecret) {
		t.Fatalf("result reveals the client secret: %s", b)
	}
}

type scenarioCase struct {
	name     string
	clientID string // without the version prefix
	extra    string // more config lines
	secret   string // default testSecret
	status   sdk.Status
	code     string // comma-joined diagnosis codes; "" for none
	details  map[string]string
	steps    string // a phrase the remediation must contain
}

// block writes the check config for scenario c against version v.
func (c scenarioCase) block(t testing.TB, v int) string {
	secret := c.secret
	if secret == "" {
		secret = testSecret
	}
	return fmt.Sprintf("url: %s\nclient_id: %d-%s\nclient_secret_file: %s\n%s", simURL(t), v, c.clientID, secretFile(t, secret), c.extra)
}

func runCases(t *testing.T, v int, cases []scenarioCase) {
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d/%s", v, c.name), func(t *testing.T) {
			res := checkWith(t, c.block(t, v), 5*time.Second)
			if res.Status != c.status || sdktest.Codes(res) != c.code {
				t.Fatalf("status %s codes %q, want %s %q\nsummary: %s\n%+v", res.Status, sdktest.Codes(res), c.status, c.code, res.Summary, res.Diagnoses)
			}
			if c.code == "" {
				return
			}
			d := res.Diagnoses[0]
			for k, want := range c.details {
				if !strings.Contains(d.Details[k], want) {
					t.Errorf("details[%s] = %q, want it to contain %q", k, d.Details[k], want)
				}
			}
			if c.steps != "" && !strings.Contains(strings.Join(d.Remediation, "\n"), c.steps) {
				t.Errorf("remediation lacks %q:\n%s", c.steps, strings.Join(d.Remediation, "\n"))
			}
			if d.Message == "" || len(d.Remediation) == 0 {
				t.Errorf("diagnosis without message or remediation: %+v", d)
			}
			if up, _ := sdktest.Metric(res, "freepbx_api_up", nil); up != 0 && d.Code != codeExtensionMissing && d.Code != codeMissingScope {
				t.Errorf("freepbx_api_up = %v with %s", up, d.Code)
			}
		})
	}
}

// Rows that behave the same on FreePBX 16 and 17 (bodies differ, diagnosis
// does not).
var commonCases = []scenarioCase{
	{name: "ok", clientID: "ok", status: sdk.StatusOK},
	{name: "narrow app is enough", clientID: "core_read", status: sdk.StatusOK},
	{name: "wrong secret", clientID: "ok", secret: "not-the-secret", status: sdk.StatusCritical, code: codeInvalidClient,
		details: map[string]string{"http_status": "401", "error": "invalid_client"}, steps: "shows it once"},
	{name: "unknown client", clientID: "nosuchapp", status: sdk.StatusCritical, code: codeInvalidClient,
		steps: "Connectivity → API → Applications"},
	{name: "unsupported grant", clientID: "no_cc_grant", status: sdk.StatusCritical, code: codeUnsupportedGrant,
		details: map[string]string{"http_status": "400"}},
	{name: "unknown scope", clientID: "ok", extra: "scopes: [gql:voicemail]\n", status: sdk.StatusCritical, code: codeInvalidScope,
		details: map[string]string{"scope": "gql:voicemail"}, steps: "add gql:voicemail to its Allowed Scopes"},
	{name: "app lacks core scope", clientID: "framework_only", status: sdk.StatusCritical, code: codeMissingScope,
		details: map[string]string{"missing_scopes": "gql:core:read", "granted_scopes": "gql:framework", "probe_error": `Cannot query field "fetchAllExtensions"`},
		steps:   "add gql:core:read to its Allowed Scopes"},
	{name: "extension scope is not enough", clientID: "extension_scope_only", status: sdk.StatusCritical, code: codeMissingScope,
		details: map[string]string{"missing_scopes": "gql:core:read"}, steps: "gql:core:read:extension is narrower than gql:core:read"},
	{name: "required scope beyond probe", clientID: "core_read", extra: "required_scopes: [gql:core:read, gql:framework:read]\n",
		status: sdk.StatusCritical, code: codeMissingScope, details: map[string]string{"missing_scopes": "gql:framework:read"}},
	{name: "core module disabled", clientID: "core_disabled", status: sdk.StatusCritical, code: codeQueryNotPermitted,
		details: map[string]string{"fields": "fetchAllExtensions"}, steps: "the core module is disabled"},
	{name: "revoked token", clientID: "revoked", status: sdk.StatusCritical, code: codeTokenRejected, steps: "revoked"},
	{name: "regenerated key", clientID: "key_changed", status: sdk.StatusCritical, code: codeTokenRejected, steps: "could not be verified"},
	{name: "resource path", clientID: "ok", extra: "graphql_url: " + "{{base}}/admin/api/api/resource\n", status: sdk.StatusCritical,
		code: codeAjaxDeclined, details: map[string]string{"http_status": "403"}, steps: "/admin/api/api/resource"},
	{name: "token at wrong command", clientID: "ok", extra: "token_url: {{base}}/admin/api/api/graphql\n", status: sdk.StatusCritical,
		code: codeAjaxDeclined, details: map[string]string{"url": "/admin/api/api/graphql"}},
	{name: "gui command needs referer", clientID: "ok", extra: "graphql_url: {{base}}/admin/ajax.php?module=api&command=getApplications\n",
		status: sdk.StatusCritical, code: codeReferrerDeclined, details: map[string]string{"http_status": "403"}},
	{name: "gui command needs session", clientID: "checkreferer_off", extra: "graphql_url: {{base}}/admin/api/api/getTokens\n",
		status: sdk.StatusCritical, code: codeNotAuthenticated, details: map[string]string{"http_status": "401"}},
	{name: "api module missing", clientID: "no_api_module", status: sdk.StatusCritical, code: codeAPIModuleMissing,
		details: map[string]string{"http_status": "500", "exception": "Attempted to load Api"}, steps: "fwconsole ma downloadinstall api"},
	{name: "rewrite off", clientID: "rewrite_off", status: sdk.StatusCritical, code: codeAPIRoutingBroken,
		details: map[string]string{"http_status": "404", "page_title": "404 Not Found", "ajax_url": "/admin/ajax.php?module=api&command=token"}, steps: "AllowOverride All"},
	{name: "rewrite off with MultiViews", clientID: "multiviews", status: sdk.StatusCritical, code: codeAPIRoutingBroken,
		details: map[string]string{"http_status": "403", "body": "ajaxRequest declined"}, steps: "a2enmod rewrite"},
	{name: "not FreePBX", clientID: "not_freepbx", status: sdk.StatusCritical, code: codeNotFreePBX,
		details: map[string]string{"http_status": "404", "ajax_http_status": "404"}, steps: "without /admin"},
	{name: "sso login page", clientID: "sso_login", status: sdk.StatusCritical, code: codeUnexpectedResponse,
		details: map[string]string{"http_status": "200", "page_title": "Sign in"}},
	{name: "unreadable key", clientID: "broken_key", status: sdk.StatusCritical, code: codeServerError,
		details: map[string]string{"http_status": "500", "body": "api_oauth.key"}},
	{name: "debug page echoes the secret", clientID: "debug_page", status: sdk.StatusCritical, code: codeServerError,
		details: map[string]string{"http_status": "500", "body": "client_secret <secret>"}},
	{name: "FreePBX login page", clientID: "html_login", status: sdk.StatusCritical, code: codeAPIRoutingBroken,
		details: map[string]string{"http_status": "200", "page_title": "FreePBX Administration"}, steps: "reverse proxy"},
	{name: "extension missing", clientID: "ok", extra: "expected_extensions: ['2000', '2005']\n", status: sdk.StatusWarning,
		code: codeExtensionMissing, details: map[string]string{"missing": "2005"}},
	{name: "no extensions at all", clientID: "no_extensions", extra: "expected_extensions: ['2000']\n", status: sdk.StatusWarning,
		code: codeExtensionMissing, details: map[string]string{"missing": "2000"}},
}

func expand(t *testing.T, cases []scenarioCase) []scenarioCase {
	out := make([]scenarioCase, len(cases))
	for i, c := range cases {
		c.extra = strings.ReplaceAll(c.extra, "{{base}}", simURL(t))
		out[i] = c
	}
	return out
}

func TestDiagnosesFreePBX16(t *testing.T) {
	runCases(t, 16, expand(t, commonCases))
	runCases(t, 16, []scenarioCase{
		{name: "web-server app type", clientID: "wrong_app_type", status: sdk.StatusCritical, code: codeInvalidClient,
			details: map[string]string{"server": "FreePBX 16"}, steps: "FreePBX 16 refuses any other type"},
		{name: "scope outside allowed", clientID: "framework_only", extra: "scopes: [gql]\n", status: sdk.StatusCritical,
			code: codeInvalidScope, details: map[string]string{"scope": "gql", "hint": "Check the `gql` scope"}},
	})
}

func TestDiagnosesFreePBX17(t *testing.T) {
	runCases(t, 17, expand(t, commonCases))
	runCases(t, 17, []scenarioCase{
		// 17 checks neither the application's type nor its allowed scopes.
		{name: "web-server app type", clientID: "wrong_app_type", status: sdk.StatusOK},
		{name: "scope outside allowed", clientID: "framework_only", extra: "scopes: [gql]\n", status: sdk.StatusOK},
		{name: "unknown client", clientID: "nosuchapp", status: sdk.StatusCritical, code: codeInvalidClient,
			details: map[string]string{"server": "FreePBX 17"}, steps: "FreePBX 17 does not check the type"},
	})
}

func TestVersionQuirksInEvidence(t *testing.T) {
	for _, c := range []struct {
		v                int
		client, status16 string
		code             string
	}{
		{16, "core_disabled", "400", codeQueryNotPermitted},
		{17, "core_disabled", "200", codeQueryNotPermitted},
		{16, "revoked", "401", codeTokenRejected},
		{17, "revoked", "500", codeTokenRejected},
	} {
		res := checkWith(t, scenarioCase{clientID: c.client}.block(t, c.v), 5*time.Second)
		if sdktest.Codes(res) != c.code || res.Diagnoses[0].Details["http_status"] != c.status16 {
			t.Errorf("%d %s: %s status %q", c.v, c.client, sdktest.Codes(res), res.Diagnoses[0].Details["http_status"])
		}
	}
	res := checkWith(t, scenarioCase{clientID: "core_disabled"}.block(t, 17), 5*time.Second)
	if !strings.Contains(res.Diagnoses[0].Message, "HTTP 200") {
		t.Errorf("17 message should point out the 200: %s", res.Diagnoses[0].Message)
	}
}

func TestOKMetrics(t *testing.T) {
	for _, v := range []int{16, 17} {
		before := time.Now()
		res := checkWith(t, scenarioCase{clientID: "core_read", extra: "expected_extensions: ['2000', '2002']\n"}.block(t, v), 5*time.Second)
		if res.Status != sdk.StatusOK || !strings.Contains(res.Summary, "3 extensions") {
			t.Fatalf("%d: %s %s %+v", v, res.Status, res.Summary, res.Diagnoses)
		}
		want := map[string]float64{"freepbx_api_up": 1, "freepbx_extensions": 3}
		for name, w := range want {
			if got, ok := sdktest.Metric(res, name, nil); !ok || got != w {
				t.Errorf("%d: %s = %v (%v), want %v", v, name, got, ok, w)
			}
		}
		exp, _ := sdktest.Metric(res, "freepbx_token_expiry_timestamp_seconds", nil)
		if exp < float64(before.Add(59*time.Minute).Unix()) || exp > float64(time.Now().Add(61*time.Minute).Unix()) {
			t.Errorf("%d: token expiry %v not about an hour ahead", v, exp)
		}
		if g, ok := sdktest.Metric(res, "freepbx_scope_granted", map[string]string{"scope": "gql:core:read"}); !ok || g != 1 {
			t.Errorf("%d: scope_granted{gql:core:read} = %v %v", v, g, ok)
		}
		for _, ep := range []string{"token", "gql"} {
			if s, ok := sdktest.Metric(res, "freepbx_api_response_seconds", map[string]string{"endpoint": ep}); !ok || s <= 0 || s > 5 {
				t.Errorf("%d: response seconds %s = %v %v", v, ep, s, ok)
			}
		}
	}
	res := checkWith(t, scenarioCase{clientID: "extension_scope_only"}.block(t, 17), 5*time.Second)
	if g, ok := sdktest.Metric(res, "freepbx_scope_granted", map[string]string{"scope": "gql:core:read"}); !ok || g != 0 {
		t.Errorf("required but uncovered scope should export 0: %v %v", g, ok)
	}
	if g, _ := sdktest.Metric(res, "freepbx_scope_granted", map[string]string{"scope": "gql:core:read:extension"}); g != 1 {
		t.Errorf("granted scope should export 1: %v", g)
	}
}

func TestTimeoutBecomesDiagnosis(t *testing.T) {
	start := time.Now()
	res := checkWith(t, scenarioCase{clientID: "slow"}.block(t, 17), time.Second)
	if sdktest.Codes(res) != codeTimeout {
		t.Fatalf("codes %s: %s", sdktest.Codes(res), res.Summary)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %s with a 1s deadline", took)
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	block := fmt.Sprintf("url: http://%s\nclient_id: 17-ok\nclient_secret_file: %s\n", addr, secretFile(t, testSecret))
	res := checkWith(t, block, 5*time.Second)
	if sdktest.Codes(res) != codeUnreachable || !strings.Contains(res.Diagnoses[0].Details["error"], "refused") {
		t.Fatalf("%s %+v", sdktest.Codes(res), res.Diagnoses)
	}
}

func TestTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(freepbxsim.New(freepbxsim.Options{Secret: testSecret}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the rejected handshake is expected
	srv.StartTLS()
	defer srv.Close()
	base := fmt.Sprintf("url: %s\nclient_id: 16-ok\nclient_secret_file: %s\n", srv.URL, secretFile(t, testSecret))
	res := checkWith(t, base, 5*time.Second)
	if sdktest.Codes(res) != codeTLSError || !strings.Contains(res.Diagnoses[0].Details["error"], "certificate") {
		t.Fatalf("without CA: %s %+v", sdktest.Codes(res), res.Diagnoses)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	res = checkWith(t, base+"tls: {ca_file: "+ca+"}\n", 5*time.Second)
	if res.Status != sdk.StatusOK {
		t.Fatalf("with CA: %s %+v", res.Summary, res.Diagnoses)
	}
	// https against a plain http server
	res = checkWith(t, strings.Replace(scenarioCase{clientID: "ok"}.block(t, 17), "http://", "https://", 1), 5*time.Second)
	if sdktest.Codes(res) != codeTLSError {
		t.Fatalf("https to http: %s %+v", sdktest.Codes(res), res.Diagnoses)
	}
}
