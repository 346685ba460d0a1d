package alerting_test

// Helpers that run the real Alertmanager and Prometheus (Debian packages
// prometheus-alertmanager and prometheus) on free loopback ports.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
)

const (
	alertmanagerBin = "/usr/bin/prometheus-alertmanager"
	prometheusBin   = "/usr/bin/prometheus"
	promtoolBin     = "/usr/bin/promtool"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// eventually polls cond until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last state: %s", timeout, what, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// syncBuffer collects a process' output for the failure message.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// server is a real Alertmanager or Prometheus process.
type server struct {
	t    *testing.T
	name string
	args []string
	url  string
	out  *syncBuffer
	cmd  *exec.Cmd
}

func startServer(t *testing.T, name, bin string, args []string, url string) *server {
	t.Helper()
	s := &server{t: t, name: name, args: args, url: url, out: &syncBuffer{}}
	s.start()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", s.name, s.out.String())
		}
	})
	return s
}

func (s *server) start() {
	s.t.Helper()
	bin := alertmanagerBin
	if strings.HasPrefix(s.name, "prometheus") {
		bin = prometheusBin
	}
	s.cmd = exec.Command(bin, s.args...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", s.name, err)
	}
	eventually(s.t, 20*time.Second, s.name+" ready", func() (bool, string) {
		resp, err := http.Get(s.url + "/-/ready")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}

func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// alertmanager starts an Alertmanager whose only receiver is the webhook.
// clusterAddr "" runs it alone; peers join it to others.
func startAlertmanager(t *testing.T, name, webhookURL, clusterAddr string, peers ...string) *server {
	t.Helper()
	testutil.Slow(t, "real Alertmanager")
	testutil.Tool(t, "prometheus-alertmanager")
	dir := t.TempDir()
	cfg := fmt.Sprintf(`route:
  receiver: hook
  group_by: [alertname, check, code, pattern]
  group_wait: 100ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %s
        send_resolved: true
`, webhookURL)
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	args := []string{
		"--config.file=" + filepath.Join(dir, "alertmanager.yml"),
		"--storage.path=" + filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--cluster.listen-address=" + clusterAddr,
		"--alerts.gc-interval=1s",
		"--log.level=debug",
	}
	if clusterAddr != "" {
		args = append(args,
			"--cluster.advertise-address="+clusterAddr,
			"--cluster.peer-timeout=3s", // the second peer waits this long for the first to notify
			"--cluster.gossip-interval=50ms",
			"--cluster.pushpull-interval=1s",
			"--cluster.settle-timeout=2s",
		)
		for _, p := range peers {
			args = append(args, "--cluster.peer="+p)
		}
	}
	return startServer(t, name, alertmanagerBin, args, fmt.Sprintf("http://127.0.0.1:%d", port))
}

// amAlert is an alert as GET /api/v2/alerts returns it.
type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

// alerts lists the Alertmanager's active (not resolved) alerts.
func (s *server) alerts(t *testing.T) []amAlert {
	t.Helper()
	resp, err := http.Get(s.url + "/api/v2/alerts")
	if err != nil {
		t.Fatalf("%s: %v", s.name, err)
	}
	defer resp.Body.Close()
	var out []amAlert
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: decode alerts: %v", s.name, err)
	}
	return out
}

func (s *server) alertsWith(t *testing.T, label, value string) []amAlert {
	var out []amAlert
	for _, a := range s.alerts(t) {
		if a.Labels[label] == value && a.EndsAt.After(time.Now()) {
			out = append(out, a)
		}
	}
	return out
}

// webhook counts the notifications Alertmanagers send, by status.
type webhook struct {
	mu    sync.Mutex
	notes []notification
	url   string
}

type notification struct {
	Status string `json:"status"`
	Alerts []struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
	} `json:"alerts"`
}

func startWebhook(t *testing.T) *webhook {
	t.Helper()
	w := &webhook{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var n notification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.notes = append(w.notes, n)
		w.mu.Unlock()
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	w.url = "http://" + l.Addr().String() + "/hook"
	return w
}

// count is the number of notifications of status ("firing", "resolved")
// that carried an alert with the given code.
func (w *webhook) count(status, code string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, note := range w.notes {
		for _, a := range note.Alerts {
			if a.Status == status && a.Labels["code"] == code {
				n++
			}
		}
	}
	return n
}

func (w *webhook) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, _ := json.Marshal(w.notes)
	return string(b)
}
