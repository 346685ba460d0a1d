package freepbx_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/bounds"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// Whatever bytes FreePBX (or what stands in front of it) answers, the run
// ends with the plugin's own diagnosis, never a plugin crash or a
// marshalling error, every string valid UTF-8 and bounded.
func TestHostileBodiesGiveValidBoundedDiagnoses(t *testing.T) {
	bin := sdktest.Build(t, pluginPkg)
	for name, hb := range map[string]struct {
		status      int
		contentType string
		body        string
	}{
		"latin1 401 json":  {401, "application/json", `{"error":"invalid_client","error_description":"Client authentification \xe9chou\xe9e \xa9"}`},
		"latin1 html 403":  {403, "text/html; charset=iso-8859-1", "<h1>Acc\xe8s refus\xe9</h1>"},
		"binary 500":       {500, "application/octet-stream", "\x00\xff\xfe" + strings.Repeat("\xc3\x28\x00", 1<<18)},
		"1 MiB error body": {500, "text/plain", strings.Repeat("erreur \xe9 ", 1<<17)},
		"latin1 200 token": {200, "application/json", `{"access_token":"t\xe9","token_type":"Bearer","expires_in":3600,"scope":"gql \xe9"}`},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", hb.contentType)
				w.WriteHeader(hb.status)
				_, _ = w.Write([]byte(hb.body))
			}))
			defer srv.Close()
			cfg := fmt.Sprintf("url: %s\nclient_id: 17-ok\nclient_secret_file: %s\n", srv.URL, writeSecret(t, e2eSecret))
			p, err := sdktest.Start(t, bin, sdktest.Options{Config: cfg})
			if err != nil {
				t.Fatal(err)
			}
			res := p.Check(context.Background())
			if len(res.Diagnoses) == 0 && res.Status != sdk.StatusOK {
				t.Fatalf("status %s without a diagnosis", res.Status)
			}
			texts := []string{res.Summary}
			for _, d := range res.Diagnoses {
				if strings.HasPrefix(d.Code, "pbxwatch.") {
					t.Fatalf("the plugin failed instead of diagnosing: %s %.300q", d.Code, d.Message)
				}
				if len(d.Message) > bounds.Message {
					t.Errorf("message of %d bytes", len(d.Message))
				}
				texts = append(texts, d.Message)
				for _, v := range d.Details {
					texts = append(texts, v)
				}
			}
			for _, s := range texts {
				if !utf8.ValidString(s) {
					t.Errorf("invalid UTF-8: %.100q", s)
				}
			}
			if len(res.Summary) > bounds.Summary {
				t.Errorf("summary of %d bytes", len(res.Summary))
			}
		})
	}
}
