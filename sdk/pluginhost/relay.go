package pluginhost

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"

	"time"
	"unicode/utf8"

	"github.com/pbxwatch/pbxwatch/sdk/bounds"
)

// stderrRelay receives a plugin's stderr line by line (go-plugin writes each
// line followed by "\n") and logs it through the agent's slog logger. JSON
// lines from sdk.Logger keep their level, message and attributes; anything
// else (a panic trace, a stray print) is logged as is at WARN, because
// a plugin using the SDK has no other reason to write plain text there.
//
// Both what it holds and what it logs are bounded: a line is cut at
// MaxStderrLine bytes (the rest, up to the next newline, is dropped rather
// than buffered), and lines beyond StderrBurst, then StderrRate a second,
// are dropped and counted, with one summary line when logging resumes.
type stderrRelay struct {
	log     *slog.Logger
	count   func(what string)
	limiter *lineBucket
	mu      sync.Mutex
	buf     bytes.Buffer
	// skipping: the current line was cut; drop until its newline.
	skipping bool
	dropped  int
	// last keeps the plugin's last few stderr lines, cut short, for the
	// error of a plugin that dies before its handshake.
	last []string
}

// Bounds of the stderr lines quoted when a plugin dies before its
// handshake: the end of a panic or of a "fatal: ..." message.
const (
	lastStderrLines    = 5
	lastStderrLineSize = 300
)

// lastLines returns the last stderr lines received (at most
// lastStderrLines, each at most lastStderrLineSize bytes, valid UTF-8).
// The caller scrubs them.
func (r *stderrRelay) lastLines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.last...)
}

func (r *stderrRelay) keep(line []byte) {
	l := bounds.Valid(string(bytes.TrimSpace(line)))
	if len(l) > lastStderrLineSize {
		i := lastStderrLineSize
		for i > 0 && !utf8.RuneStart(l[i]) {
			i--
		}
		l = l[:i] + "…"
	}
	if len(r.last) == lastStderrLines {
		r.last = append(r.last[:0], r.last[1:]...)
	}
	r.last = append(r.last, l)
}

// Bounds of a plugin's stderr, per plugin process.
const (
	MaxStderrLine = 8 << 10 // bytes of one line
	StderrRate    = 50      // lines a second, sustained
	StderrBurst   = 500     // lines at once
)

func newStderrRelay(log *slog.Logger, count func(string)) *stderrRelay {
	if count == nil {
		count = func(string) {}
	}
	return &stderrRelay{log: log, count: count, limiter: &lineBucket{tokens: StderrBurst, last: time.Now()}}
}

func (r *stderrRelay) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if !r.skipping {
			room := MaxStderrLine - r.buf.Len()
			if len(chunk) > room {
				r.buf.Write(chunk[:room])
				r.logLine(r.buf.Bytes(), true)
				r.buf.Reset()
				r.skipping = true
			} else {
				r.buf.Write(chunk)
			}
		}
		if i < 0 {
			break // keep the partial line for the next write
		}
		if !r.skipping {
			r.logLine(bytes.TrimRight(r.buf.Bytes(), "\r"), false)
		}
		r.buf.Reset()
		r.skipping = false
		p = p[i+1:]
	}
	return n, nil
}

// lineBucket is a token bucket of StderrBurst lines refilled at
// StderrRate a second (kept here rather than a dependency: plugin modules
// built against the SDK compile this package too).
type lineBucket struct {
	tokens float64
	last   time.Time
}

func (b *lineBucket) Allow() bool {
	now := time.Now()
	b.tokens += now.Sub(b.last).Seconds() * StderrRate
	if b.tokens > StderrBurst {
		b.tokens = StderrBurst
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (r *stderrRelay) logLine(line []byte, cut bool) {
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	r.keep(line)
	if !r.limiter.Allow() {
		r.dropped++
		r.count("plugin_stderr_rate")
		return
	}
	if r.dropped > 0 {
		r.log.Warn("plugin stderr lines dropped: more than the relay's rate limit", "dropped", r.dropped, "rate_per_second", StderrRate, "burst", StderrBurst)
		r.dropped = 0
	}
	if cut {
		r.count("plugin_stderr_line")
		r.log.Warn("plugin stderr line cut", "bytes_kept", MaxStderrLine, "line", bounds.Valid(string(line)))
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
	r.log.Warn("plugin stderr", "line", bounds.Valid(string(line)))
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
