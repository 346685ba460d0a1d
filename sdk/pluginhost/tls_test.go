package pluginhost_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/pbxwatch/pbxwatch/sdk/internal/buildtest"
	"github.com/pbxwatch/pbxwatch/sdk/pluginhost"
	"github.com/pbxwatch/pbxwatch/sdk/pluginwire"
	pluginv1 "github.com/pbxwatch/pbxwatch/sdk/proto/pbxwatch/plugin/v1"
)

const plaintextPkg = "github.com/pbxwatch/pbxwatch/sdk/pluginhost/internal/testplugins/plaintext"

// curveOf names the curve of an ECDSA certificate's key.
func curveOf(t *testing.T, c *x509.Certificate) string {
	t.Helper()
	key, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		t.Fatalf("the certificate's key is a %T, not ECDSA", c.PublicKey)
	}
	return key.Curve.Params().Name
}

// servedAfterARun runs h once and returns the certificates the agent
// offered and the plugin served.
func servedAfterARun(t *testing.T, h *pluginhost.Host, wantSummary string) (offered, served *x509.Certificate) {
	t.Helper()
	if res := h.Run(context.Background(), 5*time.Second); !strings.Contains(res.Summary, wantSummary) {
		t.Fatalf("run: %+v", res)
	}
	offered, served = pluginhost.TLSCertificates(h)
	if offered == nil || served == nil {
		t.Fatalf("offered %v, served %v: the agent saw no TLS peer", offered, served)
	}
	return offered, served
}

// TestSDKPluginServesTheOfferedP256Certificate: a plugin built with this
// SDK serves the P-256 certificate the agent made for it, not a P-521 one
// of go-plugin's.
func TestSDKPluginServesTheOfferedP256Certificate(t *testing.T) {
	f := start(t, "", nil)
	offered, served := servedAfterARun(t, f.host, "fine")
	if !served.Equal(offered) {
		t.Fatalf("the plugin served its own certificate (%s, %s), not the one offered", served.Subject, curveOf(t, served))
	}
	if c := curveOf(t, served); c != elliptic.P256().Params().Name {
		t.Fatalf("served a %s key", c)
	}
}

// TestClosingShutsTheSDKPluginDownOverTLS: go-plugin's controller
// (Shutdown) is served over the offered TLS too: the plugin exits by
// itself with status 0 instead of being killed after the grace period.
func TestClosingShutsTheSDKPluginDownOverTLS(t *testing.T) {
	f := start(t, "", nil)
	servedAfterARun(t, f.host, "fine")
	cmd := pluginhost.Cmd(f.host)
	f.host.Close()
	if st := cmd.ProcessState; st == nil || !st.Exited() || st.ExitCode() != 0 {
		t.Fatalf("the plugin did not exit by itself: %v", st)
	}
}

// TestPluginsIgnoringTheOfferStillWork: plugins built against go-plugin
// directly (as older SDK builds are) make a P-521 certificate of their
// own; the agent trusts the one they send in the handshake line.
func TestPluginsIgnoringTheOfferStillWork(t *testing.T) {
	for _, c := range []struct{ pkg, summary string }{{v1Pkg, "v1 plugin answering for old"}, {v1onlyPkg, "check old"}} {
		h, err := pluginhost.Start(context.Background(), pluginhost.Spec{Check: "old", Plugin: "old", Binary: buildtest.Build(t, c.pkg), StateDir: t.TempDir()})
		if err != nil {
			t.Fatalf("%s: %v", c.pkg, err)
		}
		offered, served := servedAfterARun(t, h, c.summary)
		h.Close()
		if served.Equal(offered) || curveOf(t, served) != elliptic.P521().Params().Name {
			t.Fatalf("%s served the offered certificate or a %s one: it was to make its own P-521 one", c.pkg, curveOf(t, served))
		}
	}
}

// TestPythonLibraryIgnoringTheOfferStillWorks: the Python library makes
// its own P-256 certificate with openssl; the agent trusts it.
func TestPythonLibraryIgnoringTheOfferStillWorks(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import grpc, google.protobuf").Run(); err != nil {
		t.Skipf("/usr/bin/python3 cannot import grpc (%v); examples/python's tests require it", err)
	}
	h, err := pluginhost.Start(context.Background(), pluginhost.Spec{Check: "py", Plugin: "ami", Binary: pythonPlugin(t), StateDir: t.TempDir(), ConfigYAML: []byte("{}\n")})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	offered, served := servedAfterARun(t, h, "python")
	if served.Equal(offered) || curveOf(t, served) != elliptic.P256().Params().Name {
		t.Fatalf("the Python plugin served the offered certificate or a %s one", curveOf(t, served))
	}
}

