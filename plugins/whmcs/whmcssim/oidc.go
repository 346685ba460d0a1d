package whmcssim

import (
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
)

// discovery is oauth/openid-configuration.php, with the endpoints a live
// WHMCS 8 reports: issuer = System URL, one RS256 key at oauth/certs.php.
func (s *Server) discovery(w http.ResponseWriter, r *http.Request, sc *scenario, base string) {
	if sc.oidc == oidcMissing {
		apacheNotFound(w)
		return
	}
	root := baseURL(r, base)
	issuer := root
	if sc.oidc == oidcIssuerMismatch {
		// The System URL still names the old host.
		issuer = "https://old-billing.example.com/"
	}
	writeOIDC(w, http.StatusOK, map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                root + "oauth/authorize.php",
		"token_endpoint":                        root + "oauth/token.php",
		"userinfo_endpoint":                     root + "oauth/userinfo.php",
		"jwks_uri":                              root + "oauth/certs.php",
		"scopes_supported":                      []string{"openid", "profile", "email"},
		"response_types_supported":              []string{},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"claims_supported":                      []string{"iss", "aud", "exp", "sub"},
	})
}

// jwks is oauth/certs.php.
func (s *Server) jwks(w http.ResponseWriter, r *http.Request, sc *scenario) {
	pub := &s.key.PublicKey
	key := map[string]any{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "whmcs-sim-1",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
	switch sc.oidc {
	case oidcJWKSDown:
		serverError(s, w, r, "")
		return
	case oidcNoKeys:
		writeOIDC(w, http.StatusOK, map[string]any{"keys": []any{}})
		return
	case oidcBadKey:
		key["n"] = ""
	}
	writeOIDC(w, http.StatusOK, map[string]any{"keys": []any{key}})
}

func writeOIDC(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
