package freepbx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/frontlayer"
	"github.com/pbxwatch/pbxwatch/sdk"
)

type checker struct {
	cfg    config
	client *http.Client
	rec    *recorder
	tap    *tokenTap // the issued token's jti, for the server-side look-up
	// dbSecrets are the database credentials the look-up read.
	dbSecrets []string
}

func (c *checker) Configure(_ context.Context, cfg *sdk.Config) error {
	if err := cfg.Decode(&c.cfg); err != nil {
		return err
	}
	client, rec, err := newRecordingClient(c.cfg.TLS)
	if err != nil {
		return err
	}
	c.client, c.rec = client, rec
	c.configureServerSide()
	return nil
}

func newRecordingClient(t tlsConfig) (*http.Client, *recorder, error) {
	client, err := newHTTPClient(t)
	if err != nil {
		return nil, nil, err
	}
	rec := &recorder{base: client.Transport}
	client.Transport = rec
	return client, rec, nil
}

func (c *checker) Check(ctx context.Context) (*sdk.Result, error) {
	c.tap.reset()
	res := run(ctx, &c.cfg, c.client, c.rec)
	c.serverSide(ctx, res)
	sdk.Logger().Debug("freepbx API checked", "token_url", c.cfg.TokenURL, "client_id", c.cfg.ClientID,
		"status", res.Status.String(), "summary", res.Summary)
	return res, nil
}

// reportMargin is kept from the run's deadline so a slow FreePBX becomes a
// freepbx.timeout diagnosis rather than the agent's plugin timeout.
func withMargin(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return context.WithTimeout(ctx, 30*time.Second)
	}
	margin := min(max(time.Until(dl)/10, 100*time.Millisecond), 2*time.Second)
	return context.WithDeadline(ctx, dl.Add(-margin))
}

// run is the check: token, scopes, probe, extensions.
func run(parent context.Context, c *config, client *http.Client, rec *recorder) *sdk.Result {
	ctx, cancel := withMargin(parent)
	defer cancel()
	res := &sdk.Result{}
	tok, ex, err := fetchToken(ctx, client, rec, c)
	observe(res, "token", ex)
	if err != nil {
		d := classifyToken(ctx, c, ex, err)
		if d.Details[routingProbe] == "pending" {
			delete(d.Details, routingProbe)
			d = confirmRouting(ctx, client, rec, ex, d)
		}
		res.Diagnose(d)
		return scrub(c, finish(res, false))
	}
	res.AddGauge("freepbx_token_expiry_timestamp_seconds", "Expiry (exp claim) of the access token FreePBX issued.", float64(tok.expiry.Unix()), nil)
	scopeMetrics(res, tok.scopes, c.RequiredScopes)

	var scopeDiag *sdk.Diagnosis
	if missing := missingScopes(tok.scopes, c.RequiredScopes); len(missing) > 0 {
		d := diagMissingScope(c, tok, missing)
		scopeDiag = &d
	}
	pr := probe(ctx, client, rec, c, tok)
	observe(res, "gql", pr.ex)
	switch {
	case pr.diag != nil && pr.diag.Code == codeQueryNotPermitted && scopeDiag != nil:
		// The missing scope is the cause; the probe's refusal is evidence.
		scopeDiag.Details["probe_error"] = pr.diag.Message
		res.Diagnose(*scopeDiag)
	case pr.diag != nil:
		if scopeDiag != nil {
			res.Diagnose(*scopeDiag)
		}
		res.Diagnose(*pr.diag)
	case scopeDiag != nil:
		res.Diagnose(*scopeDiag)
	}
	if pr.ok && pr.haveExtensions {
		res.AddGauge("freepbx_extensions", "Extensions FreePBX lists (fetchAllExtensions totalCount).", float64(pr.total), nil)
		if missing := absent(c.ExpectedExtensions, pr.extensionIDs); len(missing) > 0 {
			res.Diagnose(diagExtensionMissing(c.ExpectedExtensions, missing, pr.total))
		}
	}
	res = finish(res, pr.ok)
	if res.Status == sdk.StatusOK {
		res.Summary = okSummary(tok, pr)
	}
	return scrub(c, res)
}

// scrub removes the client secret, in any encoding a server may echo it
// in, from every text of the result. Error texts quote server bodies, and
// a server may echo what it was sent; the SDK scrubs again at the
// transport, this keeps the core safe on its own.
func scrub(c *config, res *sdk.Result) *sdk.Result {
	scrubSecrets(res, c.ClientSecret.Reveal())
	return res
}