// TestAnAgentWithoutTheOfferStillRunsAnSDKPlugin: an agent from before
// the offer (go-plugin's AutoMTLS, no descriptor) runs a plugin built with
// this SDK, over TLS.
func TestAnAgentWithoutTheOfferStillRunsAnSDKPlugin(t *testing.T) {
	cmd := exec.Command(buildtest.Build(t, scriptedPkg))
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  pluginwire.Handshake,
		VersionedPlugins: pluginwire.Versions(nil),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           hclog.NewNullLogger(),
	})
	defer client.Kill()
	proto, err := client.Client()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := proto.Dispense(pluginwire.PluginName)
	if err != nil {
		t.Fatal(err)
	}
	rpc := raw.(pluginv1.CheckerClient)
	ctx := context.Background()
	if _, err := rpc.Configure(ctx, &pluginv1.ConfigureRequest{CheckName: "c", StateDir: t.TempDir(), ConfigYaml: []byte("{}\n"), Instance: "c#1"}); err != nil {
		t.Fatal(err)
	}
	if resp, err := rpc.Check(ctx, &pluginv1.CheckRequest{Instance: "c#1"}); err != nil || resp.GetError() != "" {
		t.Fatalf("check: %v %+v", err, resp)
	}
	if !strings.Contains(strings.Join(cmd.Env, "\n"), "PLUGIN_CLIENT_CERT=") || strings.Contains(strings.Join(cmd.Env, "\n"), pluginwire.TLSOfferFDEnv) {
		t.Fatal("not an agent from before the offer: AutoMTLS without a descriptor")
	}
}

// TestPlainTextPluginIsRefused: a plugin that serves without TLS (and
// sends no certificate) is not talked to.
func TestPlainTextPluginIsRefused(t *testing.T) {
	h, err := pluginhost.Start(context.Background(), pluginhost.Spec{Check: "plain", Plugin: "plaintext", Binary: buildtest.Build(t, plaintextPkg), StateDir: t.TempDir()})
	if err == nil {
		h.Close()
		t.Fatal("a plain-text plugin was accepted")
	}
	if !strings.Contains(err.Error(), "tls: first record does not look like a TLS handshake") {
		t.Fatalf("refused for another reason than its plain text: %v", err)
	}
}

// TestTheOfferIsNotInheritedByThePluginsChildren: once the SDK has read
// the key, a child the plugin starts (a Nagios program) inherits neither
// the descriptor nor its name, and the key was never in the environment.
func TestTheOfferIsNotInheritedByThePluginsChildren(t *testing.T) {
	f := start(t, "", nil)
	f.setScript(t, "behave: child_fds\n")
	res := f.run(5 * time.Second)
	if !strings.Contains(res.Summary, "offer=unset keys=0") {
		t.Fatalf("the child saw the offer's variable or a key: %+v", res)
	}
	// ls -l /proc/self/fd/: "... 1 -> pipe:[123]". Besides the child's
	// stdout and stderr, only pipes this test process holds itself (and
	// passed on without close-on-exec, as a test harness may) are allowed:
	// the agent's end of the offer is closed once the plugin started.
	own := map[string]bool{}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil {
			own[target] = true
		}
	}
	fds := regexp.MustCompile(`(?m) (\d+) -> (pipe:\S+)$`).FindAllStringSubmatch(res.Summary, -1)
	if len(fds) < 2 {
		t.Fatalf("no descriptor listing: %q", res.Summary)
	}
	for _, m := range fds {
		if m[1] != "1" && m[1] != "2" && !own[m[2]] {
			t.Fatalf("the child inherited a pipe on descriptor %s:\n%s", m[1], res.Summary)
		}
	}
}

// pythonPlugin writes a plugin on the Python library (sdk/python) that
// answers "python".
func pythonPlugin(t *testing.T) string {
	t.Helper()
	lib, err := filepath.Abs("../python")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "pbxwatch-plugin-py")
	script := "#!/usr/bin/python3\nimport sys\nsys.path.insert(0, " + strconv.Quote(lib) + ")\nimport pbxwatch_plugin as pw\n\n" +
		"class Check(pw.Checker):\n    def configure(self, cfg):\n        pass\n    def check(self, deadline):\n        return pw.Result(summary=\"python\")\n\n" +
		"pw.serve(Check())\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}
