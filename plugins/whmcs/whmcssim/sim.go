// Package whmcssim simulates a WHMCS installation's external API
// (includes/api.php) and OpenID Connect endpoints, and the layers in front of
// it (Cloudflare, ModSecurity, nginx, LiteSpeed, redirects), for the whmcs
// plugin's tests and `make demo`. It answers with the literal bodies and
// status codes WHMCS and those layers send, including WHMCS's \u0022
// escaping of quotes in JSON.
//
// One running simulator serves every scenario at once: the first path
// segment picks it, so a check configured with
//
//	url: http://127.0.0.1:9861/invalid_ip/
//
// talks to scenario invalid_ip. Paths without a known scenario segment are
// scenario "ok". Credentials are checked for real: a wrong identifier or
// secret gets the answer WHMCS gives, in every scenario.
//
//	sim := whmcssim.New(whmcssim.Options{})
//	srv := httptest.NewServer(sim)
//	// url: srv.URL + "/restricted/", identifier: whmcssim.DefaultIdentifier, secret: whmcssim.DefaultSecret
package whmcssim

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Credentials every simulated installation accepts unless Options say otherwise.
const (
	DefaultIdentifier = "pbxwatchSimIdentifier0123456789ab"
	DefaultSecret     = "pbxwatchSimSecret9f8e7d6c5b4a3210"
	// DefaultAccessKey is the $api_access_key of configuration.php.
	DefaultAccessKey = "sim-access-key!(2024)"
	// DefaultVersion is the WHMCS release scenarios run unless they pin one.
	DefaultVersion = "8.13.1"
)

// Options configure a simulator.
type Options struct {
	Identifier string
	Secret     string
	// AccessKey is configuration.php's $api_access_key; a request carrying
	// it as `accesskey` skips the IP allow-list, as in WHMCS.
	AccessKey string
	// Version is the WHMCS release of scenarios that do not pin one.
	Version string
	// SlowDelay is how long scenario "slow" stalls before answering.
	SlowDelay time.Duration
}

// Server is a simulated WHMCS web server. It is safe for concurrent use.
type Server struct {
	opts Options
	key  *rsa.PrivateKey // the OpenID Connect signing key (JWKS)
	mux  *http.ServeMux
}

// New returns a simulator.
func New(o Options) *Server {
	if o.Identifier == "" {
		o.Identifier = DefaultIdentifier
	}
	if o.Secret == "" {
		o.Secret = DefaultSecret
	}
	if o.AccessKey == "" {
		o.AccessKey = DefaultAccessKey
	}
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	if o.SlowDelay == 0 {
		o.SlowDelay = 5 * time.Second
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("whmcssim: generate RSA key: %v", err))
	}
	return &Server{opts: o, key: k}
}

// ServeHTTP picks the scenario from the first path segment, lets the layers
// in front of WHMCS (CDN, WAF, web server) answer first, then routes the rest
// of the path as a WHMCS install's web root would.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sc, base, rest := splitScenario(r.URL.Path)
	if sc.front != nil && sc.front(s, w, r, base) {
		return
	}
	switch {
	case rest == "includes/api.php":
		s.api(w, r, sc)
	case strings.HasPrefix(rest, "includes/api.php/"):
		// A doubled endpoint path: PHP runs api.php with PATH_INFO, and
		// WHMCS routes it to the admin-session handler before it ever
		// looks at the credentials, answering 200.
		writeJSON(w, http.StatusOK, sc, map[string]any{"result": "error", "message": "An admin user is required"})
	case rest == "oauth/openid-configuration.php":
		s.discovery(w, r, sc, base)
	case rest == "oauth/certs.php":
		s.jwks(w, r, sc)
	case rest == "" || rest == "index.php":
		clientArea(w)
	default:
		// Includes .well-known/openid-configuration, which exists only
		// when the admin adds the documented rewrite rule.
		apacheNotFound(w)
	}
}

// splitScenario returns the scenario named by the first path segment (or
// "ok"), the base path of the simulated install ("/" or "/<scenario>/") and
// the path below it.
func splitScenario(path string) (*scenario, string, string) {
	p := strings.TrimPrefix(path, "/")
	first, rest, _ := strings.Cut(p, "/")
	if first == "answer" {
		name, below, _ := strings.Cut(rest, "/")
		if a, ok := answers[name]; ok {
			return answerScenario(a), "/answer/" + name + "/", below
		}
	}
	if sc, ok := scenarios[first]; ok {
		return sc, "/" + first + "/", rest
	}
	return scenarios["ok"], "/", p
}

// baseURL is the simulated install's System URL as WHMCS would report it.
func baseURL(r *http.Request, base string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + base
}
