// Package sdktest runs a plugin binary out of process from a Go test, over
// the same transport and host code the agent uses, so a plugin's tests
// exercise what production runs.
//
//	bin := sdktest.Build(t, "example.com/me/myplugin")
//	p, err := sdktest.Start(t, bin, sdktest.Options{Config: "url: http://127.0.0.1:8080\n"})
//	if err != nil { t.Fatal(err) }
//	res := p.Check(context.Background())
package sdktest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/internal/buildtest"
	"github.com/pbxwatch/pbxwatch/sdk/pluginhost"
)

// Build compiles the plugin's main package once per test process and
// returns the binary's path.
func Build(t testing.TB, pkg string) string { return buildtest.Build(t, pkg) }

// Options configure a started plugin.
type Options struct {
	// Config is the check's `config:` block as YAML.
	Config string
	// CheckName defaults to "test".
	CheckName string
	// StateDir defaults to a fresh t.TempDir().
	StateDir string
	// Timeout bounds each Check; default 10s.
	Timeout time.Duration
}

// Plugin is a running plugin process.
type Plugin struct {
	host    *pluginhost.Host
	timeout time.Duration
	logs    *syncBuffer
}

// ConfigError is returned by Start when the plugin rejects its config.
type ConfigError = pluginhost.ConfigError

// Start starts the plugin and configures it; the process is stopped when
// the test ends. An error of type *ConfigError carries the plugin's
// validation messages.
func Start(t testing.TB, binary string, o Options) (*Plugin, error) {
	t.Helper()
	if o.CheckName == "" {
		o.CheckName = "test"
	}
	if o.StateDir == "" {
		o.StateDir = t.TempDir()
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	logs := &syncBuffer{}
	h, err := pluginhost.Start(context.Background(), pluginhost.Spec{
		Check:      o.CheckName,
		Plugin:     o.CheckName,
		Binary:     binary,
		StateDir:   o.StateDir,
		ConfigYAML: []byte(o.Config),
		SourceFile: "config",
		LineMap:    identityLines(o.Config),
		Logger:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		return nil, err
	}
	p := &Plugin{host: h, timeout: o.Timeout, logs: logs}
	t.Cleanup(p.Close)
	return p, nil
}

// IsConfigError reports whether err is a plugin's rejection of its config.
func IsConfigError(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}

// Check runs the check once. Plugin failures (timeouts, crashes) come back
// as UNKNOWN results, as in the agent.
func (p *Plugin) Check(ctx context.Context) *sdk.Result { return p.host.Run(ctx, p.timeout) }

// Logs returns everything the plugin logged so far, as the agent would log
// it (one text line per record).
func (p *Plugin) Logs() string { return p.logs.String() }

// PID is the plugin's process id (0 when not running).
func (p *Plugin) PID() int { return p.host.PID() }

// Close stops the plugin process.
func (p *Plugin) Close() { p.host.Close() }

// identityLines maps every line of a config given verbatim to itself.
func identityLines(cfg string) map[int]int {
	n := bytes.Count([]byte(cfg), []byte("\n")) + 1
	m := make(map[int]int, n)
	for i := 1; i <= n; i++ {
		m[i] = i
	}
	return m
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
