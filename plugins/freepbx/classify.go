package freepbx

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/pbxwatch/pbxwatch/internal/frontlayer"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// apiBody is the union of the JSON bodies FreePBX's API sends: OAuth errors
// ({"error","message"[,"error_description"][,"hint"]}), ajax.php errors
// ({"error":"ajaxRequest declined"}), Whoops pages ({"error":{"type",...}})
// and GraphQL responses ({"data"}, {"errors"}).
type apiBody struct {
	Error            json.RawMessage `json:"error"`
	ErrorDescription *string         `json:"error_description"`
	Message          string          `json:"message"`
	Hint             string          `json:"hint"`
	Errors           []struct {
		Message string `json:"message"`
	} `json:"errors"`
	Data json.RawMessage `json:"data"`
}

func parseBody(b []byte) apiBody {
	var a apiBody
	_ = json.Unmarshal(b, &a)
	// Bounded, one line, valid UTF-8: these are quoted in messages.
	a.Message, a.Hint = frontlayer.Field(a.Message, 300), frontlayer.Field(a.Hint, 300)
	if a.ErrorDescription != nil {
		d := frontlayer.Field(*a.ErrorDescription, 300)
		a.ErrorDescription = &d
	}
	return a
}

// errorCode returns the "error" member when it is a string.
func (a apiBody) errorCode() string {
	var s string
	if json.Unmarshal(a.Error, &s) == nil {
		return s
	}
	return ""
}

// server guesses the FreePBX release from an OAuth error body: league 8
// (FreePBX 17) adds error_description, league 6 (FreePBX 16) does not.
func (a apiBody) server() string {
	if a.errorCode() == "" || a.Message == "" {
		return ""
	}
	if a.ErrorDescription != nil {
		return "FreePBX 17 (league/oauth2-server 8)"
	}
	return "FreePBX 16 (league/oauth2-server 6)"
}

// evidence is the common detail set of a diagnosis about one exchange.
func evidence(ex *exchange) map[string]string {
	d := map[string]string{}
	if ex == nil {
		return d
	}
	d["url"] = ex.url
	if ex.status != 0 {
		d["http_status"] = strconv.Itoa(ex.status)
		d["body"] = excerpt(ex.body)
	}
	return d
}

// excerpt keeps a body short and printable for a detail field: markup
// stripped, valid UTF-8, bounded, credentials removed (debug error pages
// echo the POST data, client_secret included).
func excerpt(b []byte) string { return frontlayer.Excerpt(b) }

func pathOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if u.RawQuery != "" {
		return u.Path + "?" + u.RawQuery
	}
	return u.Path
}

// classifyTransport names why no response came back.
func classifyTransport(ctx context.Context, endpoint string, ex *exchange) sdk.Diagnosis {
	err := ex.err
	d := evidence(ex)
	d["endpoint"] = endpoint
	d["error"] = err.Error()
	var netErr net.Error
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var verifyErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	var alert tls.AlertError
	switch {
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return diagTimeout(endpoint, ex, d)
	case errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalidCert), errors.As(err, &verifyErr),
		errors.As(err, &recErr), errors.As(err, &alert), strings.Contains(err.Error(), "HTTPS client"), strings.Contains(err.Error(), "tls:"):
		return diagTLS(ex, d)
	case ex.status != 0:
		return diagBrokenAnswer(endpoint, ex, d)
	case frontlayer.NotHTTP(err):
		return diagNotHTTP(ex, d)
	default:
		return diagUnreachable(ex, d)
	}
}

var scopeHint = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("Check the `([^`]*)` scope") })

// classifyToken turns a failed token request into its diagnosis.
func classifyToken(ctx context.Context, c *config, ex *exchange, err error) sdk.Diagnosis {
	if ex == nil || ex.err != nil {
		if ex == nil {
			ex = &exchange{url: c.TokenURL, err: err}
		}
		return classifyTransport(ctx, "token", ex)
	}
	b := parseBody(ex.body)
	switch b.errorCode() {
	case "invalid_client":
		return diagInvalidClient(c, ex, b)
	case "unsupported_grant_type":
		return diagUnsupportedGrant(ex, b)
	case "invalid_scope":
		scope := ""
		if m := scopeHint().FindStringSubmatch(b.Hint); m != nil {
			scope = m[1]
		}
		return diagInvalidScope(c, ex, b, scope)
	}
	if d, ok := classifyAnswer("token", ex, b); ok {
		return d
	}
	switch {
	case ex.status == 404:
		// The token URL exists only through FreePBX's rewrite rule; run()
		// confirms through ajax.php whether FreePBX is there at all.
		d := diagRoutingBroken("token", ex, fmt.Sprintf("the web server answered HTTP 404 %s for the token URL", orQuoted(frontlayer.Title(ex.body))))
		d.Details[routingProbe] = "pending" // run() asks ajax.php to tell
		return d
	case b.server() != "":
		// OAuth's error shape with an error nobody expects here.
		return diagUnexpected("token", ex, fmt.Sprintf("FreePBX's OAuth server refused the token request with %s (%s)", frontlayer.Quote(frontlayer.Field(b.errorCode(), 120)), b.Message+" "+b.Hint))
	case errors.Is(err, errNotJWT):
		return diagUnexpected("token", ex, fmt.Sprintf("the answer is not a token FreePBX issues: %v", err))
	case ex.status == 200:
		return diagUnexpected("token", ex, "no access token FreePBX would issue")
	default:
		return diagUnexpected("token", ex, "neither FreePBX's OAuth JSON nor a page pbxwatch recognises")
	}
}

