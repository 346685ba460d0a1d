package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// kind is what one API reply means for the action it called.
type kind int

const (
	// kindAllowed: success, or a business error at HTTP 200 ("Client Not
	// Found"), which WHMCS only gives after IP, credential and role passed.
	kindAllowed kind = iota
	// kindDenied: Invalid Permissions, the API role does not allow it.
	kindDenied
	// kindNoAction: Invalid API Action, no such action on this install.
	kindNoAction
	// kindFatal: the API cannot be used; diag says why.
	kindFatal
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
	invalidIP   = regexp.MustCompile(`^(?:Invalid|Forbidden) IP (\S+)`)
	permission  = regexp.MustCompile(`^Invalid Permissions: API action "([^"]*)" is not allowed`)
	titleRE     = regexp.MustCompile(`(?is)<title>\s*(.*?)\s*</title>`)
	whitespaces = regexp.MustCompile(`\s+`)
	cfCodeRE    = regexp.MustCompile(`(?:Error code|cf-error-code">)\s*(\d{3,4})`)
)

// parseEnvelope decodes a WHMCS answer. Both "result" and "status" carry
// the outcome: a few actions use the latter.
func parseEnvelope(body []byte) (envelope, bool) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(bytes.TrimSpace(body), &fields) != nil {
		return envelope{}, false
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

// classify judges one API reply. Order matters: a transport failure or a
// redirect has no WHMCS answer; a CDN's own error must not be read as
// WHMCS's; WHMCS's JSON decides whatever the status (its 403s carry the
// reason, and also a cf-ray header when the site is behind Cloudflare);
// only then do status code and page shape speak.
func (run *run) classify(r *reply) verdict {
	if r.status == 0 {
		return fatal(run.transportDiagnosis(r))
	}
	if r.status >= 300 && r.status < 400 {
		return fatal(run.redirected(r))
	}
	if cf, ok := cloudflareSignal(r); ok {
		if r.status >= 500 {
			return fatal(run.serverError(r, cf))
		}
		return fatal(run.edgeBlocked(r, cf))
	}
	if e, ok := parseEnvelope(r.body); ok {
		return run.classifyEnvelope(r, e)
	}
	switch {
	case r.status == http.StatusUnauthorized || r.status == http.StatusForbidden ||
		r.status == http.StatusNotAcceptable || r.status == http.StatusTooManyRequests:
		return fatal(run.edgeBlocked(r, originLayer(r)))
	case r.status == http.StatusNotFound || r.status == http.StatusGone:
		return fatal(run.notFound(r))
	case r.status >= 500:
		return fatal(run.serverError(r, edge{}))
	case r.status == http.StatusOK && looksHTML(r):
		return fatal(run.htmlPage(r))
	}
	return fatal(run.unexpected(r, ""))
}

func (run *run) classifyEnvelope(r *reply, e envelope) verdict {
	run.whmcsAnswered = true
	v := verdict{env: e, message: e.message}
	if e.outcome == "success" {
		v.kind = kindAllowed
		return v
	}
	msg := e.message
	switch m := invalidIP.FindStringSubmatch(msg); {
	case m != nil:
		v.kind, v.diag = kindFatal, run.invalidIP(r, m[1], msg)
	case strings.HasPrefix(msg, "Invalid or missing credentials"):
		v.kind, v.diag = kindFatal, run.invalidCredentials(r, msg)
	case strings.HasPrefix(msg, "Authentication Failed"):
		v.kind, v.diag = kindFatal, run.authFailed(r, msg)
	case permission.MatchString(msg):
		v.kind = kindDenied
	case strings.HasPrefix(msg, "Invalid API Action") || strings.HasPrefix(msg, "API Function Not Found"):
		v.kind = kindNoAction
	case strings.HasPrefix(msg, "An admin user is required"):
		v.kind, v.diag = kindFatal, run.doubledPath(r, msg)
	case r.status >= 500:
		v.kind, v.diag = kindFatal, run.serverError(r, edge{whmcsMessage: msg})
	case r.status == http.StatusOK:
		// A business or validation error: authorisation passed.
		v.kind = kindAllowed
	default:
		v.kind, v.diag = kindFatal, run.unexpected(r, msg)
	}
	return v
}

func fatal(d *sdk.Diagnosis) verdict { return verdict{kind: kindFatal, diag: d} }

// edge names the layer in front of WHMCS that answered.
type edge struct {
	layer        string // cloudflare, cloudflare_challenge, apache, nginx, litespeed, modsecurity, empty, unknown
	cfRay        string
	cfErrorCode  string
	cfTitle      string
	whmcsMessage string
}

// cloudflareSignal recognises Cloudflare's own answers (not WHMCS's
// answers relayed by Cloudflare: cf-ray alone is on every proxied reply).
func cloudflareSignal(r *reply) (edge, bool) {
	e := edge{layer: "cloudflare", cfRay: r.header.Get("Cf-Ray")}
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
		e.cfTitle = cf.Title
		if cf.RayID != "" {
			e.cfRay = cf.RayID
		}
		return e, true
	}
	b := string(r.body)
	if looksHTML(r) && (strings.Contains(b, "used Cloudflare to restrict access") || strings.Contains(b, "Attention Required! | Cloudflare") ||
		strings.Contains(b, `id="cf-error-details"`) || strings.Contains(b, "cdn-cgi/styles/")) {
		if m := cfCodeRE.FindStringSubmatch(b); m != nil {
			e.cfErrorCode = m[1]
		}
		e.cfTitle = pageTitle(r.body)
		return e, true
	}
	return edge{}, false
}

// originLayer names the web server or WAF from a non-WHMCS error page.
func originLayer(r *reply) edge {
	b := string(r.body)
	server := strings.ToLower(r.header.Get("Server"))
	switch {
	case len(bytes.TrimSpace(r.body)) == 0:
		return edge{layer: "empty"}
	case strings.Contains(b, "Mod_Security") || strings.Contains(b, "ModSecurity") || strings.Contains(b, "Not Acceptable!"):
		return edge{layer: "modsecurity"}
	case strings.Contains(b, "Proudly powered by") && strings.Contains(b, "LiteSpeed") || strings.Contains(server, "litespeed"):
		return edge{layer: "litespeed"}
	case strings.Contains(b, "<center>nginx") || strings.HasPrefix(server, "nginx") || strings.HasPrefix(server, "openresty"):
		return edge{layer: "nginx"}
	case strings.Contains(b, "<address>Apache") || strings.HasPrefix(server, "apache") || strings.Contains(b, "You don't have permission to access"):
		return edge{layer: "apache"}
	case strings.Contains(strings.ToLower(b), "imunify360"):
		return edge{layer: "imunify360"}
	}
	return edge{layer: "unknown"}
}

func looksHTML(r *reply) bool {
	ct := strings.ToLower(r.header.Get("Content-Type"))
	if strings.Contains(ct, "html") {
		return true
	}
	head := strings.ToLower(string(r.body[:min(len(r.body), 512)]))
	return strings.Contains(head, "<html") || strings.Contains(head, "<!doctype html")
}

func pageTitle(body []byte) string {
	if m := titleRE.FindSubmatch(body); m != nil {
		return whitespaces.ReplaceAllString(string(m[1]), " ")
	}
	return ""
}

// excerpt is the start of a body for evidence, on one line.
func excerpt(body []byte) string {
	s := whitespaces.ReplaceAllString(strings.TrimSpace(string(body)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
