package sdk

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	pluginv1 "github.com/pbxwatch/pbxwatch/sdk/proto/pbxwatch/plugin/v1"
)

// Follower is a Checker with something to say between its runs (protocol
// 3), such as a log check that follows its file: Follow runs while the
// check is configured, from just after Configure until the agent forgets
// the check (ctx is then done), and calls emit with events the moment
// they happen. The agent sends each event's alert at once; the next run
// still reports status, totals and diagnoses, so a Follower must count
// what it emitted in its next Result's metrics and diagnoses but not send
// those events again in Result.Events.
//
// Follow returning early (nothing to follow: `follow: false`) is fine;
// returning an error ends following with that error in the agent's log.
// emit may be called from any goroutine, but not after Follow returned.
type Follower interface {
	Follow(ctx context.Context, emit func([]Event)) error
}

// maxFollowBatch bounds the events of one message, as a run's events are.
const maxFollowBatch = 500

func (s *server) Follow(req *pluginv1.FollowRequest, stream pluginv1.Checker_FollowServer) (err error) {
	c, ok := s.checker(req.GetInstance(), false)
	if !ok {
		return fmt.Errorf("the plugin has no configured instance %s", req.GetInstance())
	}
	f, ok := c.(Follower)
	if !ok {
		return nil // nothing to say between runs
	}
	defer func() {
		if p := recover(); p != nil {
			Logger().Error("Follow panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("plugin panicked in Follow: %v", p)
		}
	}()
	var mu sync.Mutex
	ctx := stream.Context()
	emit := func(evs []Event) {
		for len(evs) > 0 {
			n := min(len(evs), maxFollowBatch)
			// The same boundary as a run's result: scrubbed, valid UTF-8,
			// bounded.
			msg := &pluginv1.FollowMessage{Events: toWire(&Result{Events: evs[:n]}).Events}
			evs = evs[n:]
			mu.Lock()
			serr := stream.Send(msg)
			mu.Unlock()
			if serr != nil {
				return // the agent went away; ctx ends Follow
			}
		}
	}
	if err := f.Follow(ctx, emit); err != nil && ctx.Err() == nil {
		return fmt.Errorf("follow: %s", errorText(err.Error()))
	}
	return nil
}
