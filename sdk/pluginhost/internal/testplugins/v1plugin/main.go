// Command v1plugin is a check plugin as a binary built for plugin protocol
// version 1 speaks it, frozen: the handshake values, plugin name and wire
// messages are written out here rather than taken from the SDK, so that a
// change to the SDK or the agent that would break an installed v1 plugin
// binary fails TestProtocolV1PluginStillRuns instead of shipping.
//
// Do not update it to follow the SDK. It changes only if protocol version 1
// itself is retired (see docs/protocol.md, "Versioning").
package main

import (
	"context"
	"os"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pluginv1 "github.com/pbxwatch/pbxwatch/sdk/proto/pbxwatch/plugin/v1"
)

// The handshake of protocol version 1, as shipped.
var handshakeV1 = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "PBXWATCH_PLUGIN",
	MagicCookieValue: "7f3c9e1a-pbxwatch-check-plugin",
}

type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pluginv1.RegisterCheckerServer(s, &checker{})
	return nil
}

func (grpcPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, nil
}

type checker struct {
	pluginv1.UnimplementedCheckerServer
	name string
}

func (c *checker) Configure(_ context.Context, req *pluginv1.ConfigureRequest) (*pluginv1.ConfigureResponse, error) {
	c.name = req.GetCheckName()
	if len(req.GetConfigYaml()) > 0 && string(req.GetConfigYaml()) != "{}\n" {
		return &pluginv1.ConfigureResponse{Errors: []string{"v1plugin takes no config"}}, nil
	}
	return &pluginv1.ConfigureResponse{}, nil
}

func (c *checker) Check(context.Context, *pluginv1.CheckRequest) (*pluginv1.CheckResponse, error) {
	return &pluginv1.CheckResponse{
		Status:  pluginv1.Status_WARNING,
		Summary: "v1 plugin answering for " + c.name,
		Diagnoses: []*pluginv1.Diagnosis{{
			Code: "v1.example", Severity: "warning", Message: "a protocol v1 diagnosis",
			Remediation: []string{"nothing to do"}, Details: map[string]string{"protocol": "1"},
		}},
		Metrics: []*pluginv1.Metric{{Name: "v1plugin_runs", Help: "A v1 metric.", Type: pluginv1.Metric_GAUGE, Value: 1, Labels: map[string]string{"k": "v"}}},
	}, nil
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: handshakeV1,
		Plugins:         plugin.PluginSet{"checker": grpcPlugin{}},
		GRPCServer:      plugin.DefaultGRPCServer,
	})
	os.Exit(0)
}
