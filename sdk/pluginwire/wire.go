// Package pluginwire holds what both ends of the plugin transport must agree
// on: the go-plugin handshake and the gRPC plugin type. The SDK serves it, the
// agent's plugin host dials it; plugin authors see neither. It is public
// only because the agent, in another module, needs it; the contract for
// other languages is docs/protocol.md.
package pluginwire

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pluginv1 "github.com/pbxwatch/pbxwatch/sdk/proto/pbxwatch/plugin/v1"
)

// ProtocolVersion is bumped when the agent and plugins built against
// different versions can no longer talk; go-plugin then refuses the plugin
// with a message naming both versions. The agent and the SDK offer every
// version in Versions and go-plugin picks the highest both know.
const ProtocolVersion = 3

// Protocol versions: in 1 a process serves one check; in 2 it serves any
// number, each under the instance id its Configure named (Forget drops
// one); 3 adds Follow, the stream of what a check says between runs.
// Python plugins and binaries built before 2 speak 1, binaries built
// before 3 speak 2.
const (
	ProtocolSingle = 1
	ProtocolShared = 2
	ProtocolFollow = 3
)

// PluginName is the single plugin each binary serves.
const PluginName = "checker"

// CredentialsDirEnv is the environment variable in which the agent names the
// directory of relative `*_file` secrets (sdk.LoadSecret): the
// `credentials/` directory beside the config file in use.
const CredentialsDirEnv = "PBXWATCH_CREDENTIALS_DIR"

// TLSOfferFDEnv names the inherited file descriptor on which the agent
// offers a plugin the key and certificate (PEM, P-256) to serve its mutual
// TLS with, instead of making its own. A plugin may ignore the offer and
// send its own certificate in the handshake line (docs/protocol.md §2).
const TLSOfferFDEnv = "PBXWATCH_PLUGIN_TLS_FD"

// Handshake keeps people from running a plugin binary by hand by mistake
// (go-plugin prints an explanation instead); it is not a security measure.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "PBXWATCH_PLUGIN",
	MagicCookieValue: "7f3c9e1a-pbxwatch-check-plugin",
}

// GRPCPlugin adapts a pluginv1.CheckerServer (plugin side) or hands out a
// pluginv1.CheckerClient (agent side).
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl pluginv1.CheckerServer
}

func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pluginv1.RegisterCheckerServer(s, p.Impl)
	return nil
}

func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return pluginv1.NewCheckerClient(c), nil
}

// PluginSet is what both ends register.
func PluginSet(server pluginv1.CheckerServer) plugin.PluginSet {
	return plugin.PluginSet{PluginName: &GRPCPlugin{Impl: server}}
}

// Versions is what both ends offer: the same service in each version (a
// protocol 1 peer leaves the instance fields empty and never calls Forget;
// the agent calls Follow of a protocol 3 peer only).
func Versions(server pluginv1.CheckerServer) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{ProtocolSingle: PluginSet(server), ProtocolShared: PluginSet(server), ProtocolFollow: PluginSet(server)}
}