// probeResult is the outcome of the GraphQL probe.
type probeResult struct {
	ex   *exchange
	ok   bool // the query returned data
	diag *sdk.Diagnosis
	// extensions found by fetchAllExtensions, when the query asked for it.
	haveExtensions bool
	total          int
	extensionIDs   []string
}

var (
	missingField = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`Cannot query field "([^"]+)" on type "(Query|Mutation)"`)
	})
	noExtensionMsg = "Sorry, unable to find any extensions"
)

// classifyProbe reads the GraphQL answer. The order matters: FreePBX 17
// answers a missing field with 200 and a rejected token with 500, so the
// body decides before the status does.
func classifyProbe(ctx context.Context, c *config, tok *grantedToken, ex *exchange) probeResult {
	pr := probeResult{ex: ex}
	set := func(d sdk.Diagnosis) probeResult { pr.diag = &d; return pr }
	if ex.err != nil {
		return set(classifyTransport(ctx, "gql", ex))
	}
	b := parseBody(ex.body)
	var fields []string
	for _, e := range b.Errors {
		if m := missingField().FindStringSubmatch(e.Message); m != nil {
			fields = append(fields, m[1])
		}
	}
	switch {
	case len(fields) > 0:
		return set(diagQueryNotPermitted(ex, tok, fields))
	case b.errorCode() == "access_denied" || oauthException(b):
		return set(diagTokenRejected(ex, b, tok))
	case oauthErrorPage(ex):
		// The framework's HTML error page (Whoops' pretty page) showing
		// the OAuthServerException: the reason is in the page's text.
		b.Hint = oauthHintIn(ex.body)
		return set(diagTokenRejected(ex, b, tok))
	}
	switch {
	case ex.status == 400 && len(b.Errors) == 1 && b.Errors[0].Message == noExtensionMsg:
		// FreePBX answers an empty extension list as a failed resolver.
		pr.ok, pr.haveExtensions = true, true
		return pr
	case len(b.Errors) > 0:
		msgs := make([]string, len(b.Errors))
		for i, e := range b.Errors {
			msgs[i] = frontlayer.Field(e.Message, 200)
		}
		return set(diagUnexpected("gql", ex, fmt.Sprintf("probe_query failed: %s", strings.Join(msgs, "; "))))
	case ex.status == 200 && hasData(b.Data):
		pr.ok = true
		readExtensions(&pr, b.Data)
		return pr
	}
	if d, ok := classifyAnswer("gql", ex, b); ok {
		return set(d)
	}
	if ex.status == 404 || ex.status == 405 {
		return set(diagUnexpected("gql", ex, fmt.Sprintf("graphql_url must be FreePBX's %s, called with POST", gqlPath)))
	}
	return set(diagUnexpected("gql", ex, "neither GraphQL data nor errors"))
}

// hasData is GraphQL's positive evidence: a data object with at least one
// field that resolved to something other than null, and none that reports
// failure the way FreePBX's resolvers do ({"status": false, "message"}).
func hasData(raw json.RawMessage) bool {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return false
	}
	some := false
	for _, v := range fields {
		var r struct {
			Status *bool `json:"status"`
		}
		if json.Unmarshal(v, &r) == nil && r.Status != nil && !*r.Status {
			return false
		}
		if len(v) > 0 && string(v) != "null" {
			some = true
		}
	}
	return some
}

// oauthException recognises FreePBX 17's rejected token: league's
// OAuthServerException in the framework's Whoops JSON.
func oauthException(b apiBody) bool {
	w, ok := b.exception()
	return ok && (strings.Contains(w.Type, "OAuthServerException") || strings.Contains(w.Message, "denied the request"))
}

// oauthErrorPage recognises the framework's HTML error page for league's
// OAuthServerException (Whoops' PrettyPageHandler, when the JSON handler is
// not the one installed): HTML naming the exception class.
func oauthErrorPage(ex *exchange) bool {
	return frontlayer.LooksHTML(ex.header, ex.body) && bytes.Contains(ex.body[:min(len(ex.body), 256<<10)], []byte("OAuthServerException"))
}

// oauthHints are the reasons league's BearerTokenValidator gives, which an
// error page shows beside the exception.
var oauthHints = []string{"Access token could not be verified", "Access token has been revoked", "Access token is invalid", `Missing "Authorization" header`}

// oauthHintIn returns the reason an error page shows, as it shows it ("" if
// none of league's).
func oauthHintIn(body []byte) string {
	b := body[:min(len(body), 256<<10)]
	for _, h := range oauthHints {
		if bytes.Contains(b, []byte(h)) || bytes.Contains(b, []byte(html.EscapeString(h))) {
			return h
		}
	}
	return ""
}

func readExtensions(pr *probeResult, data json.RawMessage) {
	var d struct {
		Fetch *struct {
			TotalCount *int `json:"totalCount"`
			Extension  []struct {
				ExtensionID string `json:"extensionId"`
			} `json:"extension"`
		} `json:"fetchAllExtensions"`
	}
	if json.Unmarshal(data, &d) != nil || d.Fetch == nil {
		return
	}
	pr.haveExtensions = true
	for _, e := range d.Fetch.Extension {
		pr.extensionIDs = append(pr.extensionIDs, e.ExtensionID)
	}
	pr.total = len(pr.extensionIDs)
	if d.Fetch.TotalCount != nil {
		pr.total = *d.Fetch.TotalCount
	}
}
