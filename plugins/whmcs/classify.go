package whmcs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/pbxwatch/pbxwatch/internal/frontlayer"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// kind is what one API reply means for the action it called.
type kind int

const (
	// kindAllowed: success, or a lookup or validation error of the action
	// itself ("Client Not Found"), which WHMCS only gives after IP,
	// credential and role passed.
	kindAllowed kind = iota
	// kindDenied: Invalid Permissions, the API role does not allow it.
	kindDenied
	// kindNoAction: Invalid API Action, no such action on this install.
	kindNoAction
	// kindFatal: the API cannot be used; diag says why.
	kindFatal
	// kindUnknown: WHMCS answered with an error nobody documents: the
	// action is neither proven allowed nor denied; diag quotes it.
	kindUnknown
)

// verdict is the classification of one reply.
type verdict struct {
	kind    kind
	message string // WHMCS's message, JSON-decoded (\u0022 is a quote here)
	env     envelope
	diag    *sdk.Diagnosis
}

// envelope is WHMCS's JSON answer: {"result"|"status": "success"|"error",
// "message": ...}.
type envelope struct {
	outcome string
	message string
	fields  map[string]json.RawMessage
}

var (
	invalidIP  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:Invalid|Forbidden) IP (\S+)`) })
	permission = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^Invalid Permissions: API action "([^"]*)" is not allowed`)
	})
	cfCodeRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?:Error code|cf-error-code">)\s*(\d{3,4})`) })
)

// parseEnvelope decodes a WHMCS answer. Both "result" and "status" carry
// the outcome: a few actions use the latter.
func parseEnvelope(body []byte) (envelope, bool) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(bytes.TrimSpace(body), &fields) != nil {
		return parseOtherFormats(body)
	}
	e := envelope{fields: fields}
	for _, key := range []string{"result", "status"} {
		var s string
		if raw, ok := fields[key]; ok && json.Unmarshal(raw, &s) == nil && (s == "success" || s == "error") {
			e.outcome = s
			break
		}
	}
	if e.outcome == "" {
		return envelope{}, false
	}
	if raw, ok := fields["message"]; ok {
		_ = json.Unmarshal(raw, &e.message)
	}
	return e, true
}

