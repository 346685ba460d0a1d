package whmcssim

import (
	"net"
	"net/http"
	"sort"
	"time"
)

// scenario is one way a WHMCS install (and what stands in front of it) can
// behave.
type scenario struct {
	name  string
	about string
	// version is the WHMCS release; "" means Options.Version.
	version string
	// legacy is WHMCS before 8.0: no WhmcsDetails action.
	legacy bool
	// envelope is the JSON key carrying success/error: "result", or
	// "status" as a few actions use.
	envelope string
	// role lists the lower-cased actions the credential's API roles allow;
	// nil is a role with every action ticked.
	role map[string]bool
	ip   ipRule
	// cloudflare adds the headers Cloudflare puts on every proxied response.
	cloudflare bool
	// front, when set, is a layer before WHMCS; it returns true when it
	// answered the request itself.
	front func(s *Server, w http.ResponseWriter, r *http.Request, base string) bool
	oidc  oidcMode
}

// ipRule is the API IP Access Restriction of the install.
type ipRule struct {
	deny bool
	// status of the Invalid IP reply: 403 on most installs, 400 reported
	// by one client library.
	status int
	// seen is the address WHMCS reports; "" is the caller's own. A proxy
	// without Trusted Proxies configured makes WHMCS see the proxy.
	seen string
}

type oidcMode int

const (
	oidcOK oidcMode = iota
	oidcMissing
	oidcIssuerMismatch
	oidcNoKeys
	oidcJWKSDown
	oidcBadKey
)

func role(actions ...string) map[string]bool {
	m := map[string]bool{}
	for _, a := range actions {
		m[a] = true
	}
	return m
}

var scenarioList = []*scenario{
	{name: "ok", about: "WHMCS 8 with a role allowing every action; OpenID Connect configured"},
	{name: "status_envelope", about: "answers with a \"status\" key instead of \"result\", as some actions do", envelope: "status"},
	{name: "legacy", about: "WHMCS 7.10 (before 8.0): no WhmcsDetails action; GetAdminDetails gives the version", version: "7.10.2", legacy: true},
	{name: "invalid_ip", about: "this host's address is not in API IP Access Restriction: 403 Invalid IP <caller>", ip: ipRule{deny: true, status: http.StatusForbidden}},
	{name: "invalid_ip_400", about: "as invalid_ip, answered with HTTP 400", ip: ipRule{deny: true, status: http.StatusBadRequest}},
	{name: "invalid_ip_cloudflare", about: "behind Cloudflare without Trusted Proxies: WHMCS sees a Cloudflare address", ip: ipRule{deny: true, status: http.StatusForbidden, seen: "172.70.210.15"}, cloudflare: true},
	{name: "invalid_ip_lb", about: "behind a load balancer without Trusted Proxies: WHMCS sees the balancer's address", ip: ipRule{deny: true, status: http.StatusForbidden, seen: "10.20.0.5"}},
	{name: "restricted", about: "the API role allows only WhmcsDetails and GetProducts", role: role("whmcsdetails", "getproducts")},
	{name: "restricted_no_details", about: "the API role allows GetClients, GetClientsProducts and GetProducts but not WhmcsDetails", role: role("getclients", "getclientsproducts", "getproducts")},
	{name: "no_api_actions", about: "the credential's API role allows no action at all", role: role()},
	{name: "cloudflare_block", about: "a Cloudflare firewall rule blocks the call: HTML error 1020 page", front: cloudflareBlock},
	{name: "cloudflare_json", about: "a Cloudflare firewall rule blocks the call: JSON error (cloudflare_error) when the client accepts JSON", front: cloudflareJSON},
	{name: "cloudflare_challenge", about: "Cloudflare Bot Fight / Under Attack mode: a challenge page with cf-mitigated: challenge", front: cloudflareChallenge},
	{name: "modsecurity", about: "ModSecurity (OWASP CRS) on Apache denies the request: Apache's HTML 403", front: modSecurity},
	{name: "nginx_deny", about: "an nginx deny rule: nginx's HTML 403", front: nginxDeny},
	{name: "litespeed", about: "LiteSpeed Web Server denies the request (shared-hosting WAF)", front: liteSpeedDeny},
	{name: "empty_403", about: "a 403 with an empty body: fail2ban or a connection-level block", front: empty403},
	{name: "not_found", about: "no WHMCS at this path: Apache's 404", front: notFoundFront},
	{name: "maintenance", about: "WHMCS in maintenance mode / a login page: HTML at HTTP 200", front: maintenance},
	{name: "redirect_https", about: "the web server redirects http to https (301)", front: redirectHTTPS},
	{name: "redirect_path", about: "WHMCS moved: the path redirects (302) to /ok/", front: redirectPath},
	{name: "slow", about: "the server takes Options.SlowDelay to answer", front: slow},
	{name: "hangup", about: "the server closes the connection without answering", front: hangup},
	{name: "server_error", about: "PHP fails: WHMCS's 500 error page", front: serverError},
	{name: "bad_gateway", about: "the reverse proxy cannot reach PHP-FPM: nginx's 502", front: badGateway},
	{name: "unexpected", about: "something other than WHMCS answers JSON at HTTP 200", front: unexpected},
	{name: "oidc_missing", about: "the OpenID Connect discovery document is missing (404)", oidc: oidcMissing},
	{name: "oidc_issuer_mismatch", about: "the discovery document's issuer is not this install's System URL", oidc: oidcIssuerMismatch},
	{name: "oidc_no_keys", about: "the JWKS has no keys", oidc: oidcNoKeys},
	{name: "oidc_jwks_down", about: "the JWKS endpoint fails with HTTP 500", oidc: oidcJWKSDown},
	{name: "oidc_bad_key", about: "the JWKS holds a key without a usable RSA modulus", oidc: oidcBadKey},
}

var scenarios = func() map[string]*scenario {
	m := make(map[string]*scenario, len(scenarioList))
	for _, sc := range scenarioList {
		m[sc.name] = sc
	}
	return m
}()

// ScenarioInfo describes a scenario for humans (the demo, docs).
type ScenarioInfo struct {
	Name  string
	About string
}

// Scenarios lists every scenario, sorted by name.
func Scenarios() []ScenarioInfo {
	out := make([]ScenarioInfo, 0, len(scenarioList))
	for _, sc := range scenarioList {
		out = append(out, ScenarioInfo{Name: sc.name, About: sc.about})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (s *Server) versionOf(sc *scenario) string {
	if sc.version != "" {
		return sc.version
	}
	return s.opts.Version
}

// callerIP is the address WHMCS would see for r.
func callerIP(r *http.Request, sc *scenario) string {
	if sc.ip.seen != "" {
		return sc.ip.seen
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func slow(s *Server, w http.ResponseWriter, r *http.Request, base string) bool {
	t := time.NewTimer(s.opts.SlowDelay)
	defer t.Stop()
	select {
	case <-t.C:
		return false // then answer as WHMCS, late
	case <-r.Context().Done():
		return true
	}
}

func hangup(s *Server, w http.ResponseWriter, r *http.Request, base string) bool {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
	return true
}
