package freepbx

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/golang-jwt/jwt/v5"
)

// tokenTap remembers which token FreePBX issued in this run (its `jti` and
// `scopes` claims), so the server-side look-up can find its row in
// api_access_tokens. It keeps no token value.
type tokenTap struct {
	base     http.RoundTripper
	tokenURL string

	mu     sync.Mutex
	jti    string
	scopes []string
	issued bool
}

func (t *tokenTap) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || !sameEndpoint(req.URL, t.tokenURL) || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, nil
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	claims := jwt.MapClaims{}
	if json.Unmarshal(body, &tr) != nil {
		return resp, nil
	}
	if _, _, err := jwt.NewParser().ParseUnverified(tr.AccessToken, claims); err != nil {
		return resp, nil
	}
	jti, _ := claims["jti"].(string)
	var scopes []string
	if list, ok := claims["scopes"].([]any); ok {
		for _, s := range list {
			if str, ok := s.(string); ok {
				scopes = append(scopes, str)
			}
		}
	}
	t.mu.Lock()
	t.jti, t.scopes, t.issued = jti, scopes, true
	t.mu.Unlock()
	return resp, nil
}

// reset forgets the previous run's token.
func (t *tokenTap) reset() {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.jti, t.scopes, t.issued = "", nil, false
	t.mu.Unlock()
}

// issuedToken is what the tap saw: whether a token was issued, its jti and
// scopes.
func (t *tokenTap) issuedToken() (ok bool, jti string, scopes []string) {
	if t == nil {
		return false, "", nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.issued, t.jti, t.scopes
}

func sameEndpoint(u *url.URL, want string) bool {
	w, err := url.Parse(want)
	return err == nil && u.Scheme == w.Scheme && u.Host == w.Host && u.Path == w.Path
}
