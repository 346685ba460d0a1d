package tailfile

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// recorder is a sink that remembers which numbered lines it got.
type recorder struct {
	t     *testing.T
	order []int
	seen  map[int]int
	other []string
	over  int
}

func newRecorder(t *testing.T) *recorder { return &recorder{t: t, seen: map[int]int{}} }

func (r *recorder) Lines(buf []byte) {
	for _, l := range bytes.SplitAfter(buf, []byte("\n")) {
		if len(l) > 0 {
			r.add(bytes.TrimSuffix(l, []byte("\n")))
		}
	}
}

func (r *recorder) Line(l []byte, oversized bool) {
	if oversized {
		r.over++
	}
	r.add(l)
}

func (r *recorder) add(l []byte) {
	s := string(l)
	if i := strings.Index(s, "line "); i >= 0 {
		f := strings.Fields(s[i+5:])
		if len(f) > 0 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				r.seen[n]++
				r.order = append(r.order, n)
				return
			}
		}
	}
	r.other = append(r.other, s)
}

// want fails unless exactly lines from..to were seen, once each, in order.
func (r *recorder) want(from, to int) {
	r.t.Helper()
	var exp []int
	for i := from; i <= to; i++ {
		exp = append(exp, i)
	}
	if fmt.Sprint(r.order) != fmt.Sprint(exp) {
		r.t.Fatalf("lines seen %v\nwant %v", r.order, exp)
	}
	r.order, r.seen = nil, map[int]int{}
}

func logLine(n int) string {
	return fmt.Sprintf("[2024-05-01 10:00:00] [freepbx.INFO]: line %d [] []\n", n)
}

func appendLines(t testing.TB, path string, from, to int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	for i := from; i <= to; i++ {
		b.WriteString(logLine(i))
	}
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
}

