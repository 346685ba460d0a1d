package tailfile

import (
	"context"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// FollowReadTimeout bounds one read while following, as a run's timeout
// bounds a run; a read applies it once it holds its checker's lock.
const FollowReadTimeout = 10 * time.Second

// Follow is a log plugin's Follow: it reads the log at path whenever it
// may have changed (Watch) and emits the events a read returns. It returns
// when ctx is done.
func Follow(ctx context.Context, path string, read func(context.Context) []sdk.Event, emit func([]sdk.Event)) {
	Watch(ctx, path, func() {
		if evs := read(ctx); len(evs) > 0 {
			emit(evs)
		}
	})
}

const (
	// followDebounce gathers the notifications of a burst of writes into a
	// poll at most this often; the first write after a quiet spell is read
	// at once.
	followDebounce = 20 * time.Millisecond
	// pollFallback is how often a file is polled where the file system
	// sends no notifications (inotify unavailable, out of watches).
	pollFallback = 250 * time.Millisecond
	// pollSafety polls even with notifications, for file systems that
	// accept a watch but never report (network file systems' remote
	// writes).
	pollSafety = 2 * time.Second
)

// Watch calls poll whenever the log at path or a file beside it (a
// rotation) may have changed: on file-system notifications (inotify, via
// fsnotify) gathered for followDebounce, and every pollFallback where
// there are none (every pollSafety anyway). It returns when ctx is done.
// poll runs in Watch's goroutine, never twice at once.
func Watch(ctx context.Context, path string, poll func()) {
	every := pollFallback
	var events chan fsnotify.Event
	w, err := fsnotify.NewWatcher()
	if err == nil {
		if err = w.Add(filepath.Dir(path)); err == nil {
			every, events = pollSafety, w.Events
		}
		defer w.Close()
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	var debounce <-chan time.Time
	last := time.Now()
	run := func() { poll(); last = time.Now() }
	run() // what was written since the last run
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				events, every = nil, pollFallback
				tick.Reset(every)
				continue
			}
			switch {
			case debounce != nil || !concerns(ev.Name, path):
			case time.Since(last) >= followDebounce:
				run() // the first write after a quiet spell: at once
			default:
				debounce = time.After(followDebounce - time.Since(last))
			}
		case <-debounce:
			debounce = nil
			run()
		case <-tick.C:
			run()
		}
	}
}

// concerns says whether a notification about name may change what is read
// of path: the file itself or one of its rotated siblings.
func concerns(name, path string) bool {
	base := filepath.Base(path)
	n := filepath.Base(name)
	return len(n) >= len(base) && n[:len(base)] == base
}