var (
	xmlResult = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?s)^\s*(?:<\?xml[^>]*>\s*)?<whmcsapi[^>]*>.*?<result>\s*(success|error)\s*</result>`)
	})
	xmlMessage = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?s)<message>(.*?)</message>`) })
	xmlVersion = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?s)<version>\s*([^<\s]+)\s*</version>`) })
	nvpResult  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*result=(success|error)(?:;|$)`) })
	nvpMessage = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?:^|;)message=([^;]*)`) })
)

// parseOtherFormats reads WHMCS's XML (<whmcsapi>) and name=value;
// (NVP) answers, which installs that ignore responsetype=json, or answer
// before reading it, send.
func parseOtherFormats(body []byte) (envelope, bool) {
	b := body[:min(len(body), 64<<10)]
	if m := xmlResult().FindSubmatch(b); m != nil {
		e := envelope{outcome: string(m[1])}
		if mm := xmlMessage().FindSubmatch(b); mm != nil {
			e.message = html.UnescapeString(strings.TrimSpace(string(mm[1])))
		}
		if v := xmlVersion().FindSubmatch(b); v != nil {
			raw, _ := json.Marshal(map[string]string{"version": string(v[1])})
			e.fields = map[string]json.RawMessage{"whmcs": raw}
		}
		return e, true
	}
	if m := nvpResult().FindSubmatch(b); m != nil {
		e := envelope{outcome: string(m[1])}
		if mm := nvpMessage().FindSubmatch(b); mm != nil {
			e.message = strings.TrimSpace(string(mm[1]))
		}
		return e, true
	}
	return envelope{}, false
}

// version returns whmcs.version of a WhmcsDetails or GetAdminDetails answer.
func (e envelope) version() string {
	var w struct {
		Version string `json:"version"`
	}
	if raw, ok := e.fields["whmcs"]; ok && json.Unmarshal(raw, &w) == nil {
		return w.Version
	}
	return ""
}

// classify judges one API reply by what it says before what its status
// says. WHMCS's own JSON decides whatever the status (its 403s carry the
// reason, and also a cf-ray header when the site is behind Cloudflare). A
// body that is not WHMCS's JSON is never explained as a WHMCS error: a page
// naming a CDN, WAF or bot protection is that product even at HTTP 200;
// only then do the status code and the page's shape speak, and what none
// of them explains is reported as unrecognised, with the evidence.
func (run *run) classify(r *reply) verdict {
	v := run.judge(r)
	if r.status != 0 && r.err != nil && !isTimeout(r.err) && v.diag != nil {
		// The answer began (a status, some of the body) and then the
		// connection broke: whatever the start of it says, the evidence
		// is cut, and the reset is part of the finding.
		d := *v.diag
		d.Details = maps.Clone(d.Details)
		if d.Details == nil {
			d.Details = map[string]string{}
		}
		d.Details["body_error"] = rootCause(r.err)
		d.Details["body_bytes_received"] = strconv.Itoa(len(r.body))
		d.Message += fmt.Sprintf(" The connection then broke after %d bytes of the body (%s): the answer quoted is incomplete.", len(r.body), rootCause(r.err))
		v.diag = &d
	}
	return v
}

// judge is classify before the note about a body cut short.
func (run *run) judge(r *reply) verdict {
	// No answer, or one whose body never finished arriving in time (a
	// server trickling bytes): the transport's diagnosis (a timeout), not
	// a verdict on half a body.
	if r.status == 0 || isTimeout(r.err) {
		return fatal(run.transportDiagnosis(r))
	}
	if e, ok := parseEnvelope(r.body); ok {
		return run.classifyEnvelope(r, e)
	}
	if js, before, ok := frontlayer.SplitPHPOutput(r.body); ok {
		if e, ok := parseEnvelope(js); ok {
			// WHMCS answered, but PHP printed something first: read the
			// answer, and report what breaks the integration's parsing.
			run.diagnose(run.phpOutput(r, before))
			return run.classifyEnvelope(r, e)
		}
	}
	if r.status >= 300 && r.status < 400 {
		return fatal(run.redirected(r))
	}
	if cf, ok := cloudflareSignal(r); ok {
		if r.status >= 500 && cf.layer == "cloudflare" {
			return fatal(run.serverError(r, cf))
		}
		return fatal(run.edgeBlocked(r, cf))
	}
	if l, ok := frontlayer.Identify(r.header, r.body); ok && l.Refuses() {
		return fatal(run.edgeBlocked(r, edge{layer: l.ID, product: l.Product}))
	}
	if phpFailed(r.body) {
		// PHP's own failure text, whatever status the server sent with it.
		return fatal(run.serverError(r, edge{}))
	}
	switch {
	case r.status == http.StatusUnauthorized || r.status == http.StatusForbidden ||
		r.status == http.StatusNotAcceptable || r.status == http.StatusTooManyRequests ||
		r.status == http.StatusUnsupportedMediaType:
		return fatal(run.edgeBlocked(r, originLayer(r)))
	case r.status == http.StatusNotFound || r.status == http.StatusGone:
		return fatal(run.notFound(r))
	case r.status >= 500:
		return fatal(run.serverError(r, edge{}))
	case r.status == http.StatusOK && looksHTML(r) && whmcsOrLoginPage(r.body):
		return fatal(run.htmlPage(r))
	}
	return fatal(run.unexpected(r, ""))
}

var phpFatal = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)(?:^|<b>|\n)\s*(?:PHP )?(?:Fatal error|Parse error)(?:</b>)?:|requires the ionCube PHP Loader|ionCube Loader|encoded by ionCube`)
})

