package freepbxsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

var testSim = New(Options{})

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	testSim.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

func tokenReq(form url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/admin/api/api/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func creds(id, scope string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {DefaultSecret}, "scope": {scope}}
}

// getToken fetches an access token and returns it and its claims, checking
// the signature with the simulator's public key.
func getToken(t *testing.T, id, scope string) (string, jwt.MapClaims) {
	t.Helper()
	code, body := do(t, tokenReq(creds(id, scope)))
	if code != 200 {
		t.Fatalf("token %s: %d %s", id, code, body)
	}
	var resp struct {
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil || resp.TokenType != "Bearer" || resp.ExpiresIn != 3600 {
		t.Fatalf("token body %s (%v)", body, err)
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(resp.AccessToken, claims, func(*jwt.Token) (any, error) { return testSim.PublicKey(), nil }); err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	return resp.AccessToken, claims
}

func gqlReq(tok, query string) *http.Request {
	b, _ := json.Marshal(map[string]string{"query": query})
	req := httptest.NewRequest(http.MethodPost, "/admin/api/api/gql", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return req
}

func TestTokenScopesAndClaims(t *testing.T) {
	cases := []struct {
		id, scope string
		want      string
	}{
		{"16-ok", "", `["gql"]`},
		{"17-framework_only", "", `["gql:framework"]`},
		{"16-ok", "gql:core:read gql:framework", `["gql:core:read","gql:framework"]`},
		{"17-framework_only", "gql", `["gql"]`}, // 17 does not check allowed scopes
	}
	for _, c := range cases {
		_, claims := getToken(t, c.id, c.scope)
		got, _ := json.Marshal(claims["scopes"])
		if string(got) != c.want || claims["aud"] != c.id {
			t.Errorf("%s %q: scopes %s aud %v, want %s", c.id, c.scope, got, claims["aud"], c.want)
		}
	}
	_, c16 := getToken(t, "16-ok", "")
	_, c17 := getToken(t, "17-ok", "")
	if _, frac := c17["exp"].(float64); !frac {
		t.Errorf("17 exp %T", c17["exp"])
	}
	if e, _ := c16["exp"].(float64); e != float64(int64(e)) {
		t.Errorf("16 exp %v has a fraction", e)
	}
}

func TestTokenErrorsPerVersion(t *testing.T) {
	bad := creds("16-ok", "")
	bad.Set("client_secret", "wrong")
	cases := []struct {
		name string
		form url.Values
		code int
		body string
	}{
		{"bad secret 16", bad, 401, `{"error":"invalid_client","message":"Client authentication failed"}`},
		{"unknown 17", creds("17-nope", ""), 401, `{"error":"invalid_client","error_description":"Client authentication failed","message":"Client authentication failed"}`},
		{"app type 16", creds("16-wrong_app_type", ""), 401, `{"error":"invalid_client","message":"Client authentication failed"}`},
		{"scope outside app 16", creds("16-framework_only", "gql"), 400, "{\"error\":\"invalid_scope\",\"message\":\"The requested scope is invalid, unknown, or malformed\",\"hint\":\"Check the `gql` scope\"}"},
		{"unknown scope 17", creds("17-ok", "gql:voicemail"), 400, "{\"error\":\"invalid_scope\",\"error_description\":\"The requested scope is invalid, unknown, or malformed\",\"hint\":\"Check the `gql:voicemail` scope\",\"message\":\"The requested scope is invalid, unknown, or malformed\"}"},
		{"grant 17", creds("17-no_cc_grant", ""), 400, `{"error":"unsupported_grant_type","error_description":"The authorization grant type is not supported by the authorization server.","hint":"Check that all required parameters have been provided","message":"The authorization grant type is not supported by the authorization server."}`},
	}
	for _, c := range cases {
		code, body := do(t, tokenReq(c.form))
		if code != c.code || body != c.body {
			t.Errorf("%s: %d %s\nwant %d %s", c.name, code, body, c.code, c.body)
		}
	}
	if _, claims := getToken(t, "17-wrong_app_type", ""); claims["aud"] != "17-wrong_app_type" {
		t.Errorf("17 should issue tokens to any app type")
	}
}

func TestBasicAuthAccepted(t *testing.T) {
	req := tokenReq(url.Values{"grant_type": {"client_credentials"}})
	req.SetBasicAuth("16-ok", DefaultSecret)
	if code, body := do(t, req); code != 200 {
		t.Fatalf("basic auth: %d %s", code, body)
	}
}

func TestGraphQLScopeRuleAndQuirks(t *testing.T) {
	const q = "{ fetchAllExtensions { status totalCount extension { extensionId } } }"
	for _, scope := range []string{"gql", "gql:core", "gql:core:read"} {
		tok, _ := getToken(t, "17-ok", scope)
		code, body := do(t, gqlReq(tok, q))
		want := `{"data":{"fetchAllExtensions":{"status":true,"totalCount":3,"extension":[{"extensionId":"2000"},{"extensionId":"2001"},{"extensionId":"2002"}]}}}`
		if code != 200 || body != want {
			t.Errorf("scope %s: %d %s", scope, code, body)
		}
	}
	tok16, _ := getToken(t, "16-ok", "gql:core:read:extension")
	code, body := do(t, gqlReq(tok16, q))
	if code != 400 || body != `{"errors":[{"message":"Cannot query field \"fetchAllExtensions\" on type \"Query\".","status":false}]}`+"\n" {
		t.Errorf("16 missing field: %d %s", code, body)
	}
	tok17, _ := getToken(t, "17-ok", "gql:core:read:extension")
	code, body = do(t, gqlReq(tok17, q))
	if code != 200 || body != `{"errors":[{"message":"Cannot query field \"fetchAllExtensions\" on type \"Query\".","locations":[{"line":1,"column":3}]}]}`+"\n" {
		t.Errorf("17 missing field: %d %s", code, body)
	}
}

func TestAccessDeniedPerVersion(t *testing.T) {
	tok16, _ := getToken(t, "16-revoked", "")
	code, body := do(t, gqlReq(tok16, "{ system { version } }"))
	if code != 401 || !strings.Contains(body, `"hint":"Access token has been revoked"`) {
		t.Errorf("16 revoked: %d %s", code, body)
	}
	code, body = do(t, tokenReq(creds("17-key_changed", "")))
	var resp struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil || code != 200 {
		t.Fatalf("key_changed token: %d %s", code, body)
	}
	if _, err := jwt.Parse(resp.AccessToken, func(*jwt.Token) (any, error) { return testSim.PublicKey(), nil }); err == nil {
		t.Fatal("key_changed token verifies with the current key")
	}
	tok17 := resp.AccessToken
	code, body = do(t, gqlReq(tok17, "{ system { version } }"))
	if code != 500 || !strings.Contains(body, `OAuthServerException`) {
		t.Errorf("17 key changed: %d %s", code, body)
	}
	if code, _ := do(t, gqlReq("", "{ system { version } }")); code != 500 {
		t.Errorf("17 without token: %d", code)
	}
}

func TestAjaxRouting(t *testing.T) {
	tok, _ := getToken(t, "17-ok", "")
	tokOff, _ := getToken(t, "17-checkreferer_off", "")
	cases := []struct {
		path, tok string
		code      int
		body      string
	}{
		{"/admin/api/api/resource", tok, 403, `{"error":"ajaxRequest declined"}`},
		{"/admin/api/core/gql", tok, 403, `{"error":"ajaxRequest declined"}`},
		{"/admin/ajax.php?module=api&command=getApplications", tok, 403, `{"error":"ajaxRequest declined - Referrer"}`},
		{"/admin/api/api/getTokens", tokOff, 401, `{"error":"Not Authenticated"}`},
	}
	for _, c := range cases {
		req := httptest.NewRequest(http.MethodPost, c.path, strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+c.tok)
		if code, body := do(t, req); code != c.code || body != c.body {
			t.Errorf("%s: %d %s", c.path, code, body)
		}
	}
	if code, body := do(t, tokenReq(creds("16-no_api_module", ""))); code != 500 || !strings.Contains(body, "Attempted to load Api") {
		t.Errorf("no api module: %d %s", code, body)
	}
}

func TestNoExtensionsResolverFailure(t *testing.T) {
	tok, _ := getToken(t, "16-no_extensions", "")
	code, body := do(t, gqlReq(tok, "{ fetchAllExtensions { totalCount } }"))
	if code != 400 || body != `{"errors":[{"message":"Sorry, unable to find any extensions","status":false}]}`+"\n" {
		t.Errorf("%d %s", code, body)
	}
}

func TestScenariosListed(t *testing.T) {
	for _, s := range Scenarios() {
		if s.Description == "" || s.Expect16 == "" || s.Expect17 == "" {
			t.Errorf("scenario %s lacks description or expectations", s.Name)
		}
	}
}
