package whmcssim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func post(t *testing.T, srv *httptest.Server, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(srv.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func creds(action string) url.Values {
	return url.Values{"identifier": {DefaultIdentifier}, "secret": {DefaultSecret}, "action": {action}, "responsetype": {"json"}}
}

func TestAPIAnswersAsWHMCS(t *testing.T) {
	srv := httptest.NewServer(New(Options{}))
	defer srv.Close()
	wrongSecret := creds("WhmcsDetails")
	wrongSecret.Set("secret", "nope")
	unknownID := creds("WhmcsDetails")
	unknownID.Set("identifier", "nobody")
	withKey := creds("WhmcsDetails")
	withKey.Set("accesskey", DefaultAccessKey)
	cases := []struct {
		name, path string
		form       url.Values
		status     int
		body       string
	}{
		{"ok", "/includes/api.php", creds("WhmcsDetails"), 200, `{"result":"success","whmcs":{"canonicalversion":"8.13.1-release.1","version":"8.13.1"}}`},
		{"no credentials", "/includes/api.php", url.Values{"action": {"WhmcsDetails"}}, 403, `{"result":"error","message":"Authentication Failed"}`},
		{"wrong secret", "/includes/api.php", wrongSecret, 403, `{"result":"error","message":"Authentication Failed"}`},
		{"unknown identifier", "/includes/api.php", unknownID, 403, `{"result":"error","message":"Invalid or missing credentials"}`},
		{"invalid ip", "/invalid_ip/includes/api.php", creds("WhmcsDetails"), 403, `{"result":"error","message":"Invalid IP 127.0.0.1"}`},
		{"access key skips the IP check", "/invalid_ip/includes/api.php", withKey, 200, `"version":"8.13.1"`},
		{"permission, escaped as WHMCS does", "/restricted/includes/api.php", creds("GetClients"), 403, `{"result":"error","message":"Invalid Permissions: API action \u0022getclients\u0022 is not allowed"}`},
		{"nonexistent action, restricted role", "/restricted/includes/api.php", creds("GetSystemStats"), 403, `Invalid Permissions: API action \u0022getsystemstats\u0022`},
		{"nonexistent action, full role", "/includes/api.php", creds("GetSystemStats"), 200, `Invalid API Action: \u0022getsystemstats\u0022 is not a valid API action`},
		{"legacy", "/legacy/includes/api.php", creds("WhmcsDetails"), 200, `Invalid API Action: \u0022whmcsdetails\u0022`},
		{"business error at 200", "/includes/api.php", creds("GetClientsDetails"), 200, `{"result":"error","message":"Client Not Found"}`},
		{"status envelope", "/status_envelope/includes/api.php", creds("WhmcsDetails"), 200, `"status":"success"`},
		{"doubled path", "/includes/api.php/includes/api.php", creds("WhmcsDetails"), 200, `{"result":"error","message":"An admin user is required"}`},
		{"modsecurity", "/modsecurity/includes/api.php", creds("WhmcsDetails"), 403, "You don't have permission to access this resource."},
		{"redirect", "/redirect_https/includes/api.php", creds("WhmcsDetails"), 301, "Moved Permanently"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := post(t, srv, c.path, c.form)
			if resp.StatusCode != c.status || !strings.Contains(body, c.body) {
				t.Fatalf("got %d %s\nwant %d containing %s", resp.StatusCode, body, c.status, c.body)
			}
		})
	}
}

func TestScenariosAreListed(t *testing.T) {
	names := map[string]bool{}
	for _, s := range Scenarios() {
		if s.About == "" || names[s.Name] {
			t.Fatalf("scenario %q: empty description or listed twice", s.Name)
		}
		names[s.Name] = true
	}
	if !names["ok"] || !names["invalid_ip"] || !names["cloudflare_json"] {
		t.Fatalf("missing scenarios: %v", names)
	}
}
