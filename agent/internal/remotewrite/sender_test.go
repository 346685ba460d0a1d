package remotewrite

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/pbxwatch/pbxwatch/agent/internal/remotewrite/writev1"
)

// receiver decodes what it is sent, as a Remote-Write 1.0 receiver does.
type receiver struct {
	mu       sync.Mutex
	requests []*writev1.WriteRequest
	headers  []http.Header
}

func (rc *receiver) decode(t *testing.T, r *http.Request) *writev1.WriteRequest {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Error(err)
		return nil
	}
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		t.Errorf("not snappy: %v", err)
		return nil
	}
	var req writev1.WriteRequest
	if err := proto.Unmarshal(raw, &req); err != nil {
		t.Errorf("not a WriteRequest: %v", err)
		return nil
	}
	rc.mu.Lock()
	rc.requests = append(rc.requests, &req)
	rc.headers = append(rc.headers, r.Header.Clone())
	rc.mu.Unlock()
	return &req
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.requests)
}

func testRegistry() (*prometheus.Registry, prometheus.Counter) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_events_total", Help: "h", ConstLabels: prometheus.Labels{"check": "c1"}})
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "test_duration_seconds", Help: "h", Buckets: []float64{0.5, 1}})
	h.Observe(0.7)
	reg.MustRegister(c, h)
	c.Add(3)
	return reg, c
}

