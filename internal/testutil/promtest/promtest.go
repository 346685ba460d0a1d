// Package promtest runs Debian's real Prometheus (or another engine with
// Prometheus's HTTP API, such as victoria-metrics) from a Go test: on a
// free loopback port, with its own data directory, stopped when the test
// ends.
package promtest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
)

// Binaries of the Debian packages prometheus and victoria-metrics.
const (
	PrometheusBin      = "/usr/bin/prometheus"
	VictoriaMetricsBin = "/usr/bin/victoria-metrics"
)

// Require fails the test when bin is missing, naming the Debian package
// to install, unless PBXWATCH_SKIP_INTEGRATION is set: a missing server
// never passes as a green test.
func Require(t testing.TB, bin, pkg string) {
	t.Helper()
	if _, err := os.Stat(bin); err == nil {
		return
	}
	msg := fmt.Sprintf("%s is missing: install the Debian package %s (apt-get install %s)", bin, pkg, pkg)
	if os.Getenv("PBXWATCH_SKIP_INTEGRATION") != "" {
		t.Skip("SKIPPED (PBXWATCH_SKIP_INTEGRATION is set): " + msg)
	}
	t.Fatal(msg + ", or set PBXWATCH_SKIP_INTEGRATION=1 to skip the integration tests")
}

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
	Require(t, PrometheusBin, "prometheus")
	dir := t.TempDir()
	file := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := agenttest.FreeAddr(t)
	return start(t, PrometheusBin, append([]string{
		"--config.file=" + file,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
		"--log.level=warn",
	}, args...), "http://"+addr, "/-/ready")
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
