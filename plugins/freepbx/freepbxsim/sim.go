// Package freepbxsim simulates the FreePBX API module (OAuth2 token endpoint
// and GraphQL) of FreePBX 16 and 17, for the freepbx plugin's tests and
// `make demo`. It answers with the literal bodies and status codes the real
// module sends, issues real RS256-signed JWT access tokens with a `scopes`
// claim, and checks them on the GraphQL endpoint as FreePBX does.
//
// One running simulator serves every scenario: the client_id picks it.
// "17-missing_scope" runs scenario missing_scope with FreePBX 17 behaviour;
// a bare "missing_scope" uses Options.Version. On GraphQL requests the
// scenario comes from the bearer token's `aud` claim (the client_id FreePBX
// puts there). Unknown client ids get invalid_client, as on FreePBX.
//
//	sim := freepbxsim.New(freepbxsim.Options{})
//	srv := httptest.NewServer(sim)
//	// url: srv.URL, client_id: "16-ok", client_secret: freepbxsim.DefaultSecret
package freepbxsim

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Version selects which FreePBX release the simulator behaves like.
type Version int

const (
	// V16 is FreePBX 16: api 16.0.x, league/oauth2-server 6.1.1, Slim 3.
	V16 Version = 16
	// V17 is FreePBX 17: api 17.0.x, league/oauth2-server 8.5.4, Slim 4.
	V17 Version = 17
)

// DefaultSecret is the client secret every simulated application has unless
// Options.Secret says otherwise.
const DefaultSecret = "0b6c3f2e9d8a47c1b5e4f3a2d1c0b9a8"

// Options configure a simulator.
type Options struct {
	// Version applies to client ids without a "16-"/"17-" prefix; default 17.
	Version Version
	// Secret is every application's client secret; default DefaultSecret.
	Secret string
	// SlowDelay is how long scenario "slow" stalls; default 5s.
	SlowDelay time.Duration
	// Extensions the PBX has (extensionId); default 2000, 2001, 2002.
	Extensions []string
	// Now is the simulator's clock; default time.Now.
	Now func() time.Time
	// OnIssue, when set, is called with every access token issued and
	// stored, as FreePBX's AccessTokenRepository writes api_access_tokens:
	// tests keep a real database consistent with the simulator through it.
	OnIssue func(clientID, jti string, scopes []string, expiry time.Time)
}

// Server is a simulated FreePBX web server. It is safe for concurrent use.
type Server struct {
	opts Options
	key  *rsa.PrivateKey
	// otherKey signs tokens of scenario key_changed: FreePBX regenerated
	// api_oauth.key, so tokens no longer verify.
	otherKey *rsa.PrivateKey

	mu     sync.Mutex
	issued map[string]time.Time // jti -> expiry, the api_access_tokens table
	byConn map[string]string    // remote address -> last client id seen
}

// New returns a simulator with a fresh RSA key pair.
func New(o Options) *Server {
	if o.Version == 0 {
		o.Version = V17
	}
	if o.Secret == "" {
		o.Secret = DefaultSecret
	}
	if o.SlowDelay == 0 {
		o.SlowDelay = 5 * time.Second
	}
	if o.Extensions == nil {
		o.Extensions = []string{"2000", "2001", "2002"}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Server{opts: o, key: mustKey(), otherKey: mustKey(), issued: map[string]time.Time{}, byConn: map[string]string{}}
}

func mustKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("freepbxsim: generate RSA key: %v", err))
	}
	return k
}

// PublicKey is the key FreePBX would keep in api_oauth_public.key.
func (s *Server) PublicKey() *rsa.PublicKey { return &s.key.PublicKey }

// sessionCommands are api module commands that exist but need a logged-in
// GUI session (ajaxRequest's default settings: authenticate, no remote).
var sessionCommands = map[string]bool{
	"add_application": true, "remove_application": true, "regenerate_application": true,
	"remove_access_token": true, "remove_refresh_token": true, "getApplications": true, "getTokens": true,
	"getRefreshTokens": true, "getScopes": true, "getJSTreeScopes": true, "generatedocs": true, "getAccessToken": true,
}

