package freepbx

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// fuzzSecret is full of the characters encodings change.
const fuzzSecret = `Fz$ecr3t&/+"<'>%20 ü€`

func fuzzConfig(f *testing.F) *config {
	c := &config{URL: "https://pbx.example.com", ClientID: "fuzz-client", ClientSecret: sdk.Secret(fuzzSecret),
		TokenURL: "https://pbx.example.com" + tokenPath, GraphQLURL: "https://pbx.example.com" + gqlPath, RequiredScopes: []string{"gql:core:read"}}
	sdk.RegisterSecret(fuzzSecret)
	return c
}

var fuzzSeeds = []struct {
	status int
	body   string
}{
	{401, `{"error":"invalid_client","message":"Client authentication failed"}`},
	{400, `{"error":"invalid_scope","message":"x","hint":"Check the ` + "`gql:x`" + ` scope"}`},
	{403, `{"error":"ajaxRequest declined"}`},
	{500, `{"error":{"type":"Exception","message":"Attempted to load Api with a hint of x and it didn't exist"}}`},
	{500, `{"error":{"type":"League\\OAuth2\\Server\\Exception\\OAuthServerException","message":"The resource owner or authorization server denied the request."}}`},
	{200, `{"data":{"fetchAllExtensions":{"totalCount":1,"extension":[{"extensionId":"100"}]}}}`},
	{500, `{"data":{"fetchAllExtensions":{"totalCount":1}}}`},
	{400, `{"errors":[{"message":"Sorry, unable to find any extensions","status":false}]}`},
	{200, `{"errors":[{"message":"Cannot query field \"fetchAllExtensions\" on type \"Query\"."}]}`},
	{404, "<title>404 Not Found</title>"},
	{200, "Access denied by Imunify360 bot-protection."},
	{500, "<pre>client_secret=" + url.QueryEscape(fuzzSecret) + " " + base64.StdEncoding.EncodeToString([]byte(fuzzSecret)) + "</pre>"},
	{200, `{"token_type":"Bearer","access_token":"` + strings.ReplaceAll(fuzzSecret, `"`, `\"`) + `"}`},
	{200, "\xff\xfe\x00"},
}

// FuzzClassifyToken feeds the token classifier arbitrary answers: no
// panic, always a diagnosis (it runs only when no token came), no
// credential in any encoding in what the check reports.
func FuzzClassifyToken(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.status, "application/json", []byte(s.body))
	}
	c := fuzzConfig(f)
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte) {
		if status < 100 || status > 999 {
			status = 100 + (status%900+900)%900
		}
		ex := &exchange{url: c.TokenURL, status: status, header: http.Header{"Content-Type": {ctype}, "Location": {"/x"}}, body: body}
		d := classifyToken(context.Background(), c, ex, errors.New("oauth2: cannot fetch token"))
		if d.Code == "" || d.Severity != sdk.SeverityCritical {
			t.Fatalf("token answer %d %q gave %+v", status, body, d)
		}
		res := &sdk.Result{}
		res.Diagnose(d)
		assertNoFuzzSecret(t, scrub(c, finish(res, false)))
	})
}

// FuzzClassifyProbe feeds the GraphQL classifier arbitrary answers: no
// panic, no OK on an error status (except FreePBX's own 400 for an empty
// extension list), OK only with data, and no credential in any encoding.
func FuzzClassifyProbe(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.status, "application/json", []byte(s.body))
	}
	c := fuzzConfig(f)
	tok := &grantedToken{access: "x.y.z", scopes: []string{"gql"}, expiry: time.Unix(1700000000, 0)}
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte) {
		if status < 100 || status > 999 {
			status = 100 + (status%900+900)%900
		}
		ex := &exchange{url: c.GraphQLURL, status: status, header: http.Header{"Content-Type": {ctype}}, body: body}
		pr := classifyProbe(context.Background(), c, tok, ex)
		switch {
		case pr.ok && pr.diag != nil:
			t.Fatalf("both OK and %s", pr.diag.Code)
		case !pr.ok && pr.diag == nil:
			t.Fatalf("neither OK nor a diagnosis for %d %q", status, body)
		case pr.ok && status != 200 && !(status == 400 && strings.Contains(string(body), noExtensionMsg)):
			t.Fatalf("HTTP %d counted as OK: %q", status, body)
		}
		res := &sdk.Result{}
		if pr.diag != nil {
			res.Diagnose(*pr.diag)
		}
		assertNoFuzzSecret(t, scrub(c, finish(res, pr.ok)))
	})
}

func assertNoFuzzSecret(t *testing.T, res *sdk.Result) {
	t.Helper()
	texts := []string{res.Summary}
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
	for _, form := range []string{fuzzSecret, url.QueryEscape(fuzzSecret), url.PathEscape(fuzzSecret), base64.StdEncoding.EncodeToString([]byte(fuzzSecret)), strings.ReplaceAll(fuzzSecret, `"`, `\"`)} {
		if strings.Contains(all, form) {
			t.Fatalf("result carries the secret as %q:\n%s", form, all)
		}
	}
}