// phpFailed recognises PHP's fatal error output and ionCube's message that
// its loader is missing, which are sent with HTTP 200 as often as 500.
func phpFailed(body []byte) bool { return phpFatal().Match(body[:min(len(body), 64<<10)]) }

// whmcsOrLoginPage recognises a web page that explains why the API did not
// answer: WHMCS's own client area or maintenance page, or a login form.
func whmcsOrLoginPage(body []byte) bool {
	b := bytes.ToLower(body)
	for _, m := range []string{"whmcs", "maintenance", `type="password"`, "type='password'"} {
		if bytes.Contains(b, []byte(m)) {
			return true
		}
	}
	return false
}

func (run *run) classifyEnvelope(r *reply, e envelope) verdict {
	run.whmcsAnswered = true
	v := verdict{env: e, message: e.message}
	ok2xx := r.status >= 200 && r.status < 300
	if e.outcome == "success" {
		if !ok2xx {
			// Success at an error status proves nothing: something
			// between WHMCS and us changed the answer.
			v.kind, v.diag = kindUnknown, run.unexpectedSuccess(r, fmt.Sprintf("a result of success at HTTP %d", r.status))
			return v
		}
		v.kind = kindAllowed
		return v
	}
	// Bounded, one line, valid UTF-8: it is quoted in messages.
	msg := run.field(e.message)
	v.message = msg
	switch m := invalidIP().FindStringSubmatch(msg); {
	case m != nil:
		v.kind, v.diag = kindFatal, run.invalidIP(r, m[1], msg)
	case strings.HasPrefix(msg, "Invalid or missing credentials"):
		v.kind, v.diag = kindFatal, run.invalidCredentials(r, msg)
	case strings.HasPrefix(msg, "Authentication Failed"):
		v.kind, v.diag = kindFatal, run.authFailed(r, msg)
	case permission().MatchString(msg):
		v.kind = kindDenied
	case noSuchAction().MatchString(msg):
		v.kind = kindNoAction
	case strings.HasPrefix(msg, "An admin user is required"):
		v.kind, v.diag = kindFatal, run.doubledPath(r, msg)
	case r.status >= 500:
		v.kind, v.diag = kindFatal, run.serverError(r, edge{whmcsMessage: msg})
	case ok2xx && provesAllowed(msg):
		// A lookup or validation error of the action itself: WHMCS only
		// runs the action after the IP, the credential and the role passed.
		v.kind = kindAllowed
	default:
		// An error WHMCS documents nowhere proves nothing either way.
		v.kind, v.diag = kindUnknown, run.unexpected(r, msg)
	}
	return v
}

