package remotewrite

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"

	promconfig "github.com/prometheus/common/config"

	"github.com/pbxwatch/pbxwatch/sdk/buildversion"
	"github.com/pbxwatch/pbxwatch/sdk/scrub"
)

// Headers of the protocol.
const (
	versionHeader = "X-Prometheus-Remote-Write-Version"
	protoVersion  = "0.1.0" // what Remote-Write 1.0 senders send
	// writtenHeader is how a Remote-Write 2.0 receiver says how many
	// samples it stored; a 1.0 receiver does not send it.
	writtenHeader = "X-Prometheus-Remote-Write-Samples-Written"
	// maxQuote bounds how much of a receiver's answer is quoted in the log
	// and on the status page.
	maxQuote = 512
	// maxRetryAfter caps a receiver's Retry-After: a receiver asking for an
	// hour must not park the queue that long unseen.
	maxRetryAfter = 5 * time.Minute
)

// outcome is what became of one request.
type outcome int

const (
	stored    outcome = iota // 2xx, and not "nothing written"
	retry                    // 5xx, 429, network or TLS trouble, nothing written: keep and retry
	permanent                // other 4xx: drop, do not retry
)

// result is one request's outcome and its diagnosis.
type result struct {
	outcome    outcome
	status     int           // HTTP status, 0 if none came
	retryAfter time.Duration // from the receiver's Retry-After
	diagnosis  string        // in words, for the log and status page
	quote      string        // the receiver's own words, bounded and scrubbed
}

// client sends request bodies to one receiver.
type client struct {
	url     string
	safeURL string
	http    *http.Client
	headers map[string]string
	timeout time.Duration
	secrets *scrub.Set
}

func newClient(cfg Config, credentialsDir string) (*client, error) {
	hc := promconfig.HTTPClientConfig{
		BearerTokenFile: resolveFile(cfg.BearerTokenFile, credentialsDir),
		TLSConfig: promconfig.TLSConfig{
			CAFile: resolveFile(cfg.TLSConfig.CAFile, credentialsDir), CertFile: resolveFile(cfg.TLSConfig.CertFile, credentialsDir),
			KeyFile: resolveFile(cfg.TLSConfig.KeyFile, credentialsDir), ServerName: cfg.TLSConfig.ServerName,
			InsecureSkipVerify: cfg.TLSConfig.InsecureSkipVerify,
		},
		FollowRedirects: false, // a redirected POST loses its body: say so instead
		EnableHTTP2:     true,
	}
	secrets := &scrub.Set{}
	if b := cfg.BasicAuth; b != nil {
		hc.BasicAuth = &promconfig.BasicAuth{Username: b.Username, PasswordFile: resolveFile(b.PasswordFile, credentialsDir)}
		secrets.Add(readSecret(hc.BasicAuth.PasswordFile))
	}
	secrets.Add(readSecret(hc.BearerTokenFile))
	for _, v := range cfg.Headers {
		secrets.Add(v)
	}
	if err := hc.Validate(); err != nil {
		return nil, fmt.Errorf("remote_write %s: %w", SafeURL(cfg.URL), err)
	}
	rt, err := promconfig.NewRoundTripperFromConfig(hc, "remote_write")
	if err != nil {
		return nil, fmt.Errorf("remote_write %s: %s", SafeURL(cfg.URL), secrets.String(err.Error()))
	}
	return &client{
		url: cfg.URL, safeURL: SafeURL(cfg.URL), http: &http.Client{Transport: rt},
		headers: cfg.Headers, timeout: cfg.RemoteTimeout, secrets: secrets,
	}, nil
}

// resolveFile finds a relative *_file as the plugins do: systemd's
// $CREDENTIALS_DIRECTORY first (also as credentials_<name>, the whole
// directory loaded under one ID), then credentials/ beside the config.
func resolveFile(name, credentialsDir string) string {
	if name == "" || filepath.IsAbs(name) {
		return name
	}
	var candidates []string
	if d := os.Getenv("CREDENTIALS_DIRECTORY"); d != "" {
		candidates = append(candidates, filepath.Join(d, name), filepath.Join(d, "credentials_"+name))
	}
	candidates = append(candidates, filepath.Join(credentialsDir, name))
	for _, p := range candidates {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return candidates[len(candidates)-1]
}

// readSecret reads a secret file for scrubbing only (the round tripper
// reads it itself, again when it changes).
func readSecret(path string) string {
	if path == "" {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, 64<<10))
	return strings.TrimSpace(string(b))
}

// send posts one request body and tells what became of it.
func (c *client) send(ctx context.Context, body []byte, samples int) result {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return result{outcome: permanent, diagnosis: "cannot build the request: " + c.secrets.String(err.Error())}
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("User-Agent", "pbxwatch/"+buildversion.Version)
	req.Header.Set(versionHeader, protoVersion)
	resp, err := c.http.Do(req)
	if err != nil {
		return result{outcome: retry, diagnosis: c.secrets.String(diagnoseTransport(err, c.timeout))}
	}
	defer resp.Body.Close()
	answer, readErr := io.ReadAll(io.LimitReader(resp.Body, maxQuote+1))
	if readErr == nil {
		// Drain a little more so the connection can be reused, bounded.
		_, readErr = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	}
	res := c.classify(resp, samples, len(body))
	res.quote = c.quote(answer)
	if readErr != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		// The status came, then the answer trickled past the timeout.
		switch res.outcome {
		case stored:
			// Stored all the same: nothing to resend, but say so.
			res.diagnosis = fmt.Sprintf("the receiver stored the samples but gave no complete answer within remote_timeout %s (its answer trickles)", c.timeout)
		case retry:
			res.diagnosis = fmt.Sprintf("no complete answer within remote_timeout %s (%d %s came, then the answer trickled); samples wait in the queue and are retried", c.timeout, res.status, http.StatusText(res.status))
		default:
			res.diagnosis += fmt.Sprintf("; its answer did not finish within remote_timeout %s", c.timeout)
		}
	}
	return res
}