func appendRaw(t testing.TB, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// tailHarness drives a tailer the way the checker does, with the state
// saved and loaded between polls (as across a restart) when restart is set.
type tailHarness struct {
	t       *testing.T
	dir     string
	path    string
	tl      *Tailer
	st      *Position
	c       *Counters
	fresh   bool
	rec     *recorder
	restart bool
}

func newTailHarness(t *testing.T, startAt string, max int) *tailHarness {
	dir := t.TempDir()
	h := &tailHarness{t: t, dir: dir, path: filepath.Join(dir, "freepbx.log"), rec: newRecorder(t), fresh: true}
	h.tl = New(h.path, startAt, max, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.st, h.c = &Position{}, &Counters{}
	return h
}

func (h *tailHarness) poll() Result { return h.pollUntil(func() bool { return false }) }

func (h *tailHarness) pollUntil(stop func() bool) Result {
	h.t.Helper()
	if h.restart && !h.fresh {
		// Saved and loaded the way a plugin does, as one JSON document.
		type saved struct {
			Position
			Totals Counters `json:"totals"`
		}
		file := StateFile(h.dir, h.path)
		if err := SaveJSON(file, saved{*h.st, *h.c}); err != nil {
			h.t.Fatal(err)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			h.t.Fatal(err)
		}
		var back saved
		if err := json.Unmarshal(b, &back); err != nil {
			h.t.Fatalf("load state: %v", err)
		}
		h.st, h.c = &back.Position, &back.Totals
		h.tl.lr = NewLineReader(h.tl.lr.max)
	}
	res, err := h.tl.Poll(h.st, h.c, h.fresh, h.rec, stop)
	if err != nil {
		h.t.Fatal(err)
	}
	h.fresh = false
	return res
}

func (h *tailHarness) file(name string) string { return filepath.Join(h.dir, name) }

func (h *tailHarness) rename(from, to string) {
	h.t.Helper()
	if err := os.Rename(h.file(from), h.file(to)); err != nil {
		h.t.Fatal(err)
	}
}

func gzipFile(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(b)
	zw.Close()
	if err := os.WriteFile(path+".gz", z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
}

func eachRestartMode(t *testing.T, f func(t *testing.T, restart bool)) {
	t.Run("same process", func(t *testing.T) { f(t, false) })
	t.Run("restarted", func(t *testing.T) { f(t, true) })
}

func TestTailStartAt(t *testing.T) {
	h := newTailHarness(t, "end", 1024)
	appendLines(t, h.path, 1, 5)
	appendRaw(t, h.path, "[2024-05-01 10:00:00] [freepbx.INFO]: line 6 part")
	h.poll()
	h.rec.want(0, -1) // nothing: start at the end...
	appendRaw(t, h.path, "ial\n")
	appendLines(t, h.path, 7, 8)
	h.poll()
	h.rec.want(6, 8) // ...of the last complete line: the partial one counts once finished

	h = newTailHarness(t, "beginning", 1024)
	appendLines(t, h.path, 1, 5)
	h.poll()
	h.rec.want(1, 5)
}

func TestTailPartialLineWaitsForNewline(t *testing.T) {
	eachRestartMode(t, func(t *testing.T, restart bool) {
		h := newTailHarness(t, "beginning", 1024)
		h.restart = restart
		appendLines(t, h.path, 1, 2)
		appendRaw(t, h.path, "[2024-05-01 10:00:00] [freepbx.INFO]: line 3 pa")
		h.poll()
		h.rec.want(1, 2)
		appendRaw(t, h.path, "rt")
		h.poll()
		h.rec.want(0, -1)
		appendRaw(t, h.path, "ial\n")
		h.poll()
		h.rec.want(3, 3)
		if h.c.ReadBytes != uint64(fileSize(t, h.path)) {
			t.Fatalf("read_bytes %d, file %d", h.c.ReadBytes, fileSize(t, h.path))
		}
	})
}

func fileSize(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestTailRenameRotationReadsOldFileFirst(t *testing.T) {
	eachRestartMode(t, func(t *testing.T, restart bool) {
		h := newTailHarness(t, "beginning", 1024)
		h.restart = restart
		appendLines(t, h.path, 1, 10)
		h.poll()
		h.rec.want(1, 10)
		// A long-running writer keeps its fd on the renamed file.
		old, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		appendLines(t, h.path, 11, 15)
		h.rename("freepbx.log", "freepbx.log.1")
		for i := 16; i <= 20; i++ {
			old.WriteString(logLine(i))
		}
		old.Close()
		appendLines(t, h.path, 21, 30)
		h.poll()
		h.rec.want(11, 30)
		if h.c.Rotations != 1 || h.c.Truncations != 0 {
			t.Fatalf("rotations %d truncations %d, want 1 0", h.c.Rotations, h.c.Truncations)
		}
		h.poll()
		h.rec.want(0, -1)
	})
}

// Two rotations while the plugin was not running: the old file is found by
// inode (or, compressed, by fingerprint), the one rotated after it is read
// whole, then the current file.
func TestTailRotatedTwiceWhileDown(t *testing.T) {
	type scheme struct {
		name   string
		rotate func(h *tailHarness, n int) // n-th rotation, from 1
	}
	schemes := []scheme{
		{"numbered", func(h *tailHarness, n int) {
			for i := n - 1; i >= 1; i-- {
				h.rename(fmt.Sprintf("freepbx.log.%d", i), fmt.Sprintf("freepbx.log.%d", i+1))
			}
			h.rename("freepbx.log", "freepbx.log.1")
		}},
		{"dateext", func(h *tailHarness, n int) {
			h.rename("freepbx.log", fmt.Sprintf("freepbx.log-2024060%d", n))
		}},
		{"numbered compress", func(h *tailHarness, n int) {
			for i := n - 1; i >= 1; i-- {
				h.rename(fmt.Sprintf("freepbx.log.%d.gz", i), fmt.Sprintf("freepbx.log.%d.gz", i+1))
			}
			h.rename("freepbx.log", "freepbx.log.1")
			gzipFile(h.t, h.file("freepbx.log.1"))
		}},
		{"dateext compress delaycompress", func(h *tailHarness, n int) {
			if n > 1 {
				gzipFile(h.t, h.file(fmt.Sprintf("freepbx.log-2024060%d", n-1)))
			}
			h.rename("freepbx.log", fmt.Sprintf("freepbx.log-2024060%d", n))
		}},
	}
	for _, sc := range schemes {
		t.Run(sc.name, func(t *testing.T) {
			h := newTailHarness(t, "beginning", 1024)
			h.restart = true
			// An older rotated file that must not be read again.
			appendLines(t, h.path, -5, -1)
			sc.rotate(h, 1)
			appendLines(t, h.path, 1, 10)
			h.poll()
			h.rec.want(1, 10)
			appendLines(t, h.path, 11, 15)
			sc.rotate(h, 2)
			appendLines(t, h.path, 16, 20)
			sc.rotate(h, 3)
			appendLines(t, h.path, 21, 25)
			h.poll()
			h.rec.want(11, 25)
			if h.c.Rotations != 2 {
				t.Fatalf("rotations %d, want 2", h.c.Rotations)
			}
		})
	}
}

// copytruncate: the file keeps its inode; by the next run it has grown
// past the old offset again. The fingerprint tells, and the rest of the
// old content is read from the copy.
func TestTailCopytruncateGrownPastOldOffset(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) {
			h := newTailHarness(t, "beginning", 1024)
			h.restart = true
			appendLines(t, h.path, 1, 10)
			h.poll()
			h.rec.want(1, 10)
			appendLines(t, h.path, 11, 12)
			copyFile(t, h.path, h.file("freepbx.log.1"))
			if compress {
				gzipFile(t, h.file("freepbx.log.1"))
			}
			if err := os.Truncate(h.path, 0); err != nil {
				t.Fatal(err)
			}
			appendLines(t, h.path, 100, 150) // far past the old offset
			h.poll()
			var want []int
			want = append(want, 11, 12)
			for i := 100; i <= 150; i++ {
				want = append(want, i)
			}
			if fmt.Sprint(h.rec.order) != fmt.Sprint(want) {
				t.Fatalf("got %v\nwant %v", h.rec.order, want)
			}
			if h.c.Truncations != 1 || h.c.Rotations != 1 {
				t.Fatalf("truncations %d rotations %d, want 1 1", h.c.Truncations, h.c.Rotations)
			}
		})
	}
}

func TestTailTruncatedByHand(t *testing.T) {
	h := newTailHarness(t, "beginning", 1024)
	appendLines(t, h.path, 1, 10)
	h.poll()
	h.rec.want(1, 10)
	if err := os.Truncate(h.path, 0); err != nil {
		t.Fatal(err)
	}
	appendLines(t, h.path, 11, 12) // shorter than before
	res := h.poll()
	h.rec.want(11, 12)
	if h.c.Truncations != 1 || h.c.Rotations != 0 || len(res.Notes) != 1 {
		t.Fatalf("truncations %d rotations %d notes %q", h.c.Truncations, h.c.Rotations, res.Notes)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Deleted and re-created, typically with the freed inode number: the new
// file is read from byte 0, even when it is larger than the old offset.
func TestTailDeletedAndRecreated(t *testing.T) {
	eachRestartMode(t, func(t *testing.T, restart bool) {
		h := newTailHarness(t, "end", 1024)
		h.restart = restart
		appendLines(t, h.path, 1, 10)
		h.poll()
		appendLines(t, h.path, 11, 12)
		h.poll()
		h.rec.want(11, 12)
		os.Remove(h.path)
		appendLines(t, h.path, 1000, 1040)
		res := h.poll()
		h.rec.want(1000, 1040)
		// With the inode number reused it looks like a truncation,
		// otherwise like a rotation whose old file is gone: either way
		// the new file is read whole and the possible loss is noted.
		if h.c.Rotations+h.c.Truncations != 1 || len(res.Notes) != 1 {
			t.Fatalf("rotations %d truncations %d notes %q", h.c.Rotations, h.c.Truncations, res.Notes)
		}
	})
}

func TestTailMissingThenCreatedReadsFromStart(t *testing.T) {
	h := newTailHarness(t, "end", 1024)
	if res := h.poll(); !res.Missing {
		t.Fatal("missing file not reported")
	}
	appendLines(t, h.path, 1, 3)
	h.poll()
	h.rec.want(1, 3) // created after we first looked: nothing to skip
}

// A rename rotation without create: the path is missing until the next line.
func TestTailRotatedWithoutCreate(t *testing.T) {
	h := newTailHarness(t, "beginning", 1024)
	h.restart = true
	appendLines(t, h.path, 1, 3)
	h.poll()
	h.rec.want(1, 3)
	appendLines(t, h.path, 4, 5)
	h.rename("freepbx.log", "freepbx.log.1")
	if res := h.poll(); !res.Missing {
		t.Fatal("not missing")
	}
	h.rec.want(4, 5)
	h.poll()
	h.rec.want(0, -1)
	appendLines(t, h.path, 6, 7)
	h.poll()
	h.rec.want(6, 7)
	if h.c.Rotations != 1 {
		t.Fatalf("rotations %d, want 1", h.c.Rotations)
	}
}

// An overlong line is handed over once, cut to max, when its newline comes,
// and the bytes already scanned are not read again, across restarts too.
func TestTailOverlongLine(t *testing.T) {
	eachRestartMode(t, func(t *testing.T, restart bool) {
		const max = 300
		h := newTailHarness(t, "beginning", max)
		h.restart = restart
		appendLines(t, h.path, 1, 1)
		head := "[2024-05-01 10:00:00] [freepbx.INFO]: line 2 "
		appendRaw(t, h.path, head+strings.Repeat("a", 400))
		h.poll()
		h.rec.want(1, 1)
		if h.st.Scanned == 0 {
			t.Fatal("scanned bytes of the overlong line not kept")
		}
		appendRaw(t, h.path, strings.Repeat("b", 200000))
		h.poll()
		h.rec.want(0, -1)
		appendRaw(t, h.path, "c\n")
		appendLines(t, h.path, 3, 3)
		h.poll()
		h.rec.want(2, 3)
		if h.rec.over != 1 {
			t.Fatalf("oversized %d, want 1", h.rec.over)
		}
		if h.st.Scanned != 0 || h.st.Offset != fileSize(t, h.path) {
			t.Fatalf("offset %d scanned %d, file %d", h.st.Offset, h.st.Scanned, fileSize(t, h.path))
		}
	})
}

// Lines of every length across many read chunks; a reader that runs out of
// time resumes exactly where it stopped.
func TestTailChunkBoundariesAndStops(t *testing.T) {
	h := newTailHarness(t, "beginning", 4096)
	h.restart = true
	f, err := os.Create(h.path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for size := 0; size < 6*chunkSize; n++ {
		l := fmt.Sprintf("[2024-05-01 10:00:00] [freepbx.INFO]: line %d %s\n", n, strings.Repeat("x", (n*7919)%3000))
		f.WriteString(l)
		size += len(l)
	}
	f.Close()
	reads := 0
	for i := 0; i < 20 && len(h.rec.order) < n; i++ {
		calls := 0
		h.pollUntil(func() bool { calls++; return calls > 2 }) // two reads per run
		reads++
	}
	h.rec.want(0, n-1)
	if reads < 3 {
		t.Fatalf("read in %d runs; the stop was not honoured", reads)
	}
}

func TestTailInvalidUTF8(t *testing.T) {
	h := newTailHarness(t, "beginning", 1024)
	appendRaw(t, h.path, "\xff\xfe\x00 binary\n[2024-05-01 10:00:00] [freepbx.INFO]: line 1 \xc3\x28 []\n")
	appendLines(t, h.path, 2, 3)
	h.poll()
	h.rec.want(1, 3)
	if len(h.rec.other) != 1 {
		t.Fatalf("other lines %q", h.rec.other)
	}
}

// readSyscallBytes is how many bytes this process has read with read(2)
// and pread(2) so far.
func readSyscallBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skipf("no /proc/self/io: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "rchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatal("no rchar in /proc/self/io")
	return 0
}

// A huge line without a newline was read again from its start by every
// poll (issue 23 item 5: 2 GiB per run): the scanned part is skipped by
// offset, only what was appended since is read, and the poll says an
// unterminated line is growing.
func TestTailUnterminatedLineIsNotReadAgain(t *testing.T) {
	eachRestartMode(t, func(t *testing.T, restart bool) {
		h := newTailHarness(t, "beginning", 4096)
		h.restart = restart
		appendLines(t, h.path, 1, 1)
		f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		chunk := bytes.Repeat([]byte("x"), 1<<20)
		for i := 0; i < 32; i++ {
			f.Write(chunk)
		}
		res := h.poll()
		h.rec.want(1, 1)
		if res.Unterminated < 32<<20 {
			t.Fatalf("unterminated %d, want the 32 MiB line", res.Unterminated)
		}
		f.Write([]byte("tail"))
		before := readSyscallBytes(t)
		res = h.poll()
		read := readSyscallBytes(t) - before
		if read > 1<<20 {
			t.Fatalf("the second poll read %d bytes: the scanned line was read again", read)
		}
		if res.Unterminated != 32<<20+4 {
			t.Fatalf("unterminated %d, want %d", res.Unterminated, 32<<20+4)
		}
		f.Write([]byte("\n"))
		appendLines(t, h.path, 2, 2)
		res = h.poll()
		if len(h.rec.order) != 1 || h.rec.order[0] != 2 || h.rec.over != 1 || len(h.rec.other) != 1 || res.Unterminated != 0 {
			t.Fatalf("after the newline: lines %v, oversized %d, other %d, unterminated %d", h.rec.order, h.rec.over, len(h.rec.other), res.Unterminated)
		}
	})
}

// A rotated file still written to after its rename (the writer has not
// reopened the path yet) is read until it settles; its unfinished last
// line is handed over once, when it has.
func TestTailRotatedFileReadUntilItSettles(t *testing.T) {
	eachRestartMode(t, func(t *testing.T, restart bool) {
		h := newTailHarness(t, "beginning", 1024)
		h.tl.settle = 300 * time.Millisecond
		h.restart = restart
		appendLines(t, h.path, 1, 3)
		h.poll()
		h.rec.want(1, 3)
		old, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer old.Close()
		h.rename("freepbx.log", "freepbx.log.1")
		appendLines(t, h.path, 10, 11)
		old.WriteString(logLine(4))
		h.poll()
		if fmt.Sprint(h.rec.order) != "[4 10 11]" {
			t.Fatalf("lines seen %v, want [4 10 11]", h.rec.order)
		}
		h.rec.order, h.rec.seen = nil, map[int]int{}
		// Still written after the poll that found the rotation.
		old.WriteString(logLine(5) + "[2024-05-01 10:00:00] [freepbx.INFO]: line 6 unfinished")
		h.poll()
		h.rec.want(5, 5)
		if len(h.st.Rotated) != 1 {
			t.Fatalf("rotated files being read: %+v", h.st.Rotated)
		}
		time.Sleep(400 * time.Millisecond)
		h.poll()
		h.rec.want(6, 6)
		if len(h.st.Rotated) != 0 || h.c.Rotations != 1 {
			t.Fatalf("rotated %+v, rotations %d", h.st.Rotated, h.c.Rotations)
		}
		old.WriteString(logLine(7))
		h.poll()
		h.rec.want(0, -1) // left once settled: a line written much later is not read
	})
}
