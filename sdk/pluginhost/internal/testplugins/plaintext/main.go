// Command plaintext is a plugin that answers in plain text: it drops the
// agent's certificate and TLS offer before go-plugin's Serve, which then
// serves gRPC without TLS and sends no certificate. The agent must refuse
// it rather than talk to it unauthenticated.
package main

import (
	"context"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/pbxwatch/pbxwatch/sdk/pluginwire"
	pluginv1 "github.com/pbxwatch/pbxwatch/sdk/proto/pbxwatch/plugin/v1"
)

// server answers as a working plugin would, so that only the missing TLS
// can make the agent refuse it.
type server struct {
	pluginv1.UnimplementedCheckerServer
}

func (*server) Configure(context.Context, *pluginv1.ConfigureRequest) (*pluginv1.ConfigureResponse, error) {
	return &pluginv1.ConfigureResponse{}, nil
}

func (*server) Check(context.Context, *pluginv1.CheckRequest) (*pluginv1.CheckResponse, error) {
	return &pluginv1.CheckResponse{Status: pluginv1.Status_OK, Summary: "plain text"}, nil
}

func main() {
	_ = os.Unsetenv("PLUGIN_CLIENT_CERT")
	_ = os.Unsetenv(pluginwire.TLSOfferFDEnv)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  pluginwire.Handshake,
		VersionedPlugins: pluginwire.Versions(&server{}),
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           hclog.NewNullLogger(),
	})
}
