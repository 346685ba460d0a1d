package pluginhost

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

type hits struct {
	mu sync.Mutex
	m  map[string]int
}

func (h *hits) count(what string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[string]int{}
	}
	h.m[what]++
}

// 100 MB of stderr without a newline (as go-plugin hands it over, in
// chunks) is relayed as one cut line; the relay never holds more than a
// line's bound.
func TestStderrLineWithoutNewlineIsCutNotBuffered(t *testing.T) {
	var logs bytes.Buffer
	var h hits
	r := newStderrRelay(slog.New(slog.NewTextHandler(&logs, nil)), h.count)
	chunk := bytes.Repeat([]byte("A"), 64<<10)
	for i := 0; i < 1600; i++ { // 100 MiB
		if _, err := r.Write(chunk); err != nil {
			t.Fatal(err)
		}
		if r.buf.Len() > MaxStderrLine {
			t.Fatalf("relay holds %d bytes", r.buf.Len())
		}
	}
	_, _ = r.Write([]byte("tail\nnext line\n"))
	out := logs.String()
	if strings.Count(out, "plugin stderr line cut") != 1 || !strings.Contains(out, "next line") || strings.Contains(out, "tail") {
		t.Fatalf("log:\n%.300s", out)
	}
	if len(out) > 2*MaxStderrLine {
		t.Fatalf("%d bytes logged", len(out))
	}
	if h.m["plugin_stderr_line"] != 1 {
		t.Fatalf("counted %v", h.m)
	}
}

func TestStderrRateIsLimitedAndDropsCounted(t *testing.T) {
	var logs bytes.Buffer
	var h hits
	r := newStderrRelay(slog.New(slog.NewTextHandler(&logs, nil)), h.count)
	const lines = 5000
	for i := 0; i < lines; i++ {
		_, _ = r.Write([]byte("noise line\n"))
	}
	logged := strings.Count(logs.String(), "noise line")
	if logged < StderrBurst || logged > StderrBurst+StderrRate {
		t.Fatalf("%d of %d lines logged", logged, lines)
	}
	if h.m["plugin_stderr_rate"] != lines-logged {
		t.Fatalf("dropped %d counted, %d dropped", h.m["plugin_stderr_rate"], lines-logged)
	}
}

func TestStderrInvalidUTF8IsShown(t *testing.T) {
	var logs bytes.Buffer
	r := newStderrRelay(slog.New(slog.NewTextHandler(&logs, nil)), nil)
	_, _ = r.Write([]byte("caf\xe9\n"))
	if !strings.Contains(logs.String(), `caf\xE9`) {
		t.Fatalf("log: %s", logs.String())
	}
}
