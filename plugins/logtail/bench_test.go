package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// freepbxLog returns n bytes of FreePBX-style log: mostly INFO lines, some
// warnings and errors, a few legacy lines and stack-trace continuations,
// and about one line in a thousand matching a default pattern. The same
// mix as bench/logtail's generator.
func freepbxLog(n int) []byte {
	rng := rand.New(rand.NewSource(42))
	msgs := []string{
		"Deprecated way to add Console commands, adding console commands this way can have negative performance impacts. Please use module.xml.",
		"Generating CSS...Done",
		"Running module install.php and install.sql",
		"Updating tables admin, modules, featurecodes... Done",
		"Module core version 17.0.19.2 has been installed",
		"fwconsole reload: Retrieving conf files, reload complete",
		"Starting Call Flow Control server",
		"Retrieving extension 1001 from cache",
	}
	rare := []string{
		"ajaxRequest declined [] []",
		"Authentication failure for admin from 203.0.113.7 [] []",
		"SQLSTATE[HY000] [2002] Connection refused [] []",
		"Unable to connect to Asterisk Manager (127.0.0.1:5038) [] []",
	}
	levels := []string{"INFO", "INFO", "INFO", "INFO", "DEBUG", "NOTICE", "WARNING", "ERROR"}
	var b bytes.Buffer
	b.Grow(n + 512)
	for i := 0; b.Len() < n; i++ {
		ts := fmt.Sprintf("2024-05-%02d %02d:%02d:%02d", 1+i/86400%28, i/3600%24, i/60%60, i%60)
		switch r := rng.Intn(1000); {
		case r == 0:
			fmt.Fprintf(&b, "[%s] [freepbx.WARNING]: %s\n", ts, rare[rng.Intn(len(rare))])
		case r < 20:
			fmt.Fprintf(&b, "[2019-Jul-25 14:28:31] [INFO] (libraries/modulefunctions.class.php:%d) - %s\n", rng.Intn(3000), msgs[rng.Intn(len(msgs))])
		case r < 40:
			fmt.Fprintf(&b, "#%d /var/www/html/admin/libraries/BMO/Hooks.class.php(%d): FreePBX\\Hooks->processHooks()\n", rng.Intn(20), rng.Intn(500))
		default:
			fmt.Fprintf(&b, "[%s] [freepbx.%s]: %s {\"id\":%d} []\n", ts, levels[rng.Intn(len(levels))], msgs[rng.Intn(len(msgs))], rng.Intn(100000))
		}
	}
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
	lr := newLineReader(cfg.MaxLineBytes)
	b.SetBytes(int64(len(benchData)))
	b.ReportAllocs()
	for b.Loop() {
		r := newRun(&cfg, m)
		if _, err := lr.read(bytes.NewReader(benchData), 0, 0, false, func() bool { return false }, r); err != nil {
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
