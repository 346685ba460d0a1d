package main_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"html"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
)

// TestBadReceiversAreDiagnosedOnTheStatusPage: one real agent pushing to six
// receivers that each go wrong differently. Each gets a diagnosis in words
// on the status page and in /api/v1/remote_write, every queue stays under
// its bound, the password never shows, and the agent keeps running.
func TestBadReceiversAreDiagnosedOnTheStatusPage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent for ~15s: not in -short")
	}
	t.Parallel()
	const password = "pbx7-wrong-hunter2"
	receivers := map[string]http.HandlerFunc{
		"bad-request": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "out of order sample: label \"__name__\" frobnicated", http.StatusBadRequest)
		},
		"too-large": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "413 Request Entity Too Large", http.StatusRequestEntityTooLarge)
		},
		"rate-limited": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "2")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		},
		"trickling": func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusServiceUnavailable)
			for range 50 {
				if _, err := w.Write([]byte(".")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				time.Sleep(200 * time.Millisecond)
			}
		},
		"wrong-password": func(w http.ResponseWriter, r *http.Request) {
			if _, p, _ := r.BasicAuth(); p != "right" {
				http.Error(w, "authentication failed for "+p, http.StatusUnauthorized)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		},
	}
	want := map[string][]string{
		"bad-request":    {"rejected", "refused the samples (400 Bad Request)", `out of order sample: label \"__name__\" frobnicated`},
		"too-large":      {"rejected", "413 Request Entity Too Large", "raise its request-size limit"},
		"rate-limited":   {"retrying", "rate-limiting this host (429 Too Many Requests) and asks to retry after 2s"},
		"trickling":      {"retrying", "no complete answer within remote_timeout 2s"},
		"wrong-password": {"rejected", "refused the credentials (401 Unauthorized)"},
		"expired-cert":   {"retrying", "TLS certificate has expired", "renew it"},
	}
	in := agenttest.New(t)
	dir := in.Dir
	urls := map[string]string{}
	for name, h := range receivers {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		urls[name] = srv.URL + "/" + name + "/api/v1/write"
	}
	certPEM, keyPEM := expiredCert(t)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	tlsSrv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	urls["expired-cert"] = tlsSrv.URL + "/expired-cert/api/v1/write"
	writeFile(t, filepath.Join(dir, "ca.pem"), string(certPEM))
	writeFile(t, filepath.Join(dir, "credentials", "rw.pass"), password+"\n")

	var cfg strings.Builder
	cfg.WriteString("  external_labels: { instance: pbx7 }\nremote_write:\n")
	for name, u := range urls {
		fmt.Fprintf(&cfg, "  - url: %s\n    interval: 1s\n    remote_timeout: 2s\n    queue: { max_bytes: 64KiB }\n", u)
		switch name {
		case "wrong-password":
			cfg.WriteString("    basic_auth: { username: pbx7, password_file: rw.pass }\n")
		case "expired-cert":
			fmt.Fprintf(&cfg, "    tls_config: { ca_file: %s }\n", filepath.Join(dir, "ca.pem"))
		}
	}
	cfg.WriteString("checks: []\n")
	in.WriteConfig(cfg.String())

	d := in.Start(agenttest.Options{})
	var missing string
	t.Cleanup(func() {
		if t.Failed() && missing != "" {
			t.Logf("still missing: %s", missing)
		}
	})
	d.WaitFor("every receiver's diagnosis on the status page", func() bool {
		missing = ""
		page := html.UnescapeString(d.Get("/"))
		for name, words := range want {
			line := receiverLine(page, urls[name])
			for _, w := range words {
				if missing == "" && !strings.Contains(line, strings.ReplaceAll(w, `\"`, `"`)) {
					missing = fmt.Sprintf("%s: %q on the status page (line %q)", name, w, line)
				}
			}
		}
		return missing == ""
	})
	// Push on a while: queues fill up to their bound and no further.
	time.Sleep(8 * time.Second)
	api := d.Get("/api/v1/remote_write")
	for _, st := range remoteWriteState(d) {
		if qb, _ := st["queue_bytes"].(float64); qb > 64<<10 {
			t.Errorf("%v: queue %v bytes over its 64KiB bound", st["url"], qb)
		}
	}
	if !strings.Contains(api, `out of order sample: label \"__name__\" frobnicated`) {
		t.Errorf("the 400's words are not quoted in /api/v1/remote_write:\n%s", api)
	}
	for where, text := range map[string]string{"page": d.Get("/"), "api": api, "metrics": d.Get("/metrics"), "log": d.Logs()} {
		if strings.Contains(text, password) {
			t.Errorf("the remote-write password is in the %s", where)
		}
	}
	if d.Get("/-/healthy") == "" {
		t.Fatalf("the agent stopped answering:\n%s", d.Logs())
	}
	if !strings.Contains(d.Logs(), "receiver_said") {
		t.Errorf("no receiver's answer quoted in the log:\n%s", tail(d.Logs(), 3000))
	}
	d.Stop()
}

// receiverLine is the status page's line about the receiver at url.
func receiverLine(page, url string) string {
	for _, l := range strings.Split(page, "\n") {
		if strings.Contains(l, "Remote write to "+url+":") {
			return l
		}
	}
	return ""
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// expiredCert is a self-signed certificate for 127.0.0.1 that expired
// yesterday.
func expiredCert(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}
