package tailfile

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil/stormtest"
)

// countSink records every numbered line it is handed.
type countSink struct{ c *stormtest.Counts }

func (s countSink) Lines(buf []byte) {
	for len(buf) > 0 {
		i := bytes.IndexByte(buf, '\n')
		s.Line(buf[:i], false)
		buf = buf[i+1:]
	}
}

func (s countSink) Line(l []byte, _ bool) {
	if i := bytes.Index(l, []byte("line ")); i >= 0 {
		rest := l[i+5:]
		if j := bytes.IndexByte(rest, ' '); j >= 0 {
			if n, err := strconv.Atoi(string(rest[:j])); err == nil {
				s.c.See(n)
			}
		}
	}
}

// StormResult is what a storm counted.
type StormResult struct {
	Written, Rotations, Missed, Extra, Total int64
	Polls                                    int
}

// RunStorm writes cfg's storm for d while a tailer polls the file at
// random intervals of up to maxGap, then polls until every line is read
// (or settle passes without progress).
func RunStorm(t *testing.T, d, maxGap time.Duration, cfg stormtest.Config) StormResult {
	dir := t.TempDir()
	cfg.Path = filepath.Join(dir, "freepbx.log")
	cfg.Line = func(n int) string { return logLine(n) }
	counts := &stormtest.Counts{}
	tl := New(cfg.Path, "beginning", 4096, slog.New(slog.NewTextHandler(io.Discard, nil)))
	tl.settle = stormSettle
	st, c := &Position{}, &Counters{}
	fresh := true
	storm := stormtest.Start(t, cfg)
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	var res StormResult
	poll := func() {
		if res.Polls%5 == 4 {
			// Saved and loaded as across a restart.
			b, err := json.Marshal(st)
			if err != nil {
				t.Fatal(err)
			}
			st = &Position{}
			if err := json.Unmarshal(b, st); err != nil {
				t.Fatal(err)
			}
		}
		pr, err := tl.Poll(st, c, fresh, countSink{counts}, func() bool { return false })
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		for _, n := range pr.Notes {
			t.Logf("poll %d: %s", res.Polls, n)
		}
		fresh = false
		res.Polls++
	}
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		poll()
		time.Sleep(time.Duration(rng.Int63n(int64(maxGap))))
	}
	res.Written, res.Rotations = storm.Stop()
	if err := storm.Err(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		poll()
		_, _, total := counts.Check(res.Written)
		if missed, _, _ := counts.Check(res.Written); missed == 0 && total >= res.Written {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A last look after the rotated files settled: nothing more may come.
	time.Sleep(stormSettle + 100*time.Millisecond)
	poll()
	res.Missed, res.Extra, res.Total = counts.Check(res.Written)
	return res
}

// Numbered rotation every 100 ms at 50,000 lines/s, the writer lingering
// on the renamed file, polled at random moments while both CPUs are busy:
// every line is counted exactly once (issue 23 item 4; the fault suite
// runs the long storm).
func TestNumberedRotationStormUnderLoad(t *testing.T) {
	d := 3 * time.Second
	if testing.Short() {
		d = time.Second
	}
	stormtest.Burn(t, 2)
	res := RunStorm(t, d, stormGap, stormtest.Config{Rate: 50000, Every: 100 * time.Millisecond, Linger: 20 * time.Millisecond})
	t.Logf("storm: %d lines written, %d counted (%d missed, %d extra), %d rotations, %d polls", res.Written, res.Total, res.Missed, res.Extra, res.Rotations, res.Polls)
	if res.Missed != 0 || res.Extra != 0 {
		t.Fatalf("%d lines written, %d counted: %d missed, %d counted more than once", res.Written, res.Total, res.Missed, res.Extra)
	}
}

// stormSettle is shorter than the default so the test ends sooner; the
// writer lingers far less than it.
const stormSettle = 2 * time.Second

var stormGap = 30 * time.Millisecond

func init() {
	if g := os.Getenv("STORM_GAP"); g != "" {
		stormGap, _ = time.ParseDuration(g)
	}
}
