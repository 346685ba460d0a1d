package whmcs

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/plugins/whmcs/whmcssim"
)

func runAgainst(t *testing.T, h http.HandlerFunc, extra string) (code string, d map[string]string, rem []string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := configure(t, "url: "+srv.URL+"/\nidentifier: "+whmcssim.DefaultIdentifier+"\nsecret: "+whmcssim.DefaultSecret+"\n"+extra)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Diagnoses) == 0 {
		t.Fatalf("no diagnosis: %s %q", res.Status, res.Summary)
	}
	return res.Diagnoses[0].Code, res.Diagnoses[0].Details, res.Diagnoses[0].Remediation
}

// A body trickling at a few bytes a second is a server too slow to answer
// (a timeout), not an unexpected response.
func TestTricklingBodyIsATimeout(t *testing.T) {
	code, d, _ := runAgainst(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		for _, c := range []byte(`{"result":"success","whmcs":{"version":"8.10.1"}}`) {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(300 * time.Millisecond):
			}
			_, _ = w.Write([]byte{c})
			w.(http.Flusher).Flush()
		}
	}, "request_timeout: 1s\n")
	if code != "whmcs.timeout" {
		t.Fatalf("code %s, details %v", code, d)
	}
}

// A redirect to anything but http(s) is never suggested as the URL to use.
func TestNonHTTPRedirectIsNotSuggested(t *testing.T) {
	for _, target := range []string{"file:///etc/passwd", "javascript:alert(1)", "ftp://billing.example.com/includes/api.php", "gopher://x/"} {
		code, d, rem := runAgainst(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Location", target)
			w.WriteHeader(302)
		}, "")
		if code != "whmcs.redirected" {
			t.Fatalf("%s: code %s", target, code)
		}
		if s := d["suggested_url"]; s != "" && !strings.HasPrefix(s, "http") {
			t.Errorf("%s: suggested %q", target, s)
		}
		for _, step := range rem {
			if strings.Contains(step, "`url: "+strings.SplitN(target, ":", 2)[0]+":") {
				t.Errorf("%s: remediation suggests it: %q", target, step)
			}
		}
	}
}
