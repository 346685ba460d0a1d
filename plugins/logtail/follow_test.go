package logtail

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// eventLog collects what Follow emits.
type eventLog struct {
	mu  sync.Mutex
	evs []sdk.Event
	got chan struct{}
}

func (l *eventLog) emit(evs []sdk.Event) {
	l.mu.Lock()
	l.evs = append(l.evs, evs...)
	l.mu.Unlock()
	select {
	case l.got <- struct{}{}:
	default:
	}
}

func (l *eventLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.evs)
}

func authFailure(n int) string {
	return fmt.Sprintf("[2024-05-01 10:00:00] [freepbx_security.NOTICE]: Authentication failure for admin from 203.0.113.%d [] []\n", n%250)
}

// Following: a matched line's event is sent the moment the line is
// written, with no run in between; the lines read between runs are counted
// once, through a numbered rotation, and the next run reports them without
// sending their events again (issue 22).
func TestFollowSendsEventsBetweenRunsAndCountsOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "freepbx.log")
	appendLines(t, path, 1, 3)
	c := mustChecker(t, "path: "+path+"\n", t.TempDir())
	runCheck(t, c) // start_at: end
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := &eventLog{got: make(chan struct{}, 1)}
	done := make(chan error, 1)
	go func() { done <- c.Follow(ctx, l.emit) }()

	appendRaw(t, path, authFailure(1))
	select {
	case <-l.got:
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s of the line, and no run in between")
	}
	if ev := l.evs[0]; ev.Name != "auth_failure" || !strings.Contains(ev.Message, "203.0.113.1 ") || ev.Labels["file"] != path {
		t.Fatalf("event %+v", ev)
	}

	// A numbered rotation while following, the writer still on the old
	// file for a moment.
	old, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	old.WriteString(authFailure(2))
	old.Close()
	appendLines(t, path, 4, 10)
	appendRaw(t, path, authFailure(3))
	for deadline := time.Now().Add(10 * time.Second); l.count() < 3 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if n := l.count(); n != 3 {
		t.Fatalf("%d events sent while following, want 3: %+v", n, l.evs)
	}
	res := runCheck(t, c)
	if n := sdktest.MetricSum(res, "logtail_lines_total", nil); n != 10 {
		t.Fatalf("lines_total %v, want 10 (3 auth failures and 7 lines written after the start)", n)
	}
	if v, _ := sdktest.Metric(res, "logtail_pattern_matches_total", map[string]string{"file": path, "pattern": "auth_failure"}); v != 3 {
		t.Fatalf("auth_failure matches %v, want 3", v)
	}
	d := sdktest.Diagnosis(res, "logtail.pattern_matched")
	if d == nil || d.Details["count"] != "3" || res.Status != sdk.StatusWarning {
		t.Fatalf("the run after following does not report what was read: %v %+v", res.Status, res.Diagnoses)
	}
	if len(res.Events) != 0 {
		t.Fatalf("events already sent are sent again by the run: %+v", res.Events)
	}
	if res := runCheck(t, c); sdktest.MetricSum(res, "logtail_lines_total", nil) != 10 || sdktest.Diagnosis(res, "logtail.pattern_matched") != nil {
		t.Fatalf("second run: %v %+v", sdktest.MetricSum(res, "logtail_lines_total", nil), res.Diagnoses)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// follow: false keeps today's behaviour: nothing is read between runs.
func TestFollowFalseReadsAtRunsOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "freepbx.log")
	appendLines(t, path, 1, 1)
	c := mustChecker(t, "path: "+path+"\nfollow: false\n", t.TempDir())
	runCheck(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	l := &eventLog{got: make(chan struct{}, 1)}
	if err := c.Follow(ctx, l.emit); err != nil {
		t.Fatal(err)
	}
	appendRaw(t, path, authFailure(1))
	<-ctx.Done()
	if l.count() != 0 {
		t.Fatalf("events with follow: false: %+v", l.evs)
	}
	if res := runCheck(t, c); len(res.Events) != 1 {
		t.Fatalf("the run does not send the event: %+v", res.Events)
	}
}
