package freepbx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// grantedToken is what the check learns from a token response.
type grantedToken struct {
	access string
	scopes []string
	expiry time.Time
}

// fetchToken runs the client_credentials grant. The client id and secret
// go in the form body (client_secret_post): FreePBX's own OAuth client does
// so, both league/oauth2-server versions read the body first, and it works
// where a web server in front of /admin consumes HTTP Basic credentials.
// On failure the returned exchange holds the response (or transport error)
// to classify; the oauth2 library's own error flattens it.
func fetchToken(ctx context.Context, client *http.Client, rec *recorder, c *config) (*grantedToken, *exchange, error) {
	cc := clientcredentials.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret.Reveal(),
		TokenURL:     c.TokenURL,
		Scopes:       c.Scopes,
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, client))
	ex := rec.lastExchange()
	if err != nil {
		return nil, ex, err
	}
	g, err := readClaims(tok.AccessToken)
	if err != nil {
		return nil, ex, err
	}
	return g, ex, nil
}

// errNotJWT marks a 200 token response whose access_token FreePBX could not
// have issued.
var errNotJWT = errors.New("the access_token is not a JWT")

// readClaims reads the granted scopes and expiry from the token's claims.
// The signature is not checked: FreePBX does that; the check only needs to
// see what FreePBX granted.
func readClaims(access string) (*grantedToken, error) {
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(access, claims); err != nil {
		return nil, fmt.Errorf("%w: %v", errNotJWT, err)
	}
	g := &grantedToken{access: access}
	raw, ok := claims["scopes"].([]any)
	if !ok {
		return nil, fmt.Errorf("%w: it has no scopes claim", errNotJWT)
	}
	for _, s := range raw {
		if str, ok := s.(string); ok {
			g.scopes = append(g.scopes, str)
		}
	}
	// FreePBX 17 (lcobucci/jwt 5) writes fractional timestamps; jwt's
	// NumericDate takes both.
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		g.expiry = exp.Time
	}
	return g, nil
}
