// Package pluginhost runs check plugins as long-lived child processes and
// calls them over go-plugin's gRPC transport: a process per check, or (with
// a Pool and protocol 2) one per plugin binary serving all its checks. It adds what go-plugin leaves to
// its users: timeouts that kill a plugin ignoring cancellation together with
// its children, restarts with capped backoff after a crash, stderr relayed
// into slog, and a clear error for a plugin that pollutes stdout.
//
// The agent and sdk/sdktest both use it, so plugin tests exercise the very
// code path the daemon runs; that is why it lives in the SDK module. Plugin
// authors do not import it (sdktest wraps it); its API may change with the
// agent's needs.
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

	"github.com/hashicorp/go-plugin"
	"golang.org/x/sys/unix"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/pluginwire"
	pluginv1 "github.com/pbxwatch/pbxwatch/sdk/proto/pbxwatch/plugin/v1"
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
	// OnEvents receives what the check says between its runs (protocol 3
	// Follow: a log check's matched lines the moment they are written),
	// cleaned as a result is. Nil: the check is not followed.
	OnEvents func([]sdk.Event)
	// OnTruncate is told each bound hit (package bounds; stderr lines):
	// the agent counts them in pbxwatch_truncations_total.
	OnTruncate func(what string)

	// Pool, when set, lets this check share its plugin's process with the
	// pool's other checks of the same binary (protocol 2); Isolate keeps
	// it in a process of its own anyway.
	Pool    *Pool
	Isolate bool
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

// Host runs one check in a plugin process: its own, or one it shares with
// other checks of the same plugin. Its methods are safe for concurrent use,
// but runs are serialised: the scheduler never overlaps runs of one check.
type Host struct {
	spec     Spec
	scrub    *scrub.Set
	log      *slog.Logger // spec.Logger, scrubbed
	owner    *owner
	instance string // the check's id in a protocol 2 process

	// mu serialises runs and guards the fields below.
	mu            sync.Mutex
	configuredGen int // the owner's process generation configured with the check
	closed        bool

	// followMu guards stopFollow, which ends the Follow stream.
	followMu   sync.Mutex
	stopFollow context.CancelFunc
}

// process is one started plugin process.
type process struct {
	client  *plugin.Client
	cmd     *exec.Cmd
	rpc     pluginv1.CheckerClient
	pid     int
	version int // negotiated protocol version
	sockDir string
	tls     *launchTLS
}

// instanceSeq numbers instances: a reloaded check is a new instance beside
// the old one until the old one is forgotten.
var instanceSeq atomic.Uint64

// Start starts the check's plugin, or joins the process of its Pool, and
// configures the check. A *ConfigError means the plugin rejected its
// config; any other error means it could not be started.
func Start(ctx context.Context, spec Spec) (*Host, error) {
	spec.setDefaults()
	h := &Host{spec: spec, scrub: &scrub.Set{}}
	h.scrub.Add(spec.Secrets...)
	h.log = slog.New(scrub.Handler(h.scrub, spec.Logger.Handler()))
	h.instance = fmt.Sprintf("%s#%d", spec.Check, instanceSeq.Add(1))
	if err := h.join(ctx); err != nil {
		return nil, h.scrubError(err)
	}
	return h, nil
}

// join attaches the host to a process and configures its instance there.
func (h *Host) join(ctx context.Context) error {
	if h.spec.Pool != nil && !h.spec.Isolate {
		o := h.spec.Pool.acquire(&h.spec)
		o.scrub.Add(h.spec.Secrets...)
		p, gen, _, err := o.running(0)
		if err != nil {
			o.leave()
			return err
		}
		if p.version >= pluginwire.ProtocolShared || o.sole() {
			return h.configureIn(ctx, o, p, gen)
		}
		// A protocol 1 plugin serves one check per process.
		o.leave()
	}
	o := newOwner(&h.spec, false)
	o.users = 1
	o.scrub.Add(h.spec.Secrets...)
	p, gen, _, err := o.running(0)
	if err != nil {
		return err
	}
	return h.configureIn(ctx, o, p, gen)
}

// configureIn configures the check in p, the owner's process; on failure
// the host leaves the owner.
func (h *Host) configureIn(ctx context.Context, o *owner, p *process, gen int) error {
	h.owner = o
	if err := h.configure(ctx, p); err != nil {
		o.leave()
		return err
	}
	h.configuredGen = gen
	h.follow(p)
	return nil
}

// sole reports whether the owner has a single user.
func (o *owner) sole() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.users == 1
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
	rpc, ok := raw.(pluginv1.CheckerClient)
	if !ok {
		return nil, fmt.Errorf("plugin served %T, not a pbxwatch checker", raw)
	}
	return &process{client: client, cmd: cmd, rpc: rpc, pid: cmd.Process.Pid, version: client.NegotiatedVersion(), sockDir: sockDir}, nil
}

