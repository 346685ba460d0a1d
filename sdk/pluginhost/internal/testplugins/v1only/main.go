// Command v1only is a plugin as built before protocol 2: it offers only
// protocol 1 (one check per process, no instance ids, no Forget), as an old
// binary or a plugin in another language does. Each run answers OK with
// its process id and the check name it was configured with, so tests can
// see which process served which check.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/pbxwatch/pbxwatch/sdk/pluginwire"
	pluginv1 "github.com/pbxwatch/pbxwatch/sdk/proto/pbxwatch/plugin/v1"
)

type server struct {
	pluginv1.UnimplementedCheckerServer
	check string
}

func (s *server) Configure(_ context.Context, req *pluginv1.ConfigureRequest) (*pluginv1.ConfigureResponse, error) {
	s.check = req.GetCheckName()
	return &pluginv1.ConfigureResponse{}, nil
}

func (s *server) Check(context.Context, *pluginv1.CheckRequest) (*pluginv1.CheckResponse, error) {
	return &pluginv1.CheckResponse{Status: pluginv1.Status_OK, Summary: fmt.Sprintf("v1 pid %d check %s", os.Getpid(), s.check)}, nil
}

func main() {
	handshake := pluginwire.Handshake
	handshake.ProtocolVersion = pluginwire.ProtocolSingle
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: handshake,
		Plugins:         pluginwire.PluginSet(&server{}),
		GRPCServer:      plugin.DefaultGRPCServer,
		Logger:          hclog.NewNullLogger(),
	})
}
