// Package promtest runs Debian's real Prometheus (or another engine with
// Prometheus's HTTP API, such as victoria-metrics) from a Go test: on a
// free loopback port, with its own data directory, stopped when the test
// ends.
package promtest

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
)

// Server is a running engine.
type Server struct {
	URL  string
	t    testing.TB
	cmd  *exec.Cmd
	logs *agenttest.Buffer
	done chan struct{}
}

// Prometheus starts Prometheus on config (the YAML of prometheus.yml),
// with args added to its command line (--web.enable-remote-write-receiver,
// say).
func Prometheus(t testing.TB, config string, args ...string) *Server {
	t.Helper()
	testutil.Slow(t, "real Prometheus")
	bin := testutil.Tool(t, "prometheus")
	dir := t.TempDir()
	file := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := agenttest.FreeAddr(t)
	return start(t, bin, append([]string{
		"--config.file=" + file,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
		"--log.level=warn",
	}, args...), "http://"+addr, "/-/ready")
}

// VictoriaMetrics starts VictoriaMetrics' single node, which accepts
// remote write at URL+"/api/v1/write" and answers PromQL (MetricsQL) at
// URL+"/api/v1/query". Recent samples are queryable at once
// (-search.latencyOffset=0s), as in Prometheus.
func VictoriaMetrics(t testing.TB, args ...string) *Server {
	t.Helper()
	testutil.Slow(t, "real VictoriaMetrics")
	bin := testutil.Tool(t, "victoria-metrics")
	addr := agenttest.FreeAddr(t)
	return start(t, bin, append([]string{
		"-httpListenAddr=" + addr,
		"-storageDataPath=" + filepath.Join(t.TempDir(), "vm"),
		"-loggerLevel=ERROR",
		"-search.latencyOffset=0s",
		"-search.disableCache",
	}, args...), "http://"+addr, "/health")
}

func start(t testing.TB, bin string, args []string, url, readyPath string) *Server {
	t.Helper()
	s := &Server{URL: url, t: t, logs: &agenttest.Buffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", bin, s.logs)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + readyPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("%s exited before it was ready:\n%s", bin, s.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 30s:\n%s", bin, s.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop ends the engine (SIGTERM, then SIGKILL after 10s).
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Logs is what the engine printed so far.
func (s *Server) Logs() string { return s.logs.String() }

// HostPort is the engine's listen address.
func (s *Server) HostPort() string {
	u := s.URL[len("http://"):]
	if _, _, err := net.SplitHostPort(u); err != nil {
		return ""
	}
	return u
}
