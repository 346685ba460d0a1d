package freepbx

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// maxBody bounds what the check reads of any response.
const maxBody = 1 << 20

// newHTTPClient builds the client for both endpoints. Redirects are not
// followed: a POST redirected to GET would turn into a confusing 405, and
// the redirect target itself is the useful evidence.
func newHTTPClient(t tlsConfig) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tc := &tls.Config{ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // operator's explicit choice
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file %s holds no PEM certificate", t.CAFile)
		}
		tc.RootCAs = pool
	}
	tr.TLSClientConfig = tc
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// exchange is what one request got back: the evidence diagnoses quote.
type exchange struct {
	url     string
	status  int
	header  http.Header
	body    []byte
	elapsed time.Duration
	err     error // transport error, if no response came
}

// recorder wraps a transport to keep the last exchange, for requests made
// by a library (the oauth2 token fetch) whose errors flatten the details.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	last *exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	ex := &exchange{url: req.URL.Redacted()}
	r.mu.Lock()
	r.last = ex
	r.mu.Unlock()
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		ex.err, ex.elapsed = err, time.Since(start)
		return nil, err
	}
	ex.status, ex.header = resp.StatusCode, resp.Header
	// Read the (bounded) body here so the response time covers it and the
	// evidence survives the library's parsing.
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	ex.elapsed = time.Since(start)
	if err != nil {
		ex.err = err
		return nil, err
	}
	ex.body = body
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

func (r *recorder) lastExchange() *exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}
