package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakeAM records the batches POSTed to /api/v2/alerts.
type fakeAM struct {
	mu      sync.Mutex
	batches [][]postableAlert
	headers []http.Header
	got     chan struct{}
	status  int
	block   chan struct{} // if set, requests wait for it
}

func newFakeAM(t *testing.T) (*fakeAM, *httptest.Server) {
	f := &fakeAM{got: make(chan struct{}, 1000), status: http.StatusOK}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.block != nil {
			select {
			case <-f.block:
			case <-r.Context().Done():
				return
			}
		}
		if r.Method != http.MethodPost || r.URL.Path != "/api/v2/alerts" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
			return
		}
		var batch []postableAlert
		if err := json.NewDecoder(r.Body).Decode(&batch); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.batches = append(f.batches, batch)
		f.headers = append(f.headers, r.Header.Clone())
		status := f.status
		f.mu.Unlock()
		w.WriteHeader(status)
		f.got <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeAM) wait(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-f.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("fake Alertmanager got %d of %d batches", i, n)
		}
	}
}

func (f *fakeAM) snapshot() ([][]postableAlert, []http.Header) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]postableAlert(nil), f.batches...), append([]http.Header(nil), f.headers...)
}

func alertsN(n int) []postableAlert {
	out := make([]postableAlert, n)
	for i := range out {
		out[i] = postableAlert{Labels: map[string]string{"alertname": "A", "i": fmt.Sprint(i)}, StartsAt: t0, EndsAt: t0.Add(time.Hour)}
	}
	return out
}

func testSender(t *testing.T, am AlertmanagerConfig, capacity int, log *bytes.Buffer) (*sender, *metrics) {
	t.Helper()
	met, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	if am.Timeout == 0 {
		am.Timeout = 5 * time.Second
	}
	var buf bytes.Buffer
	if log == nil {
		log = &buf
	}
	s, err := newSender(am, slogTo(log), met, capacity)
	if err != nil {
		t.Fatal(err)
	}
	return s, met
}

func TestQueueDropsOldestWhenFull(t *testing.T) {
	s, met := testSender(t, AlertmanagerConfig{URL: "http://127.0.0.1:1"}, 3, nil)
	s.enqueue(alertsN(5))
	if got := testutil.ToFloat64(met.dropped.WithLabelValues(s.cfg.URL)); got != 2 {
		t.Errorf("dropped = %v, want 2", got)
	}
	if got := testutil.ToFloat64(met.queueLen.WithLabelValues(s.cfg.URL)); got != 3 {
		t.Errorf("queue length = %v, want 3", got)
	}
	batch := s.next()
	if len(batch) != 3 || batch[0].Labels["i"] != "2" || batch[2].Labels["i"] != "4" {
		t.Fatalf("want the 3 newest alerts, got %v", batch)
	}
}

func TestBatchesOfAtMost256(t *testing.T) {
	f, srv := newFakeAM(t)
	s, met := testSender(t, AlertmanagerConfig{URL: srv.URL}, 0, nil)
	s.enqueue(alertsN(600))
	s.start()
	f.wait(t, 3)
	s.close(true)
	batches, _ := f.snapshot()
	var sizes []int
	for _, b := range batches {
		sizes = append(sizes, len(b))
	}
	if fmt.Sprint(sizes) != "[256 256 88]" {
		t.Errorf("batch sizes %v, want [256 256 88]", sizes)
	}
	if got := testutil.ToFloat64(met.sent.WithLabelValues(srv.URL)); got != 600 {
		t.Errorf("sent = %v, want 600", got)
	}
}

func TestErrorsAreCountedAndNotRetried(t *testing.T) {
	f, srv := newFakeAM(t)
	f.status = http.StatusInternalServerError
	var logs bytes.Buffer
	s, met := testSender(t, AlertmanagerConfig{URL: srv.URL}, 0, &logs)
	s.start()
	s.enqueue(alertsN(3))
	f.wait(t, 1)
	s.close(true)
	if got := testutil.ToFloat64(met.errors.WithLabelValues(srv.URL)); got != 3 {
		t.Errorf("errors = %v, want 3", got)
	}
	if batches, _ := f.snapshot(); len(batches) != 1 {
		t.Errorf("failed batch was retried: %d POSTs", len(batches))
	}
	if !strings.Contains(logs.String(), "500 Internal Server Error") {
		t.Errorf("log lacks the status: %s", logs.String())
	}
}

