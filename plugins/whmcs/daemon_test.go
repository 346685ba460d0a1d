package main

// The daemon's view: `pbxwatch run` schedules failing whmcs checks, and
// neither its /metrics, its /checks page nor its log (plugin lines relayed
// at debug level) carries a credential.

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestDaemonHidesCredentials(t *testing.T) {
	// Failing scenarios where the credentials are sent and refused, so a
	// leak would have every chance to show.
	failing := map[string]bool{"auth_failed": true, "invalid_credentials": true, "invalid_ip": true, "server_error": true}
	blocks := map[string]string{}
	var cases []diagCase
	var leaks []string
	for _, c := range diagCases(t) {
		if failing[c.name] {
			cases = append(cases, c)
			blocks["whmcs_"+c.name] = c.config
			leaks = append(leaks, c.leaks()...)
		}
	}
	if len(cases) != len(failing) {
		t.Fatalf("cases %v not all in the plugin test table", failing)
	}
	agent, cfgFile := agentWithChecks(t, blocks)
	addr := freeAddr(t)
	logs := &lockedBuffer{}
	cmd := exec.Command(agent, "run", "--config.file="+cfgFile, "--web.listen-address="+addr, "--log.level=debug", "--shutdown.grace-period=2s")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	defer func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill()
			<-done
		}
	}()

	// Every check runs once at start; wait until each has its status.
	var metrics string
	deadline := time.Now().Add(30 * time.Second)
	for {
		metrics = httpGet(t, addr, "/metrics")
		missing := ""
		for _, c := range cases {
			if series := fmt.Sprintf("pbxwatch_check_status{check=%q,plugin=\"whmcs\"} %d\n", "whmcs_"+c.name, int(c.status)); !strings.Contains(metrics, series) {
				missing = series
			}
		}
		if missing == "" {
			break
		}
		select {
		case <-done:
			t.Fatalf("agent exited:\n%s", logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s in /metrics:\n%s\nagent log:\n%s", missing, metrics, logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	checks := httpGet(t, addr, "/checks")
	for _, c := range cases {
		mustContain(t, "/checks", checks, "whmcs_"+c.name, c.code)
	}
	mustContain(t, "/metrics", metrics, `whmcs_api_up{check="whmcs_server_error"}`)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("agent did not stop on SIGTERM:\n%s", logs)
	}
	log := logs.String()
	// The plugins' own lines must be in the agent's log, or its leak check
	// would prove nothing about them.
	mustContain(t, "agent log", log, "plain http")
	assertAbsent(t, "/metrics", metrics, leaks)
	assertAbsent(t, "/checks", checks, leaks)
	assertAbsent(t, "agent log", log, leaks)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// httpGet returns the body of a 200 response, or "" while the agent is not
// (yet) serving.
func httpGet(t *testing.T, addr, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return ""
	}
	return string(b)
}
