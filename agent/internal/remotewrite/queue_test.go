package remotewrite

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

type dropCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (d *dropCounter) add(reason string, samples int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n == nil {
		d.n = map[string]int{}
	}
	d.n[reason] += samples
}

func (d *dropCounter) get(reason string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n[reason]
}

func openTestQueue(t *testing.T, dir string, maxBytes int64, maxAge time.Duration, drops *dropCounter) *Queue {
	t.Helper()
	q, err := OpenQueue(dir, maxBytes, maxAge, drops.add)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(q.Close)
	return q
}

// drain reads and acknowledges every record, returning their timestamps.
func drain(q *Queue) []time.Time {
	var out []time.Time
	for rec := q.Head(); rec != nil; rec = q.Head() {
		out = append(out, rec.Timestamp)
		q.Done(rec)
	}
	return out
}

func TestQueueReplaysOldestFirstAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	drops := &dropCounter{}
	q := openTestQueue(t, dir, 1<<20, time.Hour, drops)
	t0 := time.Now().Truncate(time.Millisecond)
	for i := range 10 {
		if err := q.Append(t0.Add(time.Duration(i)*time.Second), 3, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	// Store three, then "crash": reopen without Close (as after SIGKILL).
	for range 3 {
		q.Done(q.Head())
	}
	q2 := openTestQueue(t, dir, 1<<20, time.Hour, drops)
	got := drain(q2)
	if len(got) != 7 || !got[0].Equal(t0.Add(3*time.Second)) || !got[6].Equal(t0.Add(9*time.Second)) {
		t.Fatalf("replayed %v", got)
	}
	for i := 1; i < len(got); i++ {
		if !got[i].After(got[i-1]) {
			t.Fatalf("out of order: %v", got)
		}
	}
	if len(drops.n) != 0 {
		t.Fatalf("drops %v", drops.n)
	}
}

func TestQueueCutsATornTail(t *testing.T) {
	dir := t.TempDir()
	drops := &dropCounter{}
	q := openTestQueue(t, dir, 1<<20, time.Hour, drops)
	now := time.Now()
	for i := range 3 {
		if err := q.Append(now.Add(time.Duration(i)*time.Millisecond), 1, []byte("payload")); err != nil {
			t.Fatal(err)
		}
	}
	q.Close()
	seg := filepath.Join(dir, "00000001.seg")
	st, _ := os.Stat(seg)
	// A crash in the middle of the third record's write.
	if err := os.Truncate(seg, st.Size()-3); err != nil {
		t.Fatal(err)
	}
	q2 := openTestQueue(t, dir, 1<<20, time.Hour, drops)
	if n := len(drain(q2)); n != 2 {
		t.Fatalf("read %d records after the torn tail, want 2", n)
	}
	// Appending after the repair works and is read.
	if err := q2.Append(now.Add(time.Second), 1, []byte("next")); err != nil {
		t.Fatal(err)
	}
	if n := len(drain(q2)); n != 1 {
		t.Fatalf("read %d new records, want 1", n)
	}
}

func TestQueueMaxBytesDropsOldestAndCountsThem(t *testing.T) {
	drops := &dropCounter{}
	q := openTestQueue(t, t.TempDir(), 64<<10, time.Hour, drops) // 16 KiB segments
	payload := make([]byte, 1000)
	now := time.Now()
	const n = 200 // 200 records of ~1 KiB: three times the bound
	for i := range n {
		if err := q.Append(now.Add(time.Duration(i)*time.Millisecond), 5, payload); err != nil {
			t.Fatal(err)
		}
		if q.Bytes() > 64<<10 {
			t.Fatalf("queue holds %d bytes, bound 65536", q.Bytes())
		}
	}
	got := drain(q)
	if len(got) == 0 || len(got) == n {
		t.Fatalf("kept %d of %d records", len(got), n)
	}
	if !got[len(got)-1].Equal(now.Add((n - 1) * time.Millisecond).Truncate(time.Millisecond)) {
		t.Fatalf("the newest record was not kept: %v", got[len(got)-1])
	}
	if dropped := drops.get(ReasonQueueFull); dropped != 5*(n-len(got)) {
		t.Fatalf("dropped %d samples, want %d (5 per record not kept)", dropped, 5*(n-len(got)))
	}
}

func TestQueueMaxAgeDropsOldRecords(t *testing.T) {
	drops := &dropCounter{}
	q := openTestQueue(t, t.TempDir(), 1<<20, time.Minute, drops)
	now := time.Now()
	for i := range 5 {
		if err := q.Append(now.Add(-time.Duration(5-i)*25*time.Second), 2, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	// Ages 125s, 100s, 75s are over a minute; 50s and 25s are kept.
	if got := drain(q); len(got) != 2 {
		t.Fatalf("kept %d records", len(got))
	}
	if d := drops.get(ReasonTooOld); d != 6 {
		t.Fatalf("dropped %d samples as too_old, want 6", d)
	}
}

func TestQueueFullySentSegmentsAreDeleted(t *testing.T) {
	dir := t.TempDir()
	q := openTestQueue(t, dir, 128<<10, time.Hour, &dropCounter{})
	payload := make([]byte, 4000)
	for i := range 30 {
		if err := q.Append(time.Now().Add(time.Duration(i)*time.Millisecond), 1, payload); err != nil {
			t.Fatal(err)
		}
	}
	drain(q)
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(segs) != 1 {
		t.Fatalf("%d segments left after everything was sent: %v", len(segs), segs)
	}
	if q.Bytes() != 0 {
		t.Fatalf("%d bytes left after everything was sent", q.Bytes())
	}
	// And what comes next is still queued and read.
	if err := q.Append(time.Now().Add(time.Second), 1, payload); err != nil {
		t.Fatal(err)
	}
	if n := len(drain(q)); n != 1 {
		t.Fatalf("read %d records after the queue emptied, want 1", n)
	}
}
