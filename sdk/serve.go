package sdk

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/pbxwatch/pbxwatch/sdk/buildversion"
	"github.com/pbxwatch/pbxwatch/sdk/pluginwire"
	pluginv1 "github.com/pbxwatch/pbxwatch/sdk/proto/pbxwatch/plugin/v1"
)

// ProtocolVersion is the plugin protocol this SDK speaks.
const ProtocolVersion = pluginwire.ProtocolVersion

// parentPollInterval is how often a plugin checks that its agent still runs.
const parentPollInterval = 500 * time.Millisecond

// Serve runs the plugin until the agent stops it. Call it from main; it does
// not return. Run by hand, outside the agent, it explains that and exits;
// with the single argument --version it prints the plugin's build.
//
// c is a prototype: one process serves every check of its plugin (protocol
// 2), and each check gets its own Checker, a shallow copy of the value c
// points to (a new zero-valued field stays zero; a pointer, map or slice
// set in c before Serve is shared by every check). Pass the zero value, as
// in sdk.Serve(&check{}), and keep per-check state in its fields.
func Serve(c Checker) {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		printVersion()
		os.Exit(0)
	}
	go exitWhenOrphaned(os.Getppid())
	setCollectorDefault()
	// Read before go-plugin runs, so a bad offer ends the plugin with its
	// reason on stderr rather than in go-plugin's silenced log.
	tlsConfig, err := offeredTLS()
	if err != nil {
		Logger().Error("cannot serve mutual TLS: " + err.Error())
		os.Exit(1)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  pluginwire.Handshake,
		VersionedPlugins: pluginwire.Versions(newServer(c)),
		GRPCServer:       plugin.DefaultGRPCServer,
		// nil without the agent's offer: go-plugin's AutoMTLS then.
		TLSProvider: func() (*tls.Config, error) { return tlsConfig, nil },
		// go-plugin's own chatter stays out of the agent's log; the
		// plugin's logs go through Logger().
		Logger: hclog.NewNullLogger(),
	})
	// Serve returns when the agent shut the plugin down or went away.
	removeSocketDir()
	os.Exit(0)
}

// printVersion answers `pbxwatch-plugin-NAME --version` (the agent never
// passes arguments): the version, revision and build date `make build`
// stamped into the binary, as `pbxwatch version` prints them.
func printVersion() {
	fmt.Println(buildversion.Print(filepath.Base(os.Args[0])))
}

// exitWhenOrphaned ends the plugin once the agent that started it is gone.
// go-plugin has no such guard: an agent killed with SIGKILL would otherwise
// leave its plugins running forever. A plugin is its own process group
// leader (the agent starts it so), and takes its children down with it
// (and itself: SIGKILL to the group ends this process too).
func exitWhenOrphaned(parent int) {
	for range time.Tick(parentPollInterval) {
		if os.Getppid() == parent {
			continue
		}
		// No log line: stderr was a pipe to the dead agent, and writing to
		// it would end the process with SIGPIPE before the clean-up.
		removeSocketDir()
		if pgid, err := syscall.Getpgid(0); err == nil && pgid == os.Getpid() {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
		os.Exit(1)
	}
}

// server adapts Checkers to the gRPC service: in protocol 1 the prototype
// itself (instance ""), in protocol 2 one copy of it per instance.
type server struct {
	pluginv1.UnimplementedCheckerServer
	prototype Checker

	mu        sync.Mutex
	instances map[string]Checker
}

func newServer(c Checker) *server {
	return &server{prototype: c, instances: map[string]Checker{}}
}

// checker returns the Checker of an instance, creating it on Configure.
func (s *server) checker(instance string, create bool) (Checker, bool) {
	if instance == "" {
		return s.prototype, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.instances[instance]
	if !ok && create {
		c, ok = copyChecker(s.prototype), true
		s.instances[instance] = c
	}
	return c, ok
}

// copyChecker makes an instance's Checker from the prototype: a new value
// of the type the pointer points to, holding a shallow copy of it. A
// Checker that is not a pointer is a value, copied by the assignment.
func copyChecker(proto Checker) Checker {
	v := reflect.ValueOf(proto)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return proto
	}
	cp := reflect.New(v.Elem().Type())
	cp.Elem().Set(v.Elem())
	if c, ok := cp.Interface().(Checker); ok {
		return c
	}
	return proto
}

func (s *server) Forget(_ context.Context, req *pluginv1.ForgetRequest) (*pluginv1.ForgetResponse, error) {
	s.mu.Lock()
	delete(s.instances, req.GetInstance())
	s.mu.Unlock()
	return &pluginv1.ForgetResponse{}, nil
}

func (s *server) Configure(ctx context.Context, req *pluginv1.ConfigureRequest) (resp *pluginv1.ConfigureResponse, err error) {
	lines := make(map[int]int, len(req.GetLineMap()))
	for k, v := range req.GetLineMap() {
		lines[int(k)] = int(v)
	}
	cfg := NewConfig(req.GetCheckName(), req.GetStateDir(), req.GetSourceFile(), req.GetConfigYaml(), lines)
	defer func() {
		if p := recover(); p != nil {
			Logger().Error("Configure panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp = &pluginv1.ConfigureResponse{Errors: []string{errorText(fmt.Sprintf("plugin panicked in Configure: %v", p))}}
			err = nil
		}
		// A rejected instance is never run: the agent will not Forget it.
		if len(resp.GetErrors()) > 0 && req.GetInstance() != "" {
			_, _ = s.Forget(ctx, &pluginv1.ForgetRequest{Instance: req.GetInstance()})
		}
	}()
	c, _ := s.checker(req.GetInstance(), true)
	if err := c.Configure(ctx, cfg); err != nil {
		return &pluginv1.ConfigureResponse{Errors: splitErrors(err)}, nil
	}
	return &pluginv1.ConfigureResponse{}, nil
}

func (s *server) Check(ctx context.Context, req *pluginv1.CheckRequest) (resp *pluginv1.CheckResponse, err error) {
	if d := req.GetDeadlineUnixNano(); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Unix(0, d))
		defer cancel()
	}
	// A panic in one run must not take the process (and the state the
	// checker keeps in memory) down: report it as an UNKNOWN run instead,
	// with the stack in the agent's log.
	defer func() {
		if p := recover(); p != nil {
			Logger().Error("Check panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp = &pluginv1.CheckResponse{Status: pluginv1.Status_UNKNOWN, Error: errorText(fmt.Sprintf("plugin panicked: %v", p))}
			err = nil
		}
	}()
	c, ok := s.checker(req.GetInstance(), false)
	if !ok {
		return &pluginv1.CheckResponse{Status: pluginv1.Status_UNKNOWN, Error: "the plugin has no configured instance " + req.GetInstance()}, nil
	}
	res, cerr := c.Check(ctx)
	if cerr != nil {
		return &pluginv1.CheckResponse{Status: pluginv1.Status_UNKNOWN, Error: errorText(cerr.Error())}, nil
	}
	if res == nil {
		return &pluginv1.CheckResponse{Status: pluginv1.Status_UNKNOWN, Error: "plugin returned neither a result nor an error"}, nil
	}
	return toWire(res), nil
}

// removeSocketDir removes the directory the agent made for this plugin's
// socket, which the dead agent can no longer remove.
func removeSocketDir() {
	dir := os.Getenv(plugin.EnvUnixSocketDir)
	if strings.HasPrefix(filepath.Base(dir), "pbxwatch-plugin-") {
		_ = os.RemoveAll(dir)
	}
}
