package pluginhost

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/pluginwire"
	pluginv1 "github.com/pbxwatch/pbxwatch/sdk/proto/pbxwatch/plugin/v1"
)

// follow opens the check's Follow stream in p (protocol 3) and hands what
// the plugin says between runs to spec.OnEvents, cleaned as a run's result
// is, until the check is configured again (a restarted process) or closed.
// Plugins speaking 1 or 2 have nothing to say between runs.
func (h *Host) follow(p *process) {
	if h.spec.OnEvents == nil || p.version < pluginwire.ProtocolFollow {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.followMu.Lock()
	if h.stopFollow != nil {
		h.stopFollow()
	}
	h.stopFollow = cancel
	h.followMu.Unlock()
	instance := h.instanceIn(p)
	go func() {
		defer cancel()
		stream, err := p.rpc.Follow(ctx, &pluginv1.FollowRequest{Instance: instance})
		if err != nil {
			h.followEnded(ctx, err)
			return
		}
		for {
			msg, err := stream.Recv()
			if err != nil {
				h.followEnded(ctx, err)
				return
			}
			res := h.clean(&sdk.Result{Events: eventsFromWire(msg.GetEvents())})
			if len(res.Events) > 0 {
				h.spec.OnEvents(res.Events)
			}
		}
	}()
}

// followEnded logs why a Follow stream ended, unless the agent ended it or
// the plugin had nothing to follow.
func (h *Host) followEnded(ctx context.Context, err error) {
	switch {
	case ctx.Err() != nil, errors.Is(err, io.EOF):
		return
	case status.Code(err) == codes.Unavailable, status.Code(err) == codes.Canceled:
		h.log.Debug("follow stream ended: the plugin process went away", "check", h.spec.Check, "err", err)
		return
	}
	h.log.Warn("the plugin stopped following its check between runs; the next runs still report", "check", h.spec.Check, "err", h.scrub.String(err.Error()))
}

// stopFollowing ends the check's Follow stream, if any.
func (h *Host) stopFollowing() {
	h.followMu.Lock()
	defer h.followMu.Unlock()
	if h.stopFollow != nil {
		h.stopFollow()
		h.stopFollow = nil
	}
}

func eventsFromWire(in []*pluginv1.Event) []sdk.Event {
	out := make([]sdk.Event, 0, len(in))
	for _, e := range in {
		ev := sdk.Event{Name: e.GetName(), Severity: sdk.Severity(e.GetSeverity()), Message: e.GetMessage(), Labels: e.GetLabels()}
		if t := e.GetTimeUnixNano(); t != 0 {
			ev.Time = time.Unix(0, t)
		}
		out = append(out, ev)
	}
	return out
}
