package logtail

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/tailfile"
	"github.com/pbxwatch/pbxwatch/internal/testutil/fakelog"
)

// freepbxLog returns about n bytes of FreePBX-style log, the same mix
// bench/logtail reads.
func freepbxLog(n int) []byte {
	var b bytes.Buffer
	b.Grow(n + 512)
	_ = fakelog.Write(&b, int64(n)) // a bytes.Buffer does not fail
	return b.Bytes()
}

// benchLog is built on first use, so plain `go test` does not pay for it.
var benchLog = sync.OnceValue(func() []byte { return freepbxLog(32 << 20) })

// BenchmarkReadPath: the whole read path (line cutting, level parsing,
// default pattern set with its prefilter) over an in-memory log.
func BenchmarkReadPath(b *testing.B) {
	benchData := benchLog()
	cfg := config{Format: "freepbx", MaxLineBytes: defaultMaxLineBytes, Patterns: defaultPatterns}
	m, err := newMatcher(cfg.Patterns)
	if err != nil {
		b.Fatal(err)
	}
	lr := tailfile.NewLineReader(cfg.MaxLineBytes)
	b.SetBytes(int64(len(benchData)))
	b.ReportAllocs()
	for b.Loop() {
		r := newRun(&cfg, m)
		if _, err := lr.Read(bytes.NewReader(benchData), 0, 0, false, func() bool { return false }, r); err != nil {
			b.Fatal(err)
		}
		if r.lineCount() == 0 || r.matches[0].count == 0 {
			b.Fatal("nothing counted")
		}
	}
}

// BenchmarkCheckFromFile: Check reading a 32 MiB file from its start
// (page cache warm), state saved included.
func BenchmarkCheckFromFile(b *testing.B) {
	benchData := benchLog()
	dir := b.TempDir()
	path := filepath.Join(dir, "freepbx.log")
	if err := os.WriteFile(path, benchData, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchData)))
	for b.Loop() {
		b.StopTimer()
		c := &checker{}
		stateDir := b.TempDir()
		if err := c.Configure(context.Background(), sdkConfig("path: "+path+"\nstart_at: beginning\n", stateDir)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := c.Check(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseLine(b *testing.B) {
	line := []byte(`[2024-05-01 10:00:00] [freepbx.WARNING]: Module core version 17.0.19.2 has been installed {"id":1} []`)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		parseLine(line, formatFreePBX)
	}
}

func BenchmarkScanDefaultPatterns(b *testing.B) {
	m, _ := newMatcher(defaultPatterns)
	benchData := benchLog()
	buf := benchData[:bytes.LastIndexByte(benchData, '\n')+1]
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		m.scan(buf, defaultMaxLineBytes, func(int, []byte) {})
	}
}
