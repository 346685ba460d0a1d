package pluginhost

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/pbxwatch/pbxwatch/sdk/pluginwire"
	pluginv1 "github.com/pbxwatch/pbxwatch/sdk/proto/pbxwatch/plugin/v1"
	"github.com/pbxwatch/pbxwatch/sdk/scrub"
)

// Pool lets the checks of one plugin binary share one process (protocol
// 2): 1,000 checks of a plugin cost one process, not 1,000. Checks whose
// plugin speaks only protocol 1, and checks with Spec.Isolate, get a
// process each. Processes are shared only between checks whose plugin
// environment is the same (the same hidden ${ENV} variables), so a check's
// process never holds another check's ${ENV} secret. A Pool outlives
// configurations: a reload's new checks are configured in the process the
// old ones still run in.
type Pool struct {
	mu     sync.Mutex
	owners map[string]*owner
}

// NewPool returns an empty pool.
func NewPool() *Pool { return &Pool{owners: map[string]*owner{}} }

// poolKey is what checks sharing a process must have in common.
func poolKey(s *Spec) string {
	hide := slices.Clone(s.HideEnv)
	slices.Sort(hide)
	return strings.Join([]string{s.Binary, s.SHA256, s.CredentialsDir, strings.Join(hide, ",")}, "\x00")
}

// acquire returns the pool's owner for spec, creating it, with one more
// user counted.
func (p *Pool) acquire(spec *Spec) *owner {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := poolKey(spec)
	o := p.owners[key]
	if o == nil {
		o = newOwner(spec, true)
		o.release = func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.owners[key] == o {
				delete(p.owners, key)
			}
		}
		p.owners[key] = o
	}
	o.users++
	return o
}

// owner keeps one plugin process running for the checks (Hosts) using it:
// it starts it, restarts it after a crash with capped backoff, and stops
// it when its last check is closed.
type owner struct {
	spec   Spec // of the check that created it: binary, timeouts, backoff
	shared bool
	scrub  *scrub.Set // every user's secrets, for the process's stderr
	log    *slog.Logger
	// release drops the owner from its pool once its last user left.
	release func()

	mu        sync.Mutex
	pid       atomic.Int64
	proc      *process // nil when not running
	gen       int      // counts launches: instances configure once per gen
	users     int
	crashes   int // consecutive failures to keep a process alive
	nextStart time.Time
	lastExit  string
}

func newOwner(spec *Spec, shared bool) *owner {
	o := &owner{spec: *spec, shared: shared, scrub: &scrub.Set{}, release: func() {}}
	o.log = slog.New(scrub.Handler(o.scrub, spec.Logger.Handler()))
	return o
}

// label names the owner's process in logs and errors: the check in a
// process of its own, the plugin in a shared one.
func (o *owner) label() string {
	if o.shared {
		return "plugin " + o.spec.Plugin
	}
	return "check " + o.spec.Check
}

func (o *owner) logAttrs() []any {
	if o.shared {
		return []any{"plugin", o.spec.Plugin, "shared", true}
	}
	return []any{"check", o.spec.Check, "plugin", o.spec.Plugin}
}

// running returns the live process and its generation, starting one if
// none runs and the backoff allows. restarted says a process was started
// again after one exited or was killed. A start waits for the handshake at
// most startWithin (when positive and shorter than Spec.StartTimeout): a
// run's start must not outlast the run's own timeout.
func (o *owner) running(startWithin time.Duration) (p *process, gen int, restarted bool, res error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.proc != nil && !o.proc.client.Exited() {
		return o.proc, o.gen, false, nil
	}
	restarted = o.gen > 0
	if o.proc != nil {
		o.recordExit(o.proc)
		o.proc.kill() // reap, and remove its socket dir
		o.setProc(nil)
	}
	if wait := time.Until(o.nextStart); wait > 0 && restarted {
		return nil, 0, false, &backoffError{fmt.Sprintf("plugin %s %s; next restart attempt in %s", o.spec.Plugin, o.lastExit, wait.Round(time.Second))}
	}
	p, err := o.launch(startWithin)
	if err != nil {
		if restarted {
			o.noteCrash(err.Error())
		}
		return nil, 0, restarted, err
	}
	if restarted {
		o.log.Info("plugin restarted", append(o.logAttrs(), "pid", p.pid, "after", o.lastExit)...)
	}
	o.gen++
	o.setProc(p)
	return p, o.gen, restarted, nil
}

type backoffError struct{ msg string }

func (e *backoffError) Error() string { return e.msg }

func (o *owner) setProc(p *process) {
	o.proc = p
	if p == nil {
		o.pid.Store(0)
	} else {
		o.pid.Store(int64(p.pid))
	}
}

