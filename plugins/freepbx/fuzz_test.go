package freepbx

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// FuzzConfig: any `config:` block gives a checker or errors, never a panic.
func FuzzConfig(f *testing.F) {
	f.Add("url: https://pbx.example.com\nclient_id: x\nclient_secret: y\n")
	f.Add("url: 'http://u:p@h:bad/'\nscopes: [gql, 1]\ntls: {insecure_skip_verify: maybe}\n")
	f.Add("expected_extensions: [{a: b}]\ntoken_url: '%zz'\n")
	f.Fuzz(func(t *testing.T, block string) {
		_, _ = configure(t, block)
	})
}

// FuzzServerBody: whatever the token endpoint and API answer, the run ends
// with a result within its deadline, never a panic; a failing result names
// its diagnosis.
func FuzzServerBody(f *testing.F) {
	f.Add(200, "application/json", []byte(`{"access_token":"x","token_type":"Bearer","expires_in":3600,"scope":"gql"}`))
	f.Add(401, "application/json", []byte(`{"error":"invalid_client","error_description":"Client authentication failed"}`))
	f.Add(200, "application/json", []byte(`{"error":"ajaxRequest declined"}`))
	f.Add(500, "text/html", []byte("<b>Fatal error</b> client_secret=x"))
	f.Add(200, "application/json", []byte(`{"data":{"fetchAllExtensions":{"extension":[{"extensionId":"2001"}]}}}`))
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte) {
		if status < 100 || status > 599 || strings.ContainsAny(ctype, "\r\n\x00") {
			return
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", ctype)
			if status >= 300 && status < 400 {
				w.Header().Set("Location", string(body))
			}
			w.WriteHeader(status)
			_, _ = w.Write(body)
		}))
		defer srv.Close()
		c, err := configure(t, "url: "+srv.URL+"\nclient_id: 17-ok\nclient_secret: fuzz-secret-value\n")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := c.Check(ctx)
		if err != nil {
			return
		}
		if res.Status != sdk.StatusOK && len(res.Diagnoses) == 0 {
			t.Fatalf("%s without a diagnosis: %q", res.Status, res.Summary)
		}
	})
}
