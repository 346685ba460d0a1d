package whmcs

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"slices"
	"strings"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// OpenID Connect: WHMCS publishes its discovery document at
// oauth/openid-configuration.php (/.well-known/openid-configuration only
// with an .htaccess rewrite) and its signing keys at the jwks_uri it names.
// Both are public: no credential is sent.

const discoveryPath = "oauth/openid-configuration.php"

type discoveryDoc struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	UserinfoEndpoint      string   `json:"userinfo_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	SigningAlgs           []string `json:"id_token_signing_alg_values_supported"`
}

type jwk struct {
	Kty string `json:"kty"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
}

func (r *run) checkOIDC(ctx context.Context) {
	discURL := r.cfg.root.JoinPath(discoveryPath).String()
	rep := r.client.get(ctx, discURL)
	doc, problems := r.readDiscovery(rep)
	ok := len(problems) == 0
	if !ok {
		r.diagnose(r.discoveryFailed(rep, problems))
	}
	if doc != nil && doc.JWKSURI != "" {
		if d := r.checkKeys(ctx, doc.JWKSURI); d != nil {
			r.diagnose(d)
			ok = false
		}
	}
	r.res.AddGauge("whmcs_oidc_up", "1 when the OpenID Connect discovery document and signing keys are usable.", boolGauge(ok), nil)
}

// readDiscovery fetches and vets the discovery document; doc is nil when
// there is none to read.
func (r *run) readDiscovery(rep *reply) (*discoveryDoc, []string) {
	switch {
	case rep.status == 0:
		return nil, []string{"request failed: " + rootCause(rep.err)}
	case rep.status >= 300 && rep.status < 400:
		return nil, []string{fmt.Sprintf("HTTP %d redirect to %s", rep.status, r.field(rep.header.Get("Location")))}
	case rep.status != 200:
		return nil, []string{fmt.Sprintf("HTTP %d %s", rep.status, pageTitle(rep.body))}
	}
	var doc discoveryDoc
	if err := json.Unmarshal(rep.body, &doc); err != nil {
		return nil, []string{"the answer is not JSON: " + r.excerpt(rep.body)}
	}
	var problems []string
	for name, v := range map[string]string{"issuer": doc.Issuer, "authorization_endpoint": doc.AuthorizationEndpoint, "token_endpoint": doc.TokenEndpoint, "jwks_uri": doc.JWKSURI} {
		if v == "" {
			problems = append(problems, name+" is missing")
		}
	}
	if doc.Issuer != "" && strings.TrimSuffix(doc.Issuer, "/") != strings.TrimSuffix(r.cfg.root.String(), "/") {
		problems = append(problems, fmt.Sprintf("issuer %s is not this install's address %s: clients that validate the ID token's iss claim reject every login", doc.Issuer, r.cfg.root))
	}
	if len(doc.SigningAlgs) > 0 && !slices.Contains(doc.SigningAlgs, "RS256") {
		problems = append(problems, fmt.Sprintf("id_token_signing_alg_values_supported %v lacks RS256, which WHMCS signs with", doc.SigningAlgs))
	}
	if r.cfg.root.Scheme == "https" {
		for name, v := range map[string]string{"authorization_endpoint": doc.AuthorizationEndpoint, "token_endpoint": doc.TokenEndpoint, "jwks_uri": doc.JWKSURI} {
			if strings.HasPrefix(v, "http://") {
				problems = append(problems, name+" is plain http: OpenID Connect requires https")
			}
		}
	}
	slices.Sort(problems)
	return &doc, problems
}

func (r *run) discoveryFailed(rep *reply, problems []string) *sdk.Diagnosis {
	p := pagesFor(r.version)
	d := map[string]string{"url": rep.url, "problems": strings.Join(problems, "; ")}
	if rep.status != 0 {
		d["http_status"] = fmt.Sprint(rep.status)
	}
	steps := []string{}
	if rep.status == 404 {
		steps = append(steps,
			fmt.Sprintf("Check that %s exists in the WHMCS root (an incomplete upload after an update misses it) and that no web server or WAF rule blocks /oauth/.", discoveryPath),
			"Clients must use "+rep.url+": /.well-known/openid-configuration exists only if you add WHMCS's rewrite rule `RewriteRule ^.well-known/openid-configuration ./oauth/openid-configuration.php [L,NC]` to .htaccess.",
		)
	}
	for _, pr := range problems {
		if strings.HasPrefix(pr, "issuer") {
			steps = append(steps, fmt.Sprintf("WHMCS takes the issuer from the System URL: set System URL in %s to %s (with https), Save, and re-check.", p.general, r.cfg.root))
			break
		}
	}
	steps = append(steps,
		fmt.Sprintf("Review the OpenID Connect setup in %s (client credentials and Authorized Redirect URIs).", p.openID),
		"If this install does not offer OpenID Connect logins, set oidc: false in this check's config.",
	)
	return &sdk.Diagnosis{
		Code: "whmcs.oidc_discovery_failed", Severity: sdk.SeverityCritical,
		Message:     fmt.Sprintf("The OpenID Connect discovery document at %s is unusable: %s. Applications that sign users in with WHMCS cannot find or trust its endpoints.", rep.url, strings.Join(problems, "; ")),
		Remediation: steps, Details: d,
	}
}

