package whmcs

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/plugins/whmcs/whmcssim"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// FuzzConfig: any `config:` block gives a checker or errors, never a panic.
func FuzzConfig(f *testing.F) {
	f.Add("url: https://billing.example.com/\nidentifier: x\nsecret: y\n")
	f.Add("url: 'http://u:p@h:bad/'\nidentifier_file: /nonexistent\n")
	f.Add("required_actions: [GetClients, 1, {a: b}]\noidc: yes\ntimeout: -1s\n")
	f.Fuzz(func(t *testing.T, block string) {
		_, _ = configure(t, block)
	})
}

// FuzzServerBody: whatever a server answers (status, type, body), the run
// ends with a result or an error within its deadline, never a panic; a
// failing result names its diagnosis.
func FuzzServerBody(f *testing.F) {
	f.Add(200, "application/json", []byte(`{"result":"success","whmcs":{"version":"8.10.1"}}`))
	f.Add(403, "application/json", []byte(`{"result":"error","message":"Invalid IP 203.0.113.7"}`))
	f.Add(403, "text/html", []byte("<html><title>Attention Required! | Cloudflare</title>Error 1020</html>"))
	f.Add(500, "text/html; charset=iso-8859-1", []byte("Erreur \xe9"))
	f.Add(301, "text/plain", []byte(""))
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
		c, err := configure(t, "url: "+srv.URL+"/\nidentifier: "+whmcssim.DefaultIdentifier+"\nsecret: "+whmcssim.DefaultSecret+"\n")
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
