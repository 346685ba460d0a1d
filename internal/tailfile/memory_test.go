package tailfile

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A shared plugin process keeps a Tailer per check, and during a reload the
// old and new ones: what a Tailer keeps between runs is multiplied by every
// check and every reload. It used to keep its 320 KiB read buffer (500
// checks: 160 MiB live, twice that in RSS after a reload); now the buffer
// is borrowed for a run only.
func TestFaultTailerKeepsNoReadBufferBetweenRuns(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	if err := os.WriteFile(path, []byte(strings.Repeat("a line of the log\n", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	const n = 200
	tailers := make([]*Tailer, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range tailers {
		tailers[i] = New(path, "beginning", 64<<10, log)
		if _, err := tailers[i].Poll(&Position{}, &Counters{}, true, discard{}, func() bool { return false }); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	// A buffer kept would be chunkSize+64 KiB+64 KiB = 384 KiB each.
	if per > 16<<10 {
		t.Fatalf("each Tailer keeps %d bytes between runs, want under 16 KiB", per)
	}
	runtime.KeepAlive(tailers)
}

type discard struct{}

func (discard) Lines([]byte)      {}
func (discard) Line([]byte, bool) {}