var (
	// noSuchAction: the names WHMCS versions give "no such action".
	noSuchAction = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)^(?:Invalid API Action|API Function Not Found|Command Not Found|Unknown (?:API )?(?:action|command|function)|(?:API )?Action Not Found|.*\bis not a valid API action)`)
	})
	// notProof: words of messages about the caller, never of a lookup.
	notProof = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)\b(?:action|command|function|permissions?|access|auth\w*|ip|credentials?|login|session|admin|key|token|licen[cs]e|denied|forbidden|blocked|banned|disabled)\b`)
	})
	// entityError: a lookup of a record that does not exist, or a
	// parameter the action validates, as the API reference documents them
	// ("Client Not Found", "Invoice ID Not Found", "Parameter setting is
	// required", "Domain not valid", "Invalid module name").
	entityError = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)^(?:the )?(?:(?:client|user|invoice|ticket|project|domain|service|product|order|quote|transaction|contact|addon|department|module|gateway|payment method|pay ?method|server|currency|affiliate|announcement|registrar|tld|email|credit|note|promotion|setting|group)s?(?: ?id)? (?:not found|does not exist|doesn't exist|is invalid|not valid|invalid)|invalid (?:client|user|invoice|ticket|project|domain|service|product|order|quote|transaction|contact|addon|department|module|gateway|server|currency|setting|status|date)(?: ?(?:id|name))?\b|(?:parameter |field )?['"]?\w+['"]? (?:is|are) required\b|missing required (?:parameter|field)s?\b|no (?:\w+ )?(?:found|matching)\b)`)
	})
)

// provesAllowed tells whether an error message can only come from the
// action's own code, after the role check passed.
func provesAllowed(msg string) bool {
	msg = strings.TrimSpace(msg)
	return msg != "" && len(msg) < 200 && !notProof().MatchString(msg) && entityError().MatchString(msg)
}

func fatal(d *sdk.Diagnosis) verdict { return verdict{kind: kindFatal, diag: d} }

// edge names the layer in front of WHMCS that answered.
type edge struct {
	layer        string // cloudflare, cloudflare_challenge, apache, nginx, litespeed, modsecurity, imunify360, ..., empty, unknown
	product      string // the product's name, for people
	cfRay        string
	cfErrorCode  string
	cfTitle      string
	whmcsMessage string
}

// cloudflareSignal recognises Cloudflare's own answers (not WHMCS's
// answers relayed by Cloudflare: cf-ray alone is on every proxied reply).
func cloudflareSignal(r *reply) (edge, bool) {
	e := edge{layer: "cloudflare", cfRay: frontlayer.Field(r.header.Get("Cf-Ray"), 80)}
	if strings.EqualFold(r.header.Get("Cf-Mitigated"), "challenge") {
		e.layer = "cloudflare_challenge"
		return e, true
	}
	var cf struct {
		CloudflareError bool   `json:"cloudflare_error"`
		ErrorCode       int    `json:"error_code"`
		Title           string `json:"title"`
		RayID           string `json:"ray_id"`
	}
	if json.Unmarshal(r.body, &cf) == nil && cf.CloudflareError {
		if cf.ErrorCode != 0 {
			e.cfErrorCode = strconv.Itoa(cf.ErrorCode)
		}
		e.cfTitle = frontlayer.Field(cf.Title, 120)
		if cf.RayID != "" {
			e.cfRay = frontlayer.Field(cf.RayID, 80)
		}
		return e, true
	}
	b := string(r.body)
	if looksHTML(r) && (strings.Contains(b, "used Cloudflare to restrict access") || strings.Contains(b, "Attention Required! | Cloudflare") ||
		strings.Contains(b, `id="cf-error-details"`) || strings.Contains(b, "cdn-cgi/styles/")) {
		if m := cfCodeRE().FindStringSubmatch(b); m != nil {
			e.cfErrorCode = m[1]
		}
		e.cfTitle = pageTitle(r.body)
		return e, true
	}
	return edge{}, false
}

// originLayer names the web server or WAF from a non-WHMCS error page.
func originLayer(r *reply) edge {
	if len(bytes.TrimSpace(r.body)) == 0 {
		return edge{layer: "empty"}
	}
	if l, ok := frontlayer.Identify(r.header, r.body); ok {
		return edge{layer: l.ID, product: l.Product}
	}
	// A sentence several products share ("You don't have permission to
	// access", Akamai's as Apache's) names none of them.
	return edge{layer: "unknown"}
}

func looksHTML(r *reply) bool { return frontlayer.LooksHTML(r.header, r.body) }

func pageTitle(body []byte) string { return frontlayer.Title(body) }

// excerpt is the start of a body for evidence: one line, bounded, valid
// UTF-8, without the credentials in any encoding a page may echo them in.
func (r *run) excerpt(body []byte) string {
	return frontlayer.Excerpt(body, r.secrets()...)
}

// field makes a header or message fit for a diagnosis (bounded, valid
// UTF-8, one line, no credential).
func (r *run) field(s string) string { return frontlayer.Field(s, 300, r.secrets()...) }

func (r *run) secrets() []string {
	return []string{r.cfg.Secret.Reveal(), r.cfg.AccessKey.Reveal(), r.cfg.Identifier.Reveal()}
}
