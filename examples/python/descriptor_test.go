// Package python holds the Python example plugin's tests: its descriptor of
// the plugin protocol is current, and it works through the agent's own
// plugin host and `pbxwatch check`.
package python

import (
	"bytes"
	"encoding/base64"
	"flag"
	"os"
	"regexp"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"

	pluginv1 "github.com/pbxwatch/pbxwatch/sdk/proto/pbxwatch/plugin/v1"
)

var update = flag.Bool("update", false, "rewrite the descriptor embedded in sdk/python/pbxwatch_plugin.py")

const pyLib = "../../sdk/python/pbxwatch_plugin.py"

var descriptorBlock = regexp.MustCompile(`(?s)# BEGIN DESCRIPTOR\n.*?# END DESCRIPTOR\n`)

// wantDescriptor is the FileDescriptorSet of the .proto the agent is built
// from, as the Python library must embed it.
func wantDescriptor(t *testing.T) string {
	fd := protodesc.ToFileDescriptorProto(pluginv1.File_pbxwatch_plugin_v1_plugin_proto)
	fd.SourceCodeInfo = nil
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(&descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{fd}})
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestPythonDescriptorMatchesTheProto(t *testing.T) {
	src, err := os.ReadFile(pyLib)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte("# BEGIN DESCRIPTOR\n_DESCRIPTOR = (\n")
	enc := wantDescriptor(t)
	for len(enc) > 0 {
		n := min(len(enc), 76)
		want = append(want, "    \""+enc[:n]+"\"\n"...)
		enc = enc[n:]
	}
	want = append(want, ")\n# END DESCRIPTOR\n"...)
	got := descriptorBlock.Find(src)
	if bytes.Equal(got, want) {
		return
	}
	if !*update {
		t.Fatalf("%s embeds a stale descriptor of the plugin protocol; run: go test ./examples/python -run Descriptor -update", pyLib)
	}
	if err := os.WriteFile(pyLib, descriptorBlock.ReplaceAll(src, want), 0o644); err != nil {
		t.Fatal(err)
	}
}
