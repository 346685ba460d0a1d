package whmcs

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pbxwatch/pbxwatch/plugins/whmcs/whmcssim"
	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/bounds"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// hostileBodies are what a broken or hostile server answers: Latin-1 text,
// binary garbage, megabytes, a version string made of both.
var hostileBodies = map[string]struct {
	status      int
	contentType string
	body        string
}{
	"latin1 403":          {403, "text/html; charset=iso-8859-1", "<html><body><h1>Accès refusé</h1><p>R\xe9essayez plus tard \xa9 h\xf4te</p></body></html>"},
	"latin1 json error":   {200, "application/json", `{"result":"error","message":"Authentification \xe9chou\xe9e"}`},
	"binary 500":          {500, "application/octet-stream", "\x00\x01\xff\xfe\x80" + strings.Repeat("\xc3\x28\x00\xff", 1<<18)},
	"1 MiB latin1 403":    {403, "text/plain", strings.Repeat("\xe9", 1<<20)},
	"huge latin1 version": {200, "application/json", `{"result":"success","whmcs":{"version":"8.` + strings.Repeat("\xe9x", 450<<10) + `"},"version":"8.` + strings.Repeat("\xe9x", 450<<10) + `"}`},
}

// Whatever bytes the server sends, the run ends with the plugin's own
// diagnosis (never a plugin crash or a marshalling error), every string
// valid UTF-8 and bounded, the invalid bytes shown as \xNN.
func TestHostileBodiesGiveValidBoundedDiagnoses(t *testing.T) {
	bin := sdktest.Build(t, pluginPkg)
	for name, hb := range hostileBodies {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", hb.contentType)
				w.WriteHeader(hb.status)
				_, _ = w.Write([]byte(hb.body))
			}))
			defer srv.Close()
			cfg := "url: " + srv.URL + "/\n" + credFiles(t, whmcssim.DefaultIdentifier, whmcssim.DefaultSecret, whmcssim.DefaultAccessKey)
			p, err := sdktest.Start(t, bin, sdktest.Options{Config: cfg})
			if err != nil {
				t.Fatal(err)
			}
			res := p.Check(context.Background())
			checkHostileResult(t, res)
		})
	}
}

func checkHostileResult(t *testing.T, res *sdk.Result) {
	t.Helper()
	if len(res.Diagnoses) == 0 && res.Status != sdk.StatusOK {
		t.Fatalf("status %s without a diagnosis: %q", res.Status, res.Summary)
	}
	texts := []string{res.Summary}
	for _, d := range res.Diagnoses {
		if strings.HasPrefix(d.Code, "pbxwatch.") {
			t.Fatalf("the plugin failed instead of diagnosing: %s %.300q", d.Code, d.Message)
		}
		texts = append(texts, d.Message)
		for _, v := range d.Details {
			if len(v) > bounds.DetailValue {
				t.Errorf("detail of %d bytes", len(v))
			}
			texts = append(texts, v)
		}
	}
	for _, m := range res.Metrics {
		for _, v := range m.Labels {
			if len(v) > bounds.LabelValue {
				t.Errorf("metric %s label of %d bytes", m.Name, len(v))
			}
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
}