func (c *client) classify(resp *http.Response, samples, size int) result {
	code := resp.StatusCode
	status := strings.TrimSpace(strconv.Itoa(code) + " " + http.StatusText(code))
	res := result{status: code}
	switch {
	case code/100 == 2:
		if w := resp.Header.Get(writtenHeader); w != "" && samples > 0 {
			if n, err := strconv.Atoi(strings.TrimSpace(w)); err == nil && n == 0 {
				res.outcome = retry
				res.diagnosis = fmt.Sprintf("the receiver answered %s but says it stored nothing (%s: 0): it speaks Remote-Write 2.0 and ignores 1.0 requests; use its 1.0 endpoint or an engine that accepts 1.0 (Prometheus ≥ 2.33 with --web.enable-remote-write-receiver, VictoriaMetrics, Mimir)", status, writtenHeader)
				return res
			}
		}
		res.outcome = stored
		return res
	case code/100 == 3:
		res.outcome = permanent
		res.diagnosis = fmt.Sprintf("the receiver answered %s redirecting to %q: a POST is not followed; put the final URL in remote_write.url", status, scrub.Userinfo(resp.Header.Get("Location")))
		return res
	case code == http.StatusTooManyRequests || code/100 == 5:
		res.outcome = retry
		res.retryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		if code == http.StatusTooManyRequests {
			res.diagnosis = "the receiver is rate-limiting this host (429 Too Many Requests)"
		} else {
			res.diagnosis = fmt.Sprintf("the receiver failed (%s)", status)
		}
		if res.retryAfter > 0 {
			res.diagnosis += fmt.Sprintf(" and asks to retry after %s", res.retryAfter)
		}
		res.diagnosis += "; samples wait in the queue and are retried"
		return res
	}
	res.outcome = permanent
	switch code {
	case http.StatusUnauthorized:
		res.diagnosis = "the receiver refused the credentials (401 Unauthorized): check basic_auth.username and the password file (or the bearer token file); the samples were dropped"
	case http.StatusForbidden:
		res.diagnosis = "the receiver refused this host (403 Forbidden): the credentials are not allowed to write (tenant, role or IP allow-list); the samples were dropped"
	case http.StatusNotFound:
		res.diagnosis = "no remote-write endpoint at this URL (404 Not Found): for Prometheus use /api/v1/write and start it with --web.enable-remote-write-receiver; the samples were dropped"
	case http.StatusRequestEntityTooLarge:
		res.diagnosis = fmt.Sprintf("the receiver refuses a request this large (413 Request Entity Too Large, %d bytes compressed): raise its request-size limit (or its proxy's); the samples were dropped", size)
	default:
		res.diagnosis = fmt.Sprintf("the receiver refused the samples (%s); they were dropped, not retried", status)
	}
	return res
}

// quote is the receiver's answer as it may be shown: at most maxQuote
// bytes, valid UTF-8, control characters as spaces, secrets scrubbed.
func (c *client) quote(answer []byte) string {
	cut := len(answer) > maxQuote
	if cut {
		answer = answer[:maxQuote]
	}
	s := strings.ToValidUTF8(string(answer), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(c.secrets.String(s))
	if cut {
		s += "…"
	}
	return s
}

// retryAfter reads Retry-After as seconds or an HTTP date, capped.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// diagnoseTransport explains a failed request in the operator's words.
func diagnoseTransport(err error, timeout time.Duration) string {
	var certInvalid x509.CertificateInvalidError
	var unknownAuth x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &certInvalid) && certInvalid.Reason == x509.Expired:
		return fmt.Sprintf("the receiver's TLS certificate has expired (%s): renew it; samples wait in the queue", strings.TrimPrefix(certInvalid.Error(), "x509: "))
	case errors.As(err, &certInvalid):
		return fmt.Sprintf("the receiver's TLS certificate is not valid (%s); samples wait in the queue", certInvalid.Error())
	case errors.As(err, &unknownAuth):
		return "the receiver's TLS certificate is signed by an authority this host does not trust: set remote_write.tls_config.ca_file to its CA; samples wait in the queue"
	case errors.As(err, &hostname):
		return fmt.Sprintf("the receiver's TLS certificate is not for this name (%s): fix url or tls_config.server_name; samples wait in the queue", hostname.Error())
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Sprintf("no complete answer within remote_timeout %s (the receiver or the network is too slow, or the answer trickles); samples wait in the queue and are retried", timeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused: the receiver is down or not listening on this port; samples wait in the queue and are retried"
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("cannot resolve the receiver's host name (%s); samples wait in the queue", dnsErr.Error())
	}
	return fmt.Sprintf("cannot reach the receiver (%s); samples wait in the queue and are retried", scrub.Userinfo(err.Error()))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