// ServeHTTP routes as FreePBX's .htaccess and ajax.php do:
// /admin/api/<module>/<command>/<route> and /admin/ajax.php?module=&command=.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	module, command, ok := route(r)
	if !ok {
		notFound(w)
		return
	}
	v, sc := s.scenarioOf(r)
	if sc.answer != nil && serveAnswer(w, r, sc.answer, command) {
		return
	}
	viaRewrite := strings.HasPrefix(r.URL.Path, "/admin/api/")
	switch {
	case sc.notFreePBX:
		notFound(w)
		return
	case viaRewrite && sc.rewriteOff:
		// Apache ignores admin/api/.htaccess: /admin/api/api/token is a
		// path to a file that does not exist.
		notFound(w)
		return
	case viaRewrite && sc.multiViews:
		// ... and MultiViews maps /admin/api/api/<x> to admin/api/api.php
		// with PATH_INFO: ajax.php gets no module, uses "framework" with
		// command "unset", which the framework declines.
		ajaxError(w, http.StatusForbidden, "ajaxRequest declined")
		return
	case sc.noAPIModule && module == "api":
		// ajax.php cannot load admin/modules/api/Api.class.php: Self_Helper
		// throws, and ajax.php's Whoops JsonResponseHandler answers.
		whoopsJSON(w, "Exception", "Attempted to load Api with a hint of /var/www/html/admin/modules/api/Api.class.php and it didn't exist", "/var/www/html/admin/libraries/BMO/Self_Helper.class.php", 132)
		return
	}
	switch {
	case module != "api":
		ajaxError(w, http.StatusForbidden, "ajaxRequest declined")
	case command == "token":
		s.token(w, r, v, sc)
	case command == "gql":
		s.gql(w, r, v, sc)
	case sessionCommands[command]:
		// CHECKREFERER is on by default; API clients send no Referer.
		if !sc.checkRefererOff && r.Header.Get("Referer") == "" {
			ajaxError(w, http.StatusForbidden, "ajaxRequest declined - Referrer")
			return
		}
		ajaxError(w, http.StatusUnauthorized, "Not Authenticated")
	default:
		// authorize and rest exist but are out of the simulator's scope;
		// anything else (resource, graphql, typos) the module declines.
		ajaxError(w, http.StatusForbidden, "ajaxRequest declined")
	}
}

// route extracts the module and command FreePBX's ajax.php would see.
func route(r *http.Request) (module, command string, ok bool) {
	if r.URL.Path == "/admin/ajax.php" {
		q := r.URL.Query()
		return q.Get("module"), q.Get("command"), q.Get("module") != "" && q.Get("command") != ""
	}
	rest, found := strings.CutPrefix(r.URL.Path, "/admin/api/")
	if !found {
		return "", "", false
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// ajaxError writes what FreePBX's Ajax::ajaxError sends.
func ajaxError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"error":%q}`, msg)
}

func notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprint(w, `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>404 Not Found</title>
</head><body>
<h1>Not Found</h1>
<p>The requested URL was not found on this server.</p>
<hr>
<address>Apache/2.4.62 (Debian) Server at 127.0.0.1 Port 80</address>
</body></html>
`)
}

// whoopsJSON writes what the framework's Whoops JsonResponseHandler sends
// for an exception ajax.php did not catch.
func whoopsJSON(w http.ResponseWriter, class, msg, file string, line int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, `{"error":{"type":%s,"message":%s,"code":0,"file":%s,"line":%d}}`, jsonString(class), jsonString(msg), jsonString(file), line)
}

// scenarioOf finds the scenario from the client_id of a token request or the
// aud claim of a bearer token.
func (s *Server) scenarioOf(r *http.Request) (Version, scenario) {
	id := ""
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if err := r.ParseForm(); err == nil {
			id = r.PostForm.Get("client_id")
		}
	}
	if id == "" {
		if u, _, ok := r.BasicAuth(); ok {
			id = u
		}
	}
	if id == "" {
		id = audience(r.Header.Get("Authorization"))
	}
	// A request without credentials (the check's GET of ajax.php after a
	// 404) belongs to the scenario the same connection used last.
	s.mu.Lock()
	if id == "" {
		id = s.byConn[r.RemoteAddr]
	} else {
		if len(s.byConn) > 10000 {
			clear(s.byConn) // a long-running demo must not grow without bound
		}
		s.byConn[r.RemoteAddr] = id
	}
	s.mu.Unlock()
	return s.lookup(id)
}

// lookup parses "[16-|17-]name".
func (s *Server) lookup(clientID string) (Version, scenario) {
	v, name := s.opts.Version, clientID
	switch {
	case strings.HasPrefix(clientID, "16-"):
		v, name = V16, clientID[3:]
	case strings.HasPrefix(clientID, "17-"):
		v, name = V17, clientID[3:]
	}
	if a, ok := answers[strings.TrimPrefix(name, "answer.")]; ok && strings.HasPrefix(name, "answer.") {
		return v, scenario{answer: a, allowed: a.Scopes}
	}
	sc, ok := scenarios[name]
	if !ok {
		return v, scenario{unknown: true}
	}
	return v, sc
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// audience returns the aud claim of a bearer token without verifying it:
// only to pick the scenario; bearer() does the real validation.
func audience(authorization string) string {
	raw, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		return ""
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(strings.TrimSpace(raw), claims); err != nil {
		return ""
	}
	aud, _ := claims.GetAudience()
	if len(aud) == 0 {
		return ""
	}
	return aud[0]
}
