package whmcs

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"time"
)

// maxBody caps how much of a response is kept; API answers of the probed
// actions are small, and error pages are judged by their first bytes.
const maxBody = 1 << 20

// reply is everything one HTTP exchange told us, whatever its status.
type reply struct {
	action  string // API action, "" for OIDC requests
	url     string
	status  int
	header  http.Header
	body    []byte
	elapsed time.Duration
	err     error                // transport failure: no HTTP response
	tls     *tls.ConnectionState // nil over plain http
	localIP string               // our side of the connection
}

// client makes one run's requests. Each run gets a fresh transport, so a
// connection-level block (fail2ban on a long-lived keep-alive connection)
// cannot outlive one run, and never follows redirects: following one would
// turn the POST into a GET without the credentials.
type client struct {
	cfg  *config
	http *http.Client
}

func newClient(cfg *config) *client {
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSClientConfig:     cfg.tlsClient.Clone(),
		TLSHandshakeTimeout: cfg.RequestTimeout,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 1,
	}
	return &client{cfg: cfg, http: &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (c *client) close() { c.http.CloseIdleConnections() }

// api POSTs action with the credentials, form-encoded, asking for JSON.
func (c *client) api(ctx context.Context, action string, params map[string]string) *reply {
	form := url.Values{}
	form.Set("action", action)
	form.Set("identifier", c.cfg.Identifier.Reveal())
	form.Set("secret", c.cfg.Secret.Reveal())
	form.Set("responsetype", "json")
	if c.cfg.AccessKey != "" {
		form.Set("accesskey", c.cfg.AccessKey.Reveal())
	}
	for k, v := range params {
		form.Set(k, v)
	}
	r := c.do(ctx, http.MethodPost, c.cfg.endpoint.String(), strings.NewReader(form.Encode()))
	r.action = action
	return r
}

// get fetches a public document (OpenID Connect discovery, JWKS).
func (c *client) get(ctx context.Context, u string) *reply {
	return c.do(ctx, http.MethodGet, u, nil)
}

func (c *client) do(ctx context.Context, method, u string, body io.Reader) *reply {
	r := &reply{url: u}
	ctx, cancel := c.requestContext(ctx)
	defer cancel()
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			if a, ok := info.Conn.LocalAddr().(*net.TCPAddr); ok {
				r.localIP = a.IP.String()
			}
		},
	})
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		r.err = err
		return r
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	// Cloudflare answers its own errors in JSON when asked, which names the
	// error code; WHMCS answers JSON anyway.
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "pbxwatch-whmcs/1")
	began := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		r.elapsed = time.Since(began)
		r.err = err
		return r
	}
	defer resp.Body.Close()
	// Always read the body, whatever the status: WHMCS's 403 carries the
	// reason in it.
	r.body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	r.elapsed = time.Since(began)
	r.status, r.header, r.tls = resp.StatusCode, resp.Header, resp.TLS
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		r.err = err
	}
	return r
}

// requestContext bounds one request by request_timeout and ends it early
// enough before the run's deadline that the run can still report why.
func (c *client) requestContext(ctx context.Context) (context.Context, context.CancelFunc) {
	limit := c.cfg.RequestTimeout
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		reserve := min(left/10, time.Second)
		limit = min(limit, left-reserve)
	}
	return context.WithTimeout(ctx, limit)
}
