package freepbxsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// moduleScopes are the scope keys each simulated module's API classes
// declare (getScopes), as in FreePBX core and framework.
var moduleScopes = map[string][]string{
	"core":      {"read:extension", "write:extension", "read:users", "write:users"},
	"framework": {"read:system", "write:system"},
}

// validScope reports whether s is in FreePBX's flattened scope list
// (Api::getFlattenedScopes): gql, rest, <type>:<module>, <type>:<module>:read,
// <type>:<module>:write and <type>:<module>:<key>.
func validScope(sc scenario, s string) bool {
	parts := strings.SplitN(s, ":", 3)
	if parts[0] != "gql" && parts[0] != "rest" {
		return false
	}
	if len(parts) == 1 {
		return true
	}
	keys, ok := moduleScopes[parts[1]]
	if !ok || (parts[1] == "core" && sc.coreDisabled) {
		return false
	}
	if len(parts) == 2 || parts[2] == "read" || parts[2] == "write" {
		return true
	}
	return slices.Contains(keys, parts[2])
}

// withinAllowed is FreePBX 16's ScopeRepository::checkScope: a requested
// scope must equal an allowed one or lie below it.
func withinAllowed(allowed []string, s string) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, a := range allowed {
		if s == a || strings.HasPrefix(s, a+":") {
			return true
		}
	}
	return false
}

// oauthError is an OAuthServerException as league/oauth2-server renders it.
type oauthError struct {
	status          int
	code, msg, hint string
	hint17          string // league 8.5.4 words some hints differently
	wwwAuthenticate bool
}

var (
	errInvalidClient = oauthError{status: 401, code: "invalid_client", msg: "Client authentication failed", wwwAuthenticate: true}
	errMissingClient = oauthError{status: 400, code: "invalid_request",
		msg:  "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.",
		hint: "Check the `client_id` parameter"}
	errUnsupportedGrant = oauthError{status: 400, code: "unsupported_grant_type",
		msg:  "The authorization grant type is not supported by the authorization server.",
		hint: "Check the `grant_type` parameter", hint17: "Check that all required parameters have been provided"}
)

func errInvalidScope(scope string) oauthError {
	return oauthError{status: 400, code: "invalid_scope", msg: "The requested scope is invalid, unknown, or malformed",
		hint: fmt.Sprintf("Check the `%s` scope", scope)}
}