func TestCredentialsAreSentButNeverLogged(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	tokFile := filepath.Join(dir, "token")
	if err := os.WriteFile(pwFile, []byte("file-Pa55\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokFile, []byte("tok-XYZ\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, srv := newFakeAM(t)
	f.status = http.StatusUnauthorized // so the sender logs an error
	var logs bytes.Buffer
	cases := []struct {
		am   AlertmanagerConfig
		user string
		pass string
		auth string
	}{
		{am: AlertmanagerConfig{URL: srv.URL, BasicAuth: &BasicAuth{Username: "pbx", Password: "inline-Pa55"}}, user: "pbx", pass: "inline-Pa55"},
		{am: AlertmanagerConfig{URL: srv.URL, BasicAuth: &BasicAuth{Username: "pbx", PasswordFile: pwFile}}, user: "pbx", pass: "file-Pa55"},
		{am: AlertmanagerConfig{URL: srv.URL, BearerTokenFile: tokFile}, auth: "Bearer tok-XYZ"},
	}
	for i, tc := range cases {
		s, _ := testSender(t, tc.am, 0, &logs)
		s.start()
		s.enqueue(alertsN(1))
		f.wait(t, 1)
		s.close(true)
		_, headers := f.snapshot()
		h := headers[i]
		if tc.auth != "" {
			if got := h.Get("Authorization"); got != tc.auth {
				t.Errorf("case %d: Authorization = %q, want %q", i, got, tc.auth)
			}
			continue
		}
		r := &http.Request{Header: h}
		if u, p, ok := r.BasicAuth(); !ok || u != tc.user || p != tc.pass {
			t.Errorf("case %d: basic auth = %q %q %v", i, u, p, ok)
		}
	}
	for _, secret := range []string{"inline-Pa55", "file-Pa55", "tok-XYZ"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log contains %q:\n%s", secret, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "401") {
		t.Errorf("expected the 401 in the log:\n%s", logs.String())
	}
}

// A hanging Alertmanager must not delay another: each has its own loop.
func TestSlowAlertmanagerDelaysNoOther(t *testing.T) {
	slow, slowSrv := newFakeAM(t)
	slow.block = make(chan struct{})
	defer close(slow.block)
	fast, fastSrv := newFakeAM(t)
	m, _ := newTestManager(t, Config{
		ResendInterval: time.Hour,
		Alertmanagers:  []AlertmanagerConfig{{URL: slowSrv.URL, Timeout: time.Second}, {URL: fastSrv.URL}},
	}, "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	for i := range 3 {
		m.Observe(CheckInfo{Name: fmt.Sprintf("c%d", i), Plugin: "p"}, critical("x.fail", "fail"), t0)
		fast.wait(t, 1) // each reaches the fast one while the slow one hangs on the first
	}
	batches, _ := fast.snapshot()
	if len(batches) != 3 {
		t.Fatalf("fast Alertmanager got %d batches, want 3", len(batches))
	}
	// Stopping gives the slow one its timeout (1s) to drain, not more.
	start := time.Now()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	t.Logf("Run returned %v after cancel", time.Since(start))
}

func TestRunDrainsResolvedOnStop(t *testing.T) {
	f, srv := newFakeAM(t)
	m, reg := newTestManager(t, Config{ResendInterval: time.Hour, Alertmanagers: []AlertmanagerConfig{{URL: srv.URL}}}, "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	m.Observe(whmcs, critical("whmcs.invalid_ip", "ip"), t0)
	f.wait(t, 1)
	// Resolve and stop at once: the resolved notification still goes out.
	m.Observe(whmcs, ok(), t0.Add(time.Second))
	cancel()
	<-done
	batches, _ := f.snapshot()
	last := batches[len(batches)-1]
	if len(last) != 1 || !last[0].EndsAt.Equal(t0.Add(time.Second)) {
		t.Fatalf("last batch should be the resolved alert, got %v", batches)
	}
	if n, err := testutil.GatherAndCount(reg, "pbxwatch_notifications_sent_total"); err != nil || n != 1 {
		t.Errorf("sent_total series: %d %v", n, err)
	}
}

func TestApplyConfigKeepsUnchangedAlertmanagers(t *testing.T) {
	m, reg := newTestManager(t, Config{Alertmanagers: []AlertmanagerConfig{{URL: "http://127.0.0.1:1"}, {URL: "http://127.0.0.1:2"}}}, "")
	s1 := m.senders["http://127.0.0.1:1"]
	if err := m.ApplyConfig(Config{Alertmanagers: []AlertmanagerConfig{{URL: "http://127.0.0.1:1"}}}); err != nil {
		t.Fatal(err)
	}
	if m.senders["http://127.0.0.1:1"] != s1 || len(m.senders) != 1 {
		t.Errorf("unchanged Alertmanager's sender replaced or removed one kept: %v", m.senders)
	}
	if n, _ := testutil.GatherAndCount(reg, "pbxwatch_notification_queue_length"); n != 1 {
		t.Errorf("removed Alertmanager's series kept: %d series", n)
	}
	// A new Alertmanager gets every alert at once, not a resend later.
	m.Observe(whmcs, critical("whmcs.invalid_ip", "ip"), t0)
	if due := m.due(t0); len(due) != 1 {
		t.Fatalf("due = %v", due)
	}
	if err := m.ApplyConfig(Config{Alertmanagers: []AlertmanagerConfig{{URL: "http://127.0.0.1:1"}, {URL: "http://127.0.0.1:3"}}}); err != nil {
		t.Fatal(err)
	}
	if due := m.due(t0); len(due) != 1 {
		t.Errorf("after adding an Alertmanager, due = %v, want the firing alert", due)
	}
	if err := m.ApplyConfig(Config{Alertmanagers: []AlertmanagerConfig{{URL: "nope"}}}); err == nil {
		t.Error("invalid config accepted")
	}
	if m.senders["http://127.0.0.1:1"] != s1 {
		t.Error("a rejected config changed the senders")
	}
}
