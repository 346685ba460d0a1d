package freepbx

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func runAgainst(t *testing.T, h http.HandlerFunc, timeout time.Duration) (string, []string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := configure(t, "url: "+srv.URL+"\nclient_id: 17-ok\nclient_secret: a-secret-value-123\n")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res, err := c.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Diagnoses) == 0 {
		t.Fatalf("no diagnosis: %s %q", res.Status, res.Summary)
	}
	return res.Diagnoses[0].Code, res.Diagnoses[0].Remediation
}

// A token endpoint trickling its body is a timeout, not an unexpected
// response.
func TestTricklingBodyIsATimeout(t *testing.T) {
	code, _ := runAgainst(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		for _, c := range []byte(`{"access_token":"x","token_type":"Bearer","expires_in":3600}`) {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(300 * time.Millisecond):
			}
			_, _ = w.Write([]byte{c})
			w.(http.Flusher).Flush()
		}
	}, 2*time.Second)
	if code != "freepbx.timeout" {
		t.Fatalf("code %s", code)
	}
}

// A redirect to anything but http(s) is never suggested as the URL to use.
func TestNonHTTPRedirectIsNotSuggested(t *testing.T) {
	code, rem := runAgainst(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Location", "file:///etc/passwd")
		w.WriteHeader(302)
	}, 5*time.Second)
	if code == "" {
		t.Fatal("no code")
	}
	for _, step := range rem {
		if strings.Contains(step, "redirect points at") || strings.Contains(step, "file:") && strings.Contains(step, "Set url") {
			t.Errorf("remediation suggests the target: %q", step)
		}
	}
}
