// Package pluginhost runs one check plugin as a long-lived child process and
// calls it over go-plugin's gRPC transport. It adds what go-plugin leaves to
// its users: timeouts that kill a plugin ignoring cancellation together with
// its children, restarts with capped backoff after a crash, stderr relayed
// into slog, and a clear error for a plugin that pollutes stdout.
//
// The agent and sdk/sdktest both use it, so plugin tests exercise the very
// code path the daemon runs.
package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/pbxwatch/pbxwatch/internal/pluginpb"
	"github.com/pbxwatch/pbxwatch/internal/pluginwire"
	"github.com/pbxwatch/pbxwatch/sdk/scrub"
)

// Spec describes one plugin process.
type Spec struct {
	Check  string // check name, for logs and the plugin's Config
	Plugin string // plugin name, for messages
	Binary string // absolute path of the plugin executable
	// SHA256 is the expected hex digest of Binary; empty skips the check.
	SHA256 string

	StateDir   string
	ConfigYAML []byte
	SourceFile string
	LineMap    map[int]int
	// CredentialsDir is where the plugin looks up relative `*_file` secrets
	// after systemd's $CREDENTIALS_DIRECTORY (pluginwire.CredentialsDirEnv).
	CredentialsDir string

	Logger *slog.Logger

	// Secrets are values to scrub, in every encoding, from whatever the
	// plugin sends back (results, config errors, stderr) before the agent
	// shows it anywhere: the agent's side of the boundary the SDK also
	// keeps, for plugins that forget (or are not written with the SDK).
	Secrets []string
	// HideEnv names variables of the agent's environment the plugin must
	// not inherit (other checks' ${ENV} secrets).
	HideEnv []string

	// KillGrace is how long a run may overstay its timeout before the plugin
	// is taken to ignore cancellation and is killed. Default 2s.
	KillGrace time.Duration
	// StartTimeout bounds the handshake. Default 10s.
	StartTimeout time.Duration
	// RestartBackoff and MaxRestartBackoff shape the delay before restarting
	// a crashed plugin: 0 before the first restart, then RestartBackoff
	// doubling up to MaxRestartBackoff. Defaults 1s and 5m.
	RestartBackoff    time.Duration
	MaxRestartBackoff time.Duration
	// OnRestart is called each time a crashed plugin is started again.
	OnRestart func()
	// OnTruncate is told each bound hit (package bounds; stderr lines):
	// the agent counts them in pbxwatch_truncations_total.
	OnTruncate func(what string)
}

func (s *Spec) setDefaults() {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.KillGrace <= 0 {
		s.KillGrace = 2 * time.Second
	}
	if s.StartTimeout <= 0 {
		s.StartTimeout = 10 * time.Second
	}
	if s.RestartBackoff <= 0 {
		s.RestartBackoff = time.Second
	}
	if s.MaxRestartBackoff <= 0 {
		s.MaxRestartBackoff = 5 * time.Minute
	}
}

// socketDirPrefix names the plugins' socket directories in the temp dir.
const socketDirPrefix = "pbxwatch-plugin-"

// ConfigError lists what a plugin's Configure found wrong with its config.
type ConfigError struct {
	Check    string
	Problems []string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("check %s: invalid config:\n  %s", e.Check, strings.Join(e.Problems, "\n  "))
}

// Host owns one plugin process. Its methods are safe for concurrent use, but
// runs are serialised: the scheduler never overlaps runs of one check.
type Host struct {
	spec  Spec
	scrub *scrub.Set
	log   *slog.Logger // spec.Logger, scrubbed

	// mu serialises runs and guards the fields below; pid mirrors proc so
	// PID never waits for a run.
	mu        sync.Mutex
	pid       atomic.Int64
	proc      *process // nil when not running
	crashes   int      // consecutive failures to keep a process alive
	nextStart time.Time
	lastExit  string
	closed    bool
}

// process is one started plugin process.
type process struct {
	client  *plugin.Client
	cmd     *exec.Cmd
	rpc     pluginpb.CheckerClient
	pid     int
	sockDir string
}