// explainStartError adds the likely cause to go-plugin's start errors, and
// replaces its generic checklist where the cause is known. A plugin that
// died before its handshake is named by its exit status or signal, with
// its last stderr lines (scrubbed by the caller): go-plugin only says it
// read nothing from stdout.
func explainStartError(err error, timeout time.Duration, exit *os.ProcessState, lastStderr []string) error {
	msg := err.Error()
	diedFirst := strings.Contains(msg, "Failed to read any lines from plugin's stdout") ||
		strings.Contains(msg, "plugin exited before we could connect")
	switch {
	case diedFirst:
		return fmt.Errorf("the plugin %s before its handshake%s", exitDescription(exit), quoteStderr(lastStderr))
	case strings.HasPrefix(msg, "Unrecognized remote plugin message: "):
		first, _, _ := strings.Cut(strings.TrimPrefix(msg, "Unrecognized remote plugin message: "), "\n")
		return fmt.Errorf("the plugin wrote %q to stdout before its handshake: a plugin must keep stdout free (it carries the handshake) and log to stderr with sdk.Logger()", first)
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return fmt.Errorf("the plugin did not complete its handshake within %s (it was killed); is it a pbxwatch plugin built with sdk.Serve?%s", timeout, quoteStderr(lastStderr))
	case strings.Contains(msg, "Incompatible API version"), strings.Contains(msg, "Incompatible core API version"):
		return fmt.Errorf("%w: the plugin was built for another pbxwatch plugin protocol (this agent speaks %d, %d and %d); rebuild it against this SDK", err, pluginwire.ProtocolSingle, pluginwire.ProtocolShared, pluginwire.ProtocolFollow)
	}
	return err
}

// exitDescription says how a process ended: "exited with status 1",
// "was killed by signal SIGKILL".
func exitDescription(st *os.ProcessState) string {
	if st == nil {
		return "exited"
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		name := unix.SignalName(ws.Signal())
		if name == "" {
			name = ws.Signal().String()
		}
		return fmt.Sprintf("was killed by signal %s (%d)", name, int(ws.Signal()))
	}
	return fmt.Sprintf("exited with status %d", st.ExitCode())
}

// quoteStderr ends an error with the plugin's last stderr lines, or says
// there were none.
func quoteStderr(lines []string) string {
	if len(lines) == 0 {
		return "; it wrote nothing to stderr"
	}
	return "; its last stderr lines:\n    " + strings.Join(lines, "\n    ")
}

func verifyChecksum(spec *Spec) error {
	if spec.SHA256 == "" {
		return nil
	}
	want, err := hex.DecodeString(spec.SHA256)
	if err != nil || len(want) != sha256.Size {
		return fmt.Errorf("check %s: sha256 %q is not 64 hex digits", spec.Check, spec.SHA256)
	}
	sc := &plugin.SecureConfig{Checksum: want, Hash: sha256.New()}
	ok, err := sc.Check(spec.Binary)
	if err != nil {
		return fmt.Errorf("check %s: verify %s: %w", spec.Check, spec.Binary, err)
	}
	if !ok {
		return fmt.Errorf("check %s: %s does not match its configured sha256: the binary was replaced or the checksum is stale; refusing to start it", spec.Check, spec.Binary)
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
	resp, err := p.rpc.Configure(ctx, &pluginv1.ConfigureRequest{
		CheckName:  h.spec.Check,
		StateDir:   h.spec.StateDir,
		ConfigYaml: h.spec.ConfigYAML,
		SourceFile: h.spec.SourceFile,
		LineMap:    lines,
		Instance:   h.instanceIn(p),
	})
	if err != nil {
		return fmt.Errorf("check %s: configure plugin %s: %w", h.spec.Check, h.spec.Plugin, err)
	}
	if len(resp.GetErrors()) > 0 {
		return &ConfigError{Check: h.spec.Check, Problems: resp.GetErrors()}
	}
	return nil
}

// instanceIn is the check's instance id as p knows it: none in protocol 1.
func (h *Host) instanceIn(p *process) string {
	if p.version < pluginwire.ProtocolShared {
		return ""
	}
	return h.instance
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
		// A config error may quote a value a ${ENV} secret was built into
		// in pieces (Go's URL errors quote a "port"): no piece is shown.
		problems := make([]string, len(ce.Problems))
		for i, p := range ce.Problems {
			problems[i] = h.scrub.Pieces(p)
		}
		return &ConfigError{Check: ce.Check, Problems: problems}
	}
	return errors.New(h.scrub.String(err.Error()))
}

// PID returns the running plugin's process id, or 0.
func (h *Host) PID() int {
	if h.owner == nil {
		return 0
	}
	return int(h.owner.pid.Load())
}

// Close forgets the check in its plugin process, and stops the process
// when no other check uses it: a graceful gRPC shutdown, then SIGKILL to
// the process group after go-plugin's 2s.
// A run in progress is not waited for: the caller cancels runs first.
func (h *Host) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	h.stopFollowing()
	h.owner.forget(h.instance, h.configuredGen)
	h.owner.leave()
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