// confirmRouting tells a missing rewrite from a URL without FreePBX after
// the token URL answered 404. It asks FreePBX's ajax.php, which needs no
// rewrite, for the API module's token command with a GET: that issues no
// token and sends no credential. Any answer of FreePBX's proves the
// framework is there; an exception naming the Api class proves the module
// is missing; a 404 there too proves nothing FreePBX answers at url.
func confirmRouting(ctx context.Context, client *http.Client, rec *recorder, tokenEx *exchange, d sdk.Diagnosis) sdk.Diagnosis {
	u := baseOf(tokenEx.url) + "/admin/ajax.php?module=api&command=token"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return d
	}
	req.Header.Set("Accept", "application/json")
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close() // the recorder already holds the body
	}
	ex := rec.lastExchange()
	if ex == nil || ex.url != u || ex.err != nil || ex.status == 0 {
		d.Details["ajax_url"] = u
		d.Details["ajax_answer"] = "no answer"
		return d
	}
	b := parseBody(ex.body)
	if w, ok := b.exception(); ok {
		if m := missingClass().FindStringSubmatch(w.Message); m != nil && strings.EqualFold(m[1]+m[2], "api") {
			return diagAPIModuleMissing(ex, w.Message)
		}
	}
	switch {
	case freepbxAnswered(ex, b):
		d.Details["ajax_url"] = u
		d.Details["ajax_answer"] = fmt.Sprintf("HTTP %d %s", ex.status, excerpt(ex.body))
		d.Message += fmt.Sprintf(" Confirmed: FreePBX's ajax.php answers for the API module at %s (HTTP %d), so the module is installed and only the rewrite is missing.", u, ex.status)
		return d
	case ex.status == http.StatusNotFound:
		return diagNotFreePBX(tokenEx, ex)
	}
	return diagUnexpected("token", tokenEx, fmt.Sprintf("the token URL answered 404, and %s answered HTTP %d %s, which is not FreePBX's either", u, ex.status, frontlayer.Quote(excerpt(ex.body))))
}

// freepbxAnswered recognises an answer of FreePBX's framework or API
// module: its ajax.php errors, a Whoops exception, OAuth's error JSON or
// the API router's "Method not allowed".
func freepbxAnswered(ex *exchange, b apiBody) bool {
	if _, ok := b.exception(); ok {
		return true
	}
	if b.errorCode() != "" || b.server() != "" {
		return true
	}
	text := strings.TrimSpace(b.Message)
	if text == "" {
		text = strings.TrimSpace(string(ex.body[:min(len(ex.body), 200)]))
	}
	return strings.HasPrefix(text, "Method not allowed") || (frontlayer.LooksHTML(ex.header, ex.body) && strings.Contains(frontlayer.Title(ex.body), "Method not allowed"))
}

// probe runs probe_query with the bearer token.
func probe(ctx context.Context, client *http.Client, rec *recorder, c *config, tok *grantedToken) probeResult {
	body, _ := json.Marshal(map[string]string{"query": c.ProbeQuery})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.GraphQLURL, bytes.NewReader(body))
	if err != nil {
		return classifyProbe(ctx, c, tok, &exchange{url: c.GraphQLURL, err: err})
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok.access)
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close() // the recorder already holds the body
	}
	ex := rec.lastExchange()
	if ex == nil || (err != nil && ex.err == nil) {
		ex = &exchange{url: c.GraphQLURL, err: err}
	}
	return classifyProbe(ctx, c, tok, ex)
}

func observe(res *sdk.Result, endpoint string, ex *exchange) {
	if ex == nil || ex.status == 0 {
		return
	}
	res.AddGauge("freepbx_api_response_seconds", "Response time of the FreePBX API endpoint in the last run.", ex.elapsed.Seconds(), map[string]string{"endpoint": endpoint})
}

// scopeMetrics exports one series per granted or required scope: 1 when the
// token covers it by FreePBX's rule, 0 when not.
func scopeMetrics(res *sdk.Result, granted, required []string) {
	seen := map[string]bool{}
	all := append(append([]string{}, granted...), required...)
	for _, s := range all {
		if seen[s] {
			continue
		}
		seen[s] = true
		v := 0.0
		if covered(granted, s) {
			v = 1
		}
		res.AddGauge("freepbx_scope_granted", "1 if the token's scopes cover this scope (granted or required), else 0.", v, map[string]string{"scope": s})
	}
}

// finish sets api_up and a summary naming the first problem.
func finish(res *sdk.Result, probeOK bool) *sdk.Result {
	up := 0.0
	if probeOK {
		up = 1
	}
	res.AddGauge("freepbx_api_up", "1 if a token was issued and the GraphQL probe returned data.", up, nil)
	if len(res.Diagnoses) > 0 {
		codes := make([]string, len(res.Diagnoses))
		for i, d := range res.Diagnoses {
			codes[i] = d.Code
		}
		res.Summary = fmt.Sprintf("%s: %s", strings.Join(codes, ", "), res.Diagnoses[0].Message)
	}
	return res
}

func okSummary(tok *grantedToken, pr probeResult) string {
	scopes := append([]string{}, tok.scopes...)
	sort.Strings(scopes)
	s := fmt.Sprintf("FreePBX API OK: token scopes %s, expires %s", orNone(scopes), tok.expiry.UTC().Format("15:04:05Z"))
	if pr.haveExtensions {
		s += fmt.Sprintf(", %d extensions", pr.total)
	}
	return s
}
