package main_test

// The daemon's view: `pbxwatch run` schedules failing freepbx checks, and
// neither its /metrics, its /checks page nor its log (plugin lines relayed
// at debug level) carries a client secret.

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

func TestDaemonHidesClientSecret(t *testing.T) {
	// A wrong secret sent and refused, an error page echoing the posted
	// secret, and a revoked token: the likeliest ways for a secret to leak.
	failing := map[string]string{
		"invalid_client":                  "fpbx_invalid_client",
		"server_error echoing the secret": "fpbx_server_error",
		"token_rejected":                  "fpbx_token_rejected",
	}
	var checks strings.Builder
	var cases []pluginCase
	leaks := []string{e2eSecret}
	for _, c := range pluginCases(t) {
		if name, ok := failing[c.name]; ok {
			cases = append(cases, c)
			checks.WriteString(c.agentCheck(t, name))
			leaks = append(leaks, c.secretValue())
		}
	}
	if len(cases) != len(failing) {
		t.Fatalf("cases %v not all in the transport test table", failing)
	}
	e := newAgentEnv(t, checks.String())
	addr := freeAddr(t)
	logs := &lockedBuffer{}
	cmd := exec.Command(e.agent, "run", "--config.file="+e.config, "--web.listen-address="+addr, "--log.level=debug", "--shutdown.grace-period=2s")
	cmd.Env = e.env
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
		metrics = httpGet(addr, "/metrics")
		missing := ""
		for _, c := range cases {
			if series := fmt.Sprintf("pbxwatch_check_status{check=%q,plugin=\"freepbx\"} %d\n", failing[c.name], int(c.status)); !strings.Contains(metrics, series) {
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
	checksPage := httpGet(addr, "/checks")
	for _, c := range cases {
		if !strings.Contains(checksPage, failing[c.name]) || !strings.Contains(checksPage, c.code) {
			t.Errorf("/checks lacks %s with %s:\n%s", failing[c.name], c.code, checksPage)
		}
	}
	if !strings.Contains(metrics, `freepbx_api_up{check="fpbx_server_error"}`) {
		t.Errorf("/metrics lacks the plugin's own metrics:\n%s", metrics)
	}

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
	if !strings.Contains(log, "freepbx API checked") {
		t.Errorf("the plugins' log lines did not reach the agent's log:\n%s", log)
	}
	for _, s := range leaks {
		for what, text := range map[string]string{"/metrics": metrics, "/checks": checksPage, "agent log": log} {
			if strings.Contains(text, s) {
				t.Errorf("%s reveals the secret %q:\n%s", what, s, text)
			}
		}
	}
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
func httpGet(addr, path string) string {
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
