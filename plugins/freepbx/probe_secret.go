package freepbx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// probeWrongSecret asks for a token with a secret FreePBX cannot have
// issued. An api module that issues one validates no secret at all. It
// runs only after the real secret got a token (the client id is known) and
// only when probe_wrong_secret is set: a token issued to the probe is
// stored by FreePBX like any other, and lives its hour.
func (c *checker) probeWrongSecret(ctx context.Context, res *sdk.Result, apiVersion string) *sdk.Diagnosis {
	ctx, cancel := withMargin(ctx)
	defer cancel()
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	wrong := "pbxwatch-wrong-secret-" + hex.EncodeToString(b)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.cfg.ClientID}, "client_secret": {wrong}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	c.tap.reset()
	resp, err := c.client.Do(req)
	if err != nil {
		sdk.Logger().Warn("wrong-secret probe failed", "err", sdk.Scrub(err.Error()))
		return nil
	}
	resp.Body.Close()
	accepted, _, _ := c.tap.issuedToken()
	v := 0.0
	if accepted {
		v = 1
	}
	res.AddGauge("freepbx_wrong_secret_accepted", "1 if FreePBX issued a token for a deliberately wrong client secret (probe_wrong_secret).", v, nil)
	if !accepted {
		return nil
	}
	d := diagWrongSecretAccepted(&c.cfg, apiVersion)
	return &d
}
