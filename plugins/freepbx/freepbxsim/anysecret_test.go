package freepbxsim

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Scenario any_secret is CVE-2026-44237: FreePBX 17's api module before
// 17.0.8 issues tokens for any secret; 16 checks it. Issued tokens reach
// Options.OnIssue, as FreePBX stores them.
func TestAnySecretAndOnIssue(t *testing.T) {
	var got []string
	srv := httptest.NewServer(New(Options{OnIssue: func(id, jti string, scopes []string, exp time.Time) {
		got = append(got, id+" "+strings.Join(scopes, ","))
		if len(jti) != 80 || time.Until(exp) < 59*time.Minute {
			t.Errorf("jti %q expiry %v", jti, exp)
		}
	}}))
	defer srv.Close()
	post := func(id, secret string) int {
		resp, err := http.PostForm(srv.URL+"/admin/api/api/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := post("17-any_secret", "wrong"); c != 200 {
		t.Errorf("17 refused a wrong secret: %d", c)
	}
	if c := post("16-any_secret", "wrong"); c != 401 {
		t.Errorf("16 accepted a wrong secret: %d", c)
	}
	if c := post("17-ok", "wrong"); c != 401 {
		t.Errorf("17-ok accepted a wrong secret: %d", c)
	}
	if c := post("16-revoked", DefaultSecret); c != 200 {
		t.Errorf("16-revoked: %d", c)
	}
	if strings.Join(got, ";") != "17-any_secret gql" {
		t.Errorf("OnIssue saw %q (a token FreePBX does not store must not reach it)", got)
	}
}