// checkKeys fetches the JWKS and returns a diagnosis unless it holds at
// least one usable RS256 signing key.
func (r *run) checkKeys(ctx context.Context, jwksURI string) *sdk.Diagnosis {
	u, err := url.Parse(jwksURI)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return r.keysInvalid(jwksURI, nil, []string{fmt.Sprintf("jwks_uri %q is not an http(s) URL", jwksURI)})
	}
	rep := r.client.get(ctx, jwksURI)
	if rep.status != 200 {
		why := fmt.Sprintf("HTTP %d %s", rep.status, pageTitle(rep.body))
		if rep.status == 0 {
			why = "request failed: " + rootCause(rep.err)
		}
		return r.keysInvalid(jwksURI, rep, []string{why})
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(rep.body, &set); err != nil {
		return r.keysInvalid(jwksURI, rep, []string{"the answer is not a JSON Web Key Set: " + r.excerpt(rep.body)})
	}
	if len(set.Keys) == 0 {
		return r.keysInvalid(jwksURI, rep, []string{"the key set is empty"})
	}
	var problems []string
	for i, k := range set.Keys {
		if msg := keyProblem(k); msg != "" {
			problems = append(problems, fmt.Sprintf("key %d (kid %q): %s", i, k.Kid, msg))
		} else {
			return nil
		}
	}
	return r.keysInvalid(jwksURI, rep, problems)
}

// keyProblem says why a JWK cannot verify WHMCS's RS256 ID tokens, or "".
func keyProblem(k jwk) string {
	switch {
	case k.Kty != "RSA":
		return fmt.Sprintf("kty %q, want RSA", k.Kty)
	case k.Use != "" && k.Use != "sig":
		return fmt.Sprintf("use %q, want sig", k.Use)
	case k.Alg != "" && k.Alg != "RS256":
		return fmt.Sprintf("alg %q, want RS256", k.Alg)
	}
	n, errN := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.N, "="))
	e, errE := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.E, "="))
	switch {
	case errN != nil || len(n) == 0:
		return "modulus n is missing or not base64url"
	case errE != nil || len(e) == 0:
		return "exponent e is missing or not base64url"
	case new(big.Int).SetBytes(n).BitLen() < 2048:
		return fmt.Sprintf("RSA modulus of %d bits, want at least 2048", new(big.Int).SetBytes(n).BitLen())
	}
	return ""
}

func (r *run) keysInvalid(jwksURI string, rep *reply, problems []string) *sdk.Diagnosis {
	p := pagesFor(r.version)
	d := map[string]string{"jwks_uri": jwksURI, "problems": strings.Join(problems, "; ")}
	if rep != nil && rep.status != 0 {
		d["http_status"] = fmt.Sprint(rep.status)
	}
	return &sdk.Diagnosis{
		Code: "whmcs.oidc_keys_invalid", Severity: sdk.SeverityCritical,
		Message: fmt.Sprintf("WHMCS's OpenID Connect signing keys at %s are unusable: %s. Applications cannot verify ID tokens, so WHMCS logins fail.", jwksURI, strings.Join(problems, "; ")),
		Remediation: []string{
			fmt.Sprintf("Open %s in a browser: it must return {\"keys\":[{\"kty\":\"RSA\",\"alg\":\"RS256\",\"n\":...,\"e\":...}]}. A PHP error there shows in the WHMCS server's PHP error log.", jwksURI),
			"Check that oauth/certs.php exists in the WHMCS root and that no web server or WAF rule blocks /oauth/.",
			fmt.Sprintf("If the keys are missing or broken after a migration or database restore, review the OpenID Connect setup in %s and contact WHMCS support to regenerate the RSA key pair.", p.openID),
		},
		Details: d,
	}
}
