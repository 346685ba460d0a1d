package pluginhost

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// stderrRelay receives a plugin's stderr line by line (go-plugin writes each
// line followed by "\n") and logs it through the agent's slog logger. JSON
// lines from sdk.Logger keep their level, message and attributes; anything
// else (a panic trace, a stray print) is logged as is at WARN, because
// a plugin using the SDK has no other reason to write plain text there.
type stderrRelay struct {
	log *slog.Logger
	mu  sync.Mutex
	buf bytes.Buffer
}

func newStderrRelay(log *slog.Logger) *stderrRelay { return &stderrRelay{log: log} }

func (r *stderrRelay) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf.Write(p)
	for {
		line, err := r.buf.ReadBytes('\n')
		if err == io.EOF {
			r.buf.Write(line) // keep the partial line for the next write
			return len(p), nil
		}
		r.logLine(bytes.TrimRight(line, "\r\n"))
	}
}

func (r *stderrRelay) logLine(line []byte) {
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	var rec map[string]any
	if line[0] == '{' && json.Unmarshal(line, &rec) == nil {
		msg, _ := rec["msg"].(string)
		level := parseLevel(rec["level"])
		attrs := make([]any, 0, 2*len(rec))
		for k, v := range rec {
			if k == "msg" || k == "level" || k == "time" {
				continue
			}
			attrs = append(attrs, slog.Any(k, v))
		}
		r.log.Log(context.Background(), level, msg, attrs...)
		return
	}
	r.log.Warn("plugin stderr", "line", string(line))
}

func parseLevel(v any) slog.Level {
	s, _ := v.(string)
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return slog.LevelInfo
	}
	return l
}

// stdoutRelay receives what a plugin writes to stdout after the handshake.
// go-plugin would otherwise drop it silently; saying so helps the author.
type stdoutRelay struct {
	log  *slog.Logger
	once sync.Once
}

func newStdoutRelay(log *slog.Logger) *stdoutRelay { return &stdoutRelay{log: log} }

func (r *stdoutRelay) Write(p []byte) (int, error) {
	r.log.Warn("plugin wrote to stdout, which is reserved for the plugin transport; ignored (log to stderr with sdk.Logger)",
		"bytes", len(p), "text", truncate(string(p), 200))
	return len(p), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