// Start starts the plugin and configures it. A *ConfigError means the plugin
// rejected its config; any other error means it could not be started.
func Start(ctx context.Context, spec Spec) (*Host, error) {
	spec.setDefaults()
	h := &Host{spec: spec, scrub: &scrub.Set{}}
	h.scrub.Add(spec.Secrets...)
	h.log = slog.New(scrub.Handler(h.scrub, spec.Logger.Handler()))
	p, err := h.launch(ctx)
	if err != nil {
		return nil, h.scrubError(err)
	}
	h.setProc(p)
	return h, nil
}

func (h *Host) setProc(p *process) {
	h.proc = p
	if p == nil {
		h.pid.Store(0)
	} else {
		h.pid.Store(int64(p.pid))
	}
}

// launch starts a process and hands it its config.
func (h *Host) launch(ctx context.Context) (*process, error) {
	if err := h.verifyChecksum(); err != nil {
		return nil, err
	}
	// The plugin's gRPC socket goes in a directory of ours, removed when the
	// plugin stops: a plugin killed with SIGKILL cannot remove its socket,
	// and go-plugin's default leaves it in the temp dir forever.
	sockDir, err := os.MkdirTemp("", socketDirPrefix)
	if err != nil {
		return nil, fmt.Errorf("check %s: socket dir: %w", h.spec.Check, err)
	}
	cmd := exec.Command(h.spec.Binary)
	cmd.Env = append(pluginEnv(h.spec.HideEnv), plugin.EnvUnixSocketDir+"="+sockDir)
	if h.spec.CredentialsDir != "" {
		cmd.Env = append(cmd.Env, pluginwire.CredentialsDirEnv+"="+h.spec.CredentialsDir)
	}
	// Its own process group, so a hung plugin is killed with every child it
	// spawned, and a terminal's Ctrl-C reaches the agent only.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logs := newStderrRelay(h.log.With("check", h.spec.Check, "plugin", h.spec.Plugin), h.spec.OnTruncate)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  pluginwire.Handshake,
		Plugins:          pluginwire.PluginSet(nil),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		StartTimeout:     h.spec.StartTimeout,
		Stderr:           logs,
		SyncStdout:       newStdoutRelay(h.log.With("check", h.spec.Check, "plugin", h.spec.Plugin)),
		SkipHostEnv:      true,
		Logger:           hclog.NewNullLogger(),
	})
	p, err := connect(client, cmd, sockDir)
	if err != nil {
		(&process{client: client, cmd: cmd, sockDir: sockDir}).stop()
		return nil, fmt.Errorf("start plugin %s (%s) for check %s: %w", h.spec.Plugin, h.spec.Binary, h.spec.Check, explainStartError(err))
	}
	if err := h.configure(ctx, p); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func connect(client *plugin.Client, cmd *exec.Cmd, sockDir string) (*process, error) {
	proto, err := client.Client()
	if err != nil {
		return nil, err
	}
	raw, err := proto.Dispense(pluginwire.PluginName)
	if err != nil {
		return nil, err
	}
	rpc, ok := raw.(pluginpb.CheckerClient)
	if !ok {
		return nil, fmt.Errorf("plugin served %T, not a pbxwatch checker", raw)
	}
	return &process{client: client, cmd: cmd, rpc: rpc, pid: cmd.Process.Pid, sockDir: sockDir}, nil
}

// explainStartError adds the likely cause to go-plugin's start errors, and
// replaces its generic checklist where the cause is known.
func explainStartError(err error) error {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "Unrecognized remote plugin message: "):
		first, _, _ := strings.Cut(strings.TrimPrefix(msg, "Unrecognized remote plugin message: "), "\n")
		return fmt.Errorf("the plugin wrote %q to stdout before its handshake: a plugin must keep stdout free (it carries the handshake) and log to stderr with sdk.Logger()", first)
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return fmt.Errorf("%w: the plugin never completed the handshake; is it a pbxwatch plugin built with sdk.Serve?", err)
	case strings.Contains(msg, "Incompatible API version"), strings.Contains(msg, "Incompatible core API version"):
		return fmt.Errorf("%w: the plugin was built for another pbxwatch plugin protocol (this agent speaks %d); rebuild it against this SDK", err, pluginwire.ProtocolVersion)
	}
	return err
}