// write renders the error with the field set and order of league 6.1.1
// (FreePBX 16) or 8.5.4 (FreePBX 17).
func (e oauthError) write(w http.ResponseWriter, v Version) {
	var body string
	if v == V16 {
		body = fmt.Sprintf(`{"error":%s,"message":%s`, jsonString(e.code), jsonString(e.msg))
		if e.hint != "" {
			body += `,"hint":` + jsonString(e.hint)
		}
	} else {
		hint := e.hint
		if e.hint17 != "" {
			hint = e.hint17
		}
		body = fmt.Sprintf(`{"error":%s,"error_description":%s`, jsonString(e.code), jsonString(e.msg))
		if hint != "" {
			body += `,"hint":` + jsonString(hint)
		}
		body += `,"message":` + jsonString(e.msg)
	}
	if e.wwwAuthenticate {
		w.Header().Set("WWW-Authenticate", `Basic realm="OAuth"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	fmt.Fprint(w, body+"}")
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// token answers POST /admin/api/api/token like Oauth::access_token with the
// client_credentials grant.
func (s *Server) token(w http.ResponseWriter, r *http.Request, v Version, sc scenario) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, v)
		return
	}
	switch {
	case sc.ssoLogin:
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		fmt.Fprint(w, "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><form method=\"post\" action=\"/sso/login\"><input name=\"user\"><input name=\"pass\" type=\"password\"></form></body></html>\n")
		return
	case sc.slow:
		select {
		case <-time.After(s.opts.SlowDelay):
		case <-r.Context().Done():
			return
		}
	case sc.htmlLogin:
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		fmt.Fprint(w, "<!DOCTYPE html>\n<html><head><title>FreePBX Administration</title></head><body><form id=\"loginform\" method=\"post\"><input name=\"username\"><input name=\"password\" type=\"password\"></form></body></html>\n")
		return
	case sc.brokenKey && sc.debugPage:
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, "<!DOCTYPE html>\n<html><head><title>Whoops! There was an error.</title></head><body>\n")
		fmt.Fprint(w, "<div class=\"exception-message\">Key path &quot;file:///etc/asterisk/keys/api_oauth.key&quot; does not exist or is not readable</div>\n")
		fmt.Fprint(w, "<div class=\"data-table\" id=\"sg-post-data\"><label>POST Data</label><table>\n")
		for _, k := range []string{"grant_type", "client_id", "client_secret", "scope"} {
			fmt.Fprintf(w, "<tr><td>%s</td><td>%s</td></tr>\n", k, html.EscapeString(r.PostForm.Get(k)))
		}
		fmt.Fprint(w, "</table></div></body></html>\n")
		return
	case sc.brokenKey:
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `Key path "file:///etc/asterisk/keys/api_oauth.key" does not exist or is not readable`)
		return
	}
	if err := r.ParseForm(); err != nil {
		errMissingClient.write(w, v)
		return
	}
	// league reads client_id/client_secret from the body and falls back to
	// HTTP Basic.
	id, secret, _ := r.BasicAuth()
	if f := r.PostForm.Get("client_id"); f != "" {
		id = f
	}
	if f := r.PostForm.Get("client_secret"); f != "" {
		secret = f
	}
	grant := r.PostForm.Get("grant_type")
	switch {
	case grant != "client_credentials" || sc.noCCGrant:
		errUnsupportedGrant.write(w, v)
	case id == "":
		errMissingClient.write(w, v)
	case sc.unknown || (secret != s.opts.Secret && !(v == V17 && sc.anySecret)):
		errInvalidClient.write(w, v)
	case v == V16 && sc.appGrant != "" && sc.appGrant != grant:
		// 16's ClientRepository compares the app's stored grant type.
		errInvalidClient.write(w, v)
	default:
		scopes, oerr := grantScopes(v, sc, strings.Fields(r.PostForm.Get("scope")))
		if oerr != nil {
			oerr.write(w, v)
			return
		}
		s.issue(w, v, sc, id, scopes)
	}
}

// methodNotAllowed is the API router's answer to a GET of a POST route:
// Slim 3 (FreePBX 16) answers 405 itself; Slim 4 (17) throws, and the
// framework's Whoops handler answers 500.
func methodNotAllowed(w http.ResponseWriter, v Version) {
	if v == V16 {
		w.Header().Set("Allow", "POST")
		http.Error(w, "Method not allowed. Must be one of: POST", http.StatusMethodNotAllowed)
		return
	}
	whoopsJSON(w, `Slim\Exception\HttpMethodNotAllowedException`, "Method not allowed. Must be one of: POST", "/var/www/html/admin/modules/api/vendor/slim/slim/Slim/Middleware/RoutingMiddleware.php", 79)
}

// grantScopes is ScopeRepository: validate the requested scopes and decide
// what the token gets.
func grantScopes(v Version, sc scenario, requested []string) ([]string, *oauthError) {
	for _, s := range requested {
		if !validScope(sc, s) {
			e := errInvalidScope(s)
			return nil, &e
		}
	}
	if len(requested) == 0 {
		if len(sc.allowed) == 0 {
			return []string{"gql", "rest"}, nil
		}
		return sc.allowed, nil
	}
	if v == V16 {
		// 17.0 has this check commented out and grants any valid scope.
		for _, s := range requested {
			if !withinAllowed(sc.allowed, s) {
				e := errInvalidScope(s)
				return nil, &e
			}
		}
	}
	return requested, nil
}

// issue signs and returns an access token (BearerTokenResponse).
func (s *Server) issue(w http.ResponseWriter, v Version, sc scenario, clientID string, scopes []string) {
	now := s.opts.Now()
	exp := now.Add(time.Hour)
	jti := randomHex(40)
	claims := jwt.MapClaims{"aud": clientID, "jti": jti, "sub": "", "scopes": scopes}
	if v == V16 {
		claims["iat"], claims["nbf"], claims["exp"] = now.Unix(), now.Unix(), exp.Unix()
	} else {
		// lcobucci/jwt 5 keeps microseconds: FreePBX 17 tokens carry
		// fractional timestamps.
		claims["iat"], claims["nbf"], claims["exp"] = microTime(now), microTime(now), microTime(exp)
	}
	key := s.key
	if sc.keyChanged {
		key = s.otherKey
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if !sc.revoked {
		s.mu.Lock()
		s.issued[jti] = exp
		s.mu.Unlock()
		if s.opts.OnIssue != nil {
			s.opts.OnIssue(clientID, jti, scopes, exp)
		}
	}
	w.Header().Set("Pragma", "no-cache")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":%d,"access_token":%s}`, int(exp.Sub(now).Seconds()), jsonString(signed))
}

func microTime(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }

// bearer validates the request's access token as BearerTokenValidator does
// and returns the token's scopes, or the hint of the access_denied error.
func (s *Server) bearer(r *http.Request, v Version) (scopes []string, hint string) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, `Missing "Authorization" header`
	}
	raw := strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return &s.key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(s.opts.Now))
	switch {
	case errors.Is(err, jwt.ErrTokenExpired) || errors.Is(err, jwt.ErrTokenNotValidYet):
		if v == V16 {
			return nil, "Access token is invalid"
		}
		return nil, "Access token could not be verified"
	case err != nil:
		return nil, "Access token could not be verified"
	}
	jti, _ := claims["jti"].(string)
	s.mu.Lock()
	exp, ok := s.issued[jti]
	if ok && !exp.After(s.opts.Now()) {
		delete(s.issued, jti) // isRevoked() purges expired rows first
		ok = false
	}
	s.mu.Unlock()
	if !ok {
		return nil, "Access token has been revoked"
	}
	list, _ := claims["scopes"].([]any)
	for _, x := range list {
		if str, ok := x.(string); ok {
			scopes = append(scopes, str)
		}
	}
	return scopes, ""
}

// accessDenied writes the rejection of a bearer token on the GraphQL
// endpoint. FreePBX 16 answers 401 JSON; 17 calls the validator outside any
// try/catch, so the exception reaches the framework's Whoops JSON handler
// and the client gets a 500.
func accessDenied(w http.ResponseWriter, v Version, hint string) {
	const msg = "The resource owner or authorization server denied the request."
	w.Header().Set("Content-Type", "application/json")
	if v == V16 {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":"access_denied","message":%s,"hint":%s}`, jsonString(msg), jsonString(hint))
		return
	}
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, `{"error":{"type":"League\\OAuth2\\Server\\Exception\\OAuthServerException","message":%s,"code":9,"file":"\/var\/www\/html\/admin\/modules\/api\/vendor\/league\/oauth2-server\/src\/Exception\/OAuthServerException.php","line":243}}`, jsonString(msg))
}
