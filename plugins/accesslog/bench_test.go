package accesslog

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/tailfile"
	"github.com/pbxwatch/pbxwatch/internal/testutil/fakelog"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// benchLog is 32 MiB of a FreePBX host's access log (fakelog's mix: GUI,
// ajax polls, UCP, API calls), built on first use.
var benchLog = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	_ = fakelog.WriteAccess(&b, 32<<20) // a bytes.Buffer does not fail
	return b.Bytes()
})

// BenchmarkReadAccessLog: the whole read path (line cutting, parsing,
// classifying, counting, client streaks) over an in-memory log.
func BenchmarkReadAccessLog(b *testing.B) {
	data := benchLog()
	cfg := defaultConfig()
	lr := tailfile.NewLineReader(cfg.MaxLineBytes)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		st := newState()
		st.maxSlots = cfg.MaxClients
		r := newRun(&cfg, st)
		if _, err := lr.Read(bytes.NewReader(data), 0, 0, false, func() bool { return false }, r); err != nil {
			b.Fatal(err)
		}
		if r.api == 0 || r.unparsed != 0 {
			b.Fatalf("api %d unparsed %d", r.api, r.unparsed)
		}
	}
}

// BenchmarkCheckAccessLogFromFile: Check reading a 32 MiB access log from
// its start (page cache warm), state saved included.
func BenchmarkCheckAccessLogFromFile(b *testing.B) {
	data := benchLog()
	path := filepath.Join(b.TempDir(), "access.log")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		b.StopTimer()
		c := &checker{}
		if err := c.Configure(context.Background(), sdk.NewConfig("bench", b.TempDir(), "", []byte("path: "+path+"\nstart_at: beginning\n"), nil)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := c.Check(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseLine(b *testing.B) {
	line := []byte(`2001:db8::15 - - [29/Nov/2026:22:01:05 +0100] "POST /admin/api/api/gql HTTP/1.1" 403 1234 "https://pbx.example.com/admin/config.php" "GuzzleHttp/7"`)
	var r request
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if parseLine(line, formatCombined, &r) != "" {
			b.Fatal("unparsed")
		}
	}
}
