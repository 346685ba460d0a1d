package scrub

import (
	"context"
	"log/slog"
)

// Handler returns a slog.Handler that scrubs the message and every string
// attribute (errors included) with set before next writes the record.
func Handler(set *Set, next slog.Handler) slog.Handler { return handler{set, next} }

type handler struct {
	set  *Set
	next slog.Handler
}

func (h handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.set.String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h handler) WithAttrs(as []slog.Attr) slog.Handler {
	scrubbed := make([]slog.Attr, len(as))
	for i, a := range as {
		scrubbed[i] = h.attr(a)
	}
	return handler{h.set, h.next.WithAttrs(scrubbed)}
}

func (h handler) WithGroup(name string) slog.Handler {
	return handler{h.set, h.next.WithGroup(name)}
}

func (h handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.set.String(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]any, len(g))
		for i, ga := range g {
			out[i] = h.attr(ga)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, h.set.String(err.Error()))
		}
		return slog.String(a.Key, h.set.String(v.String()))
	default:
		return a
	}
}
