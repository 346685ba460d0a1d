package whmcs

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// fuzzSecret and fuzzKey are full of the characters encodings change.
const (
	fuzzSecret = `Fz$ecr3t&/+"<'>%20 ü€`
	fuzzKey    = `k3y!(@#$%.)*[]-_`
	fuzzID     = "FuzzIdentifier0123456789"
)

// FuzzClassify feeds the classifier arbitrary answers: it must not panic,
// must never count an action as allowed on an error status, and no text it
// produces may carry the credentials in any encoding.
func FuzzClassify(f *testing.F) {
	seeds := []struct {
		status int
		ctype  string
		body   string
	}{
		{200, "application/json", `{"result":"success","whmcs":{"version":"8.13.1"}}`},
		{403, "application/json", `{"result":"success"}`},
		{200, "application/json", `{"result":"error","message":"Client Not Found"}`},
		{404, "application/json", `{"result":"error","message":"Client Not Found"}`},
		{200, "application/json", `{"result":"error","message":"Command Not Found"}`},
		{403, "application/json", `{"result":"error","message":"Invalid IP 203.0.113.7"}`},
		{403, "application/json", `{"result":"error","message":"Invalid Permissions: API action \u0022getclients\u0022 is not allowed"}`},
		{200, "text/plain", "Access denied by Imunify360 bot-protection. IPs used for automation should be whitelisted"},
		{403, "text/html", "<html><title>Access denied | x used Cloudflare to restrict access</title></html>"},
		{500, "text/html", "<pre>identifier=" + fuzzID + "&secret=" + url.QueryEscape(fuzzSecret) + "&accesskey=" + url.QueryEscape(fuzzKey) + "</pre>"},
		{200, "application/json", `{"result":"error","message":"Invalid IP ` + strings.ReplaceAll(fuzzSecret, `"`, `\"`) + `"}`},
		{400, "text/html", base64.StdEncoding.EncodeToString([]byte(fuzzSecret))},
		{302, "text/html", ""},
		{200, "application/octet-stream", "\xff\xfe\x00"},
	}
	for _, s := range seeds {
		f.Add(s.status, s.ctype, "Apache", []byte(s.body))
	}
	cfgText := fmt.Sprintf("url: https://billing.example.com/\nidentifier: %s\nsecret: '%s'\naccess_key: '%s'\n", fuzzID, strings.ReplaceAll(fuzzSecret, "'", "''"), fuzzKey)
	c, err := configure(f, cfgText)
	if err != nil {
		f.Fatalf("configure: %v", err)
	}
	f.Fuzz(func(t *testing.T, status int, ctype, server string, body []byte) {
		if status < 100 || status > 999 {
			status = 100 + (status%900+900)%900
		}
		r := &run{cfg: c.cfg, name: "fuzz", res: &sdk.Result{}, missing: map[string]string{}}
		rep := &reply{action: "GetClients", url: c.cfg.endpoint.String(), status: status,
			header: http.Header{"Content-Type": {ctype}, "Server": {server}, "Location": {"/x"}}, body: body}
		v := r.classify(rep)
		if (status < 200 || status >= 300) && v.kind == kindAllowed {
			t.Fatalf("HTTP %d counted as allowed: %q", status, body)
		}
		if v.kind != kindAllowed && v.kind != kindDenied && v.kind != kindNoAction && v.diag == nil {
			t.Fatalf("kind %d without a diagnosis", v.kind)
		}
		if v.diag != nil {
			r.res.Diagnose(*v.diag)
		}
		res := scrubResult(r.res, r.secrets())
		assertNoCredential(t, res)
	})
}

// assertNoCredential fails when a credential appears in res plainly or
// URL-, JSON- or base64-encoded, and when a detail is not valid UTF-8.
func assertNoCredential(t *testing.T, res *sdk.Result) {
	t.Helper()
	var texts []string
	texts = append(texts, res.Summary)
	for _, d := range res.Diagnoses {
		texts = append(texts, d.Message)
		texts = append(texts, d.Remediation...)
		for _, v := range d.Details {
			if !utf8.ValidString(v) {
				t.Fatalf("detail is not valid UTF-8: %q", v)
			}
			texts = append(texts, v)
		}
	}
	all := strings.Join(texts, "\n")
	for _, s := range []string{fuzzSecret, fuzzKey, fuzzID} {
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s), base64.StdEncoding.EncodeToString([]byte(s)), strings.ReplaceAll(s, `"`, `\"`)} {
			if strings.Contains(all, form) {
				t.Fatalf("result carries a credential as %q:\n%s", form, all)
			}
		}
	}
}
