package sdk

import (
	"context"
	"log/slog"
	"os"
	"sync"
)

var (
	loggerOnce sync.Once
	logger     *slog.Logger
	// stderr is the process's real standard error, captured before
	// go-plugin's Serve replaces os.Stderr with a pipe of its own. The agent
	// reads fd 2 directly, which also carries panic traces.
	stderr = os.Stderr
)

// Logger returns the plugin's logger. It writes JSON lines to stderr, which
// the agent reads and re-logs under its own logger, tagged with the check and
// at the level given here. Registered secrets are scrubbed from messages and
// string attributes. Never write to stdout: it belongs to the transport.
func Logger() *slog.Logger {
	loggerOnce.Do(func() {
		h := slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug})
		logger = slog.New(scrubHandler{h})
	})
	return logger
}

// scrubHandler removes registered secrets before a record is written.
type scrubHandler struct{ next slog.Handler }

func (h scrubHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h scrubHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Scrub(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(scrubAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h scrubHandler) WithAttrs(as []slog.Attr) slog.Handler {
	scrubbed := make([]slog.Attr, len(as))
	for i, a := range as {
		scrubbed[i] = scrubAttr(a)
	}
	return scrubHandler{h.next.WithAttrs(scrubbed)}
}

func (h scrubHandler) WithGroup(name string) slog.Handler {
	return scrubHandler{h.next.WithGroup(name)}
}

func scrubAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Scrub(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]any, len(g))
		for i, ga := range g {
			out[i] = scrubAttr(ga)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, Scrub(err.Error()))
		}
		return slog.String(a.Key, Scrub(v.String()))
	default:
		return a
	}
}