func (h *Host) verifyChecksum() error {
	if h.spec.SHA256 == "" {
		return nil
	}
	want, err := hex.DecodeString(h.spec.SHA256)
	if err != nil || len(want) != sha256.Size {
		return fmt.Errorf("check %s: sha256 %q is not 64 hex digits", h.spec.Check, h.spec.SHA256)
	}
	sc := &plugin.SecureConfig{Checksum: want, Hash: sha256.New()}
	ok, err := sc.Check(h.spec.Binary)
	if err != nil {
		return fmt.Errorf("check %s: verify %s: %w", h.spec.Check, h.spec.Binary, err)
	}
	if !ok {
		return fmt.Errorf("check %s: %s does not match its configured sha256: the binary was replaced or the checksum is stale; refusing to start it", h.spec.Check, h.spec.Binary)
	}
	return nil
}

func (h *Host) configure(ctx context.Context, p *process) error {
	lines := make(map[int32]int32, len(h.spec.LineMap))
	for k, v := range h.spec.LineMap {
		lines[int32(k)] = int32(v)
	}
	ctx, cancel := context.WithTimeout(ctx, h.spec.StartTimeout)
	defer cancel()
	resp, err := p.rpc.Configure(ctx, &pluginpb.ConfigureRequest{
		CheckName:  h.spec.Check,
		StateDir:   h.spec.StateDir,
		ConfigYaml: h.spec.ConfigYAML,
		SourceFile: h.spec.SourceFile,
		LineMap:    lines,
	})
	if err != nil {
		return fmt.Errorf("check %s: configure plugin %s: %w", h.spec.Check, h.spec.Plugin, err)
	}
	if len(resp.GetErrors()) > 0 {
		return &ConfigError{Check: h.spec.Check, Problems: resp.GetErrors()}
	}
	return nil
}

// pluginEnv is the agent's environment minus what must stay the agent's:
// systemd's notify and watchdog sockets (so NotifyAccess=main holds), and
// the hidden variables (other checks' secrets).
func pluginEnv(hide []string) []string {
	hidden := make(map[string]bool, len(hide))
	for _, n := range hide {
		hidden[n] = true
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(kv, "NOTIFY_SOCKET="), strings.HasPrefix(kv, "WATCHDOG_"),
			strings.HasPrefix(kv, "LISTEN_"), hidden[name]:
			continue
		}
		env = append(env, kv)
	}
	return env
}

// scrubError returns err with every secret hidden, keeping a *ConfigError
// a *ConfigError.
func (h *Host) scrubError(err error) error {
	var ce *ConfigError
	if errors.As(err, &ce) {
		return &ConfigError{Check: ce.Check, Problems: h.scrub.Strings(append([]string(nil), ce.Problems...))}
	}
	return errors.New(h.scrub.String(err.Error()))
}

// PID returns the running plugin's process id, or 0.
func (h *Host) PID() int { return int(h.pid.Load()) }

// Close stops the plugin: a graceful gRPC shutdown, then SIGKILL to the
// process group after go-plugin's 2s.
// A run in progress is not waited for: the caller cancels runs first.
func (h *Host) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	if h.proc != nil {
		h.proc.stop()
		h.setProc(nil)
	}
}

// stop ends the process: go-plugin's graceful gRPC shutdown (SIGKILL to the
// plugin after 2s), then SIGKILL to its process group for any child left.
func (p *process) stop() {
	p.client.Kill()
	p.kill()
}

// kill SIGKILLs the plugin's process group at once, and lets go-plugin
// reap it.
func (p *process) kill() {
	killGroup(p.cmd)
	p.client.Kill()
	if p.sockDir != "" {
		_ = os.RemoveAll(p.sockDir)
	}
}

// killGroup SIGKILLs the plugin's process group: the plugin and any child
// it left behind.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