// launch starts a process and completes the handshake.
func (o *owner) launch(startWithin time.Duration) (*process, error) {
	if err := verifyChecksum(&o.spec); err != nil {
		return nil, err
	}
	// The plugin's gRPC socket goes in a directory of ours, removed when the
	// plugin stops: a plugin killed with SIGKILL cannot remove its socket,
	// and go-plugin's default leaves it in the temp dir forever.
	sockDir, err := os.MkdirTemp("", socketDirPrefix)
	if err != nil {
		return nil, fmt.Errorf("%s: socket dir: %w", o.label(), err)
	}
	cmd := exec.Command(o.spec.Binary)
	cmd.Env = append(pluginEnv(o.spec.HideEnv), plugin.EnvUnixSocketDir+"="+sockDir)
	if o.spec.CredentialsDir != "" {
		cmd.Env = append(cmd.Env, pluginwire.CredentialsDirEnv+"="+o.spec.CredentialsDir)
	}
	// Its own process group, so a hung plugin is killed with every child it
	// spawned, and a terminal's Ctrl-C reaches the agent only.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	mtls, err := newLaunchTLS()
	if err != nil {
		_ = os.RemoveAll(sockDir)
		return nil, fmt.Errorf("%s: %w", o.label(), err)
	}
	// The plugin has its own copy of the offer once started.
	defer mtls.closeOffer()
	mtls.attach(cmd)
	logs := newStderrRelay(o.log.With(o.logAttrs()...), o.spec.OnTruncate)
	startTimeout := o.spec.StartTimeout
	if startWithin > 0 && startWithin < startTimeout {
		startTimeout = startWithin
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  pluginwire.Handshake,
		VersionedPlugins: pluginwire.Versions(nil),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		TLSConfig:        mtls.config,
		StartTimeout:     startTimeout,
		Stderr:           logs,
		// go-plugin reads stderr through a buffer of this size (64 KiB
		// by default, for every plugin process); a longer line reaches
		// the relay in pieces, which it joins and cuts at MaxStderrLine.
		PluginLogBufferSize: MaxStderrLine,
		SyncStdout:          newStdoutRelay(o.log.With(o.logAttrs()...)),
		SkipHostEnv:         true,
		Logger:              hclog.NewNullLogger(),
	})
	p, err := connect(client, cmd, sockDir)
	if err != nil {
		(&process{client: client, cmd: cmd, sockDir: sockDir}).stop() // reaps: cmd.ProcessState is known
		err = explainStartError(err, startTimeout, cmd.ProcessState, o.scrub.Strings(logs.lastLines()))
		return nil, fmt.Errorf("start plugin %s (%s) for %s: %w", o.spec.Plugin, o.spec.Binary, o.label(), err)
	}
	p.tls = mtls
	return p, nil
}

// noteCrash schedules the next restart with capped exponential backoff.
func (o *owner) noteCrash(reason string) {
	o.lastExit = reason
	o.crashes++
	if o.crashes == 1 {
		o.nextStart = time.Time{} // restart at the very next run
		return
	}
	d := o.spec.RestartBackoff << (o.crashes - 2)
	if d > o.spec.MaxRestartBackoff || d <= 0 {
		d = o.spec.MaxRestartBackoff
	}
	o.nextStart = time.Now().Add(d)
}

func (o *owner) recordExit(p *process) {
	reason := "exited"
	if st := p.cmd.ProcessState; st != nil {
		reason = "exited (" + st.String() + ")"
	}
	o.log.Warn("plugin process exited", append(o.logAttrs(), "pid", p.pid, "state", reason)...)
	o.noteCrash(reason)
}

// succeeded resets the crash count after a good run.
func (o *owner) succeeded() {
	o.mu.Lock()
	o.crashes = 0
	o.mu.Unlock()
}

// kill ends p, unless it was already replaced (another check of a shared
// process saw it fail first), and schedules the restart. It reports
// whether p was still the owner's process.
func (o *owner) kill(p *process, reason string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	p.kill()
	if o.proc != p {
		return false
	}
	o.setProc(nil)
	o.noteCrash(reason)
	return true
}

// leave counts one user out, stopping the process after the last.
func (o *owner) leave() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.users--
	if o.users > 0 {
		return
	}
	o.release()
	if o.proc != nil {
		o.proc.stop()
		o.setProc(nil)
	}
}

// forget tells a protocol 2 process to drop an instance.
func (o *owner) forget(instance string, gen int) {
	o.mu.Lock()
	p := o.proc
	current := o.gen == gen
	o.mu.Unlock()
	if p == nil || !current || p.version < pluginwire.ProtocolShared || instance == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.spec.StartTimeout)
	defer cancel()
	_, _ = p.rpc.Forget(ctx, &pluginv1.ForgetRequest{Instance: instance})
}