func startManager(t *testing.T, cfg Config, gather prometheus.Gatherer) (*Manager, *prometheus.Registry) {
	t.Helper()
	own := prometheus.NewRegistry()
	m := NewManager(own)
	if cfg.Interval == 0 {
		cfg.Interval = time.Second
	}
	if cfg.RemoteTimeout == 0 {
		cfg.RemoteTimeout = 2 * time.Second
	}
	if cfg.Queue.MaxBytes == 0 {
		cfg.Queue = QueueConfig{MaxBytes: 1 << 20, MaxAge: time.Hour}
	}
	err := m.Apply([]Config{cfg}, Options{
		Gatherer: gather, Registerer: own, Logger: slog.New(slog.DiscardHandler),
		StateDir: t.TempDir(), CredentialsDir: t.TempDir(), ExternalLabels: map[string]string{"instance": "pbx7", "customer": "acme"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	return m, own
}

func waitStatus(t *testing.T, m *Manager, cond func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st := m.Status()
		if len(st) == 1 && cond(st[0]) {
			return st[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never reached the condition: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestPushesEverySeriesWithExternalLabelsAndSpecHeaders(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.decode(t, r)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	reg, _ := testRegistry()
	m, _ := startManager(t, Config{URL: srv.URL + "/api/v1/write", Headers: map[string]string{"X-Scope-OrgID": "acme"}}, reg)
	st := waitStatus(t, m, func(s Status) bool { return s.State == StateOK && s.SamplesSent > 0 })
	if st.Diagnosis != "" {
		t.Errorf("diagnosis on success: %q", st.Diagnosis)
	}
	rc.mu.Lock()
	req, hdr := rc.requests[0], rc.headers[0]
	rc.mu.Unlock()
	for k, want := range map[string]string{"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
		"X-Prometheus-Remote-Write-Version": "0.1.0", "X-Scope-Orgid": "acme"} {
		if got := hdr.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	got := map[string]float64{}
	for _, ts := range req.Timeseries {
		var parts []string
		for i, l := range ts.Labels {
			if i > 0 && ts.Labels[i-1].Name >= l.Name {
				t.Errorf("labels not sorted: %v", ts.Labels)
			}
			parts = append(parts, l.Name+"="+l.Value)
		}
		got[strings.Join(parts, ",")] = ts.Samples[0].Value
	}
	for series, v := range map[string]float64{
		"__name__=test_events_total,check=c1,customer=acme,instance=pbx7":           3,
		"__name__=test_duration_seconds_bucket,customer=acme,instance=pbx7,le=0.5":  0,
		"__name__=test_duration_seconds_bucket,customer=acme,instance=pbx7,le=1":    1,
		"__name__=test_duration_seconds_bucket,customer=acme,instance=pbx7,le=+Inf": 1,
		"__name__=test_duration_seconds_count,customer=acme,instance=pbx7":          1,
		"__name__=test_duration_seconds_sum,customer=acme,instance=pbx7":            0.7,
	} {
		if g, ok := got[series]; !ok || g != v {
			t.Errorf("series %s = %v (present %v), want %v; got %v", series, g, ok, v, got)
		}
	}
}

func TestVanishedSeriesGetAStaleMarker(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "test_diagnosis", Help: "h"}, []string{"code"})
	reg.MustRegister(g)
	g.WithLabelValues("whmcs.invalid_ip").Set(1)
	s := &Snapshotter{Gatherer: reg, External: map[string]string{"instance": "h"}}
	if _, _, err := s.Snapshot(time.Now()); err != nil {
		t.Fatal(err)
	}
	g.Reset()
	body, n, err := s.Snapshot(time.Now())
	if err != nil || n != 1 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	raw, _ := snappy.Decode(nil, body)
	var req writev1.WriteRequest
	if err := proto.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	if v := req.Timeseries[0].Samples[0].Value; math.Float64bits(v) != math.Float64bits(StaleNaN) {
		t.Fatalf("value %v, want the stale marker", v)
	}
}

// The receivers that go wrong: each gives a diagnosis in words, the queue
// stays bounded, and nothing crashes.
func TestBadReceiversAreDiagnosed(t *testing.T) {
	reg, _ := testRegistry()
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		state   string
		want    []string
		reason  string // a drop reason that must count
	}{
		{"400 with a message", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "out of bounds: sample timestamp too old\x1b[31m", http.StatusBadRequest)
		}, StateRejected, []string{"refused the samples (400 Bad Request)", "dropped"}, ReasonRejected},
		{"413", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		}, StateRejected, []string{"413 Request Entity Too Large", "raise its request-size limit"}, ReasonRejected},
		{"429 with Retry-After", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "30")
			http.Error(w, "rate limited", http.StatusTooManyRequests)
		}, StateRetrying, []string{"rate-limiting", "retry after 30s", "wait in the queue"}, ""},
		{"wrong password", func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "pbx7" || p != "right" {
				http.Error(w, "invalid credentials", http.StatusUnauthorized)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}, StateRejected, []string{"401 Unauthorized", "password file"}, ReasonRejected},
		{"trickling", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusOK)
			for range 100 {
				if _, err := w.Write([]byte("x")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				time.Sleep(100 * time.Millisecond)
			}
		}, StateOK, []string{"stored the samples but gave no complete answer within remote_timeout 1s (its answer trickles)"}, ""},
		{"2.0 receiver storing nothing", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Prometheus-Remote-Write-Samples-Written", "0")
			w.WriteHeader(http.StatusNoContent)
		}, StateRetrying, []string{"stored nothing", "Remote-Write 2.0"}, ""},
		{"404", func(w http.ResponseWriter, r *http.Request) {
			http.NotFound(w, r)
		}, StateRejected, []string{"--web.enable-remote-write-receiver"}, ReasonRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			cfg := Config{URL: srv.URL + "/api/v1/write", RemoteTimeout: time.Second}
			if tc.name == "wrong password" {
				dir := t.TempDir()
				pass := filepath.Join(dir, "rw.pass")
				if err := os.WriteFile(pass, []byte("wrong-hunter2\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				cfg.BasicAuth = &BasicAuth{Username: "pbx7", PasswordFile: pass}
			}
			m, own := startManager(t, cfg, reg)
			st := waitStatus(t, m, func(s Status) bool { return s.State == tc.state && s.Diagnosis != "" })
			for _, w := range tc.want {
				if !strings.Contains(st.Diagnosis, w) {
					t.Errorf("diagnosis %q lacks %q", st.Diagnosis, w)
				}
			}
			if strings.ContainsAny(st.ReceiverSaid, "\x1b\n") || len(st.ReceiverSaid) > maxQuote+3 {
				t.Errorf("quote not cleaned or bounded: %q", st.ReceiverSaid)
			}
			if tc.name == "400 with a message" && !strings.Contains(st.ReceiverSaid, "out of bounds: sample timestamp too old") {
				t.Errorf("the receiver's words are not quoted: %q", st.ReceiverSaid)
			}
			if tc.reason != "" {
				waitStatus(t, m, func(s Status) bool { return s.Dropped[tc.reason] > 0 })
			}
			if st.QueueBytes > int64(cfg.Queue.MaxBytes)+1<<20 {
				t.Errorf("queue %d bytes", st.QueueBytes)
			}
			mfs, _ := own.Gather()
			for _, mf := range mfs {
				for _, mt := range mf.GetMetric() {
					for _, l := range mt.GetLabel() {
						if strings.Contains(l.GetValue(), "hunter2") {
							t.Errorf("secret in a metric label")
						}
					}
				}
			}
		})
	}
}

func TestExpiredCertificateIsDiagnosed(t *testing.T) {
	certPEM, keyPEM := selfSigned(t, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	reg, _ := testRegistry()
	m, _ := startManager(t, Config{URL: srv.URL + "/api/v1/write", TLSConfig: TLSConfig{CAFile: ca}}, reg)
	st := waitStatus(t, m, func(s Status) bool { return s.State == StateRetrying })
	if !strings.Contains(st.Diagnosis, "TLS certificate has expired") || !strings.Contains(st.Diagnosis, "renew it") {
		t.Fatalf("diagnosis %q", st.Diagnosis)
	}
}

func selfSigned(t *testing.T, notBefore, notAfter time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: notBefore, NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true,
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

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "7": 7 * time.Second, "junk": 0, "-3": 0, "99999": maxRetryAfter,
		"Mon, 07 Dec 2026 12:01:00 GMT": time.Minute,
	} {
		if got := retryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}
