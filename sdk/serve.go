package sdk

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/pbxwatch/pbxwatch/internal/buildversion"
	"github.com/pbxwatch/pbxwatch/internal/pluginpb"
	"github.com/pbxwatch/pbxwatch/internal/pluginwire"
)

// ProtocolVersion is the plugin protocol this SDK speaks.
const ProtocolVersion = pluginwire.ProtocolVersion

// parentPollInterval is how often a plugin checks that its agent still runs.
const parentPollInterval = 500 * time.Millisecond

// Serve runs the plugin until the agent stops it. Call it from main; it does
// not return. Run by hand, outside the agent, it explains that and exits;
// with the single argument --version it prints the plugin's build.
func Serve(c Checker) {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		printVersion()
		os.Exit(0)
	}
	go exitWhenOrphaned(os.Getppid())
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: pluginwire.Handshake,
		Plugins:         pluginwire.PluginSet(&server{checker: c}),
		GRPCServer:      plugin.DefaultGRPCServer,
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

// server adapts a Checker to the gRPC service.
type server struct {
	pluginpb.UnimplementedCheckerServer
	checker Checker
}

func (s *server) Configure(ctx context.Context, req *pluginpb.ConfigureRequest) (resp *pluginpb.ConfigureResponse, err error) {
	lines := make(map[int]int, len(req.GetLineMap()))
	for k, v := range req.GetLineMap() {
		lines[int(k)] = int(v)
	}
	cfg := NewConfig(req.GetCheckName(), req.GetStateDir(), req.GetSourceFile(), req.GetConfigYaml(), lines)
	defer func() {
		if p := recover(); p != nil {
			Logger().Error("Configure panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp = &pluginpb.ConfigureResponse{Errors: []string{errorText(fmt.Sprintf("plugin panicked in Configure: %v", p))}}
			err = nil
		}
	}()
	if err := s.checker.Configure(ctx, cfg); err != nil {
		return &pluginpb.ConfigureResponse{Errors: splitErrors(err)}, nil
	}
	return &pluginpb.ConfigureResponse{}, nil
}

func (s *server) Check(ctx context.Context, req *pluginpb.CheckRequest) (resp *pluginpb.CheckResponse, err error) {
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
			resp = &pluginpb.CheckResponse{Status: pluginpb.Status_UNKNOWN, Error: errorText(fmt.Sprintf("plugin panicked: %v", p))}
			err = nil
		}
	}()
	res, cerr := s.checker.Check(ctx)
	if cerr != nil {
		return &pluginpb.CheckResponse{Status: pluginpb.Status_UNKNOWN, Error: errorText(cerr.Error())}, nil
	}
	if res == nil {
		return &pluginpb.CheckResponse{Status: pluginpb.Status_UNKNOWN, Error: "plugin returned neither a result nor an error"}, nil
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
