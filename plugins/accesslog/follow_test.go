package accesslog

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// Following: a failing API call of a client that succeeded before is an
// event the moment its line is written, with no run in between; requests
// read between runs are counted once, through a rotation, and the next run
// reports them (issue 22).
func TestFollowSendsFailingCallsBetweenRunsAndCountsOnce(t *testing.T) {
	c, w, _ := setup(t, "")
	w.req("127.0.0.2", "POST", "/admin/api/api/token", 200, 1)
	runCheck(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var evs []sdk.Event
	got := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- c.Follow(ctx, func(e []sdk.Event) {
			mu.Lock()
			evs = append(evs, e...)
			mu.Unlock()
			select {
			case got <- struct{}{}:
			default:
			}
		})
	}()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(evs) }
	w.req("127.0.0.2", "POST", "/admin/api/api/gql?token=s3cr3t", 403, 1)
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s of the failing call, and no run in between")
	}
	mu.Lock()
	ev := evs[0]
	mu.Unlock()
	if ev.Name != "api_failing" || ev.Labels["client"] != "127.0.0.2" || ev.Labels["status"] != "403" || ev.Labels["endpoint"] != "gql" || strings.Contains(ev.Message, "s3cr3t") {
		t.Fatalf("event %+v", ev)
	}
	// A scanner that never succeeded is not an event; a rotation while
	// following loses and repeats nothing.
	w.req("127.0.0.9", "POST", "/admin/api/api/token", 401, 3)
	if err := os.Rename(w.path, w.path+".1"); err != nil {
		t.Fatal(err)
	}
	w.req("127.0.0.2", "GET", "/admin/api/api/rest/x", 500, 2)
	for deadline := time.Now().Add(10 * time.Second); count() < 3 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if n := count(); n != 3 {
		t.Fatalf("%d events while following, want 3 (403, then 500 twice): %+v", n, evs)
	}
	res := runCheck(t, c)
	var total float64
	for _, m := range res.Metrics {
		if m.Name == "accesslog_requests_total" {
			total += m.Value
		}
	}
	if total != 7 {
		t.Fatalf("requests_total %v, want 7", total)
	}
	if len(sdktest.Diagnoses(res, "accesslog.api_failing")) != 1 || res.Status != sdk.StatusCritical || !strings.HasPrefix(res.Summary, "6 new requests") {
		t.Fatalf("the run after following: %v %q %+v", res.Status, res.Summary, res.Diagnoses)
	}
	if len(res.Events) != 0 {
		t.Fatalf("events sent again by the run: %+v", res.Events)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
