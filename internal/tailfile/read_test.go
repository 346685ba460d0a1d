package tailfile

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// lineSink records what a plugin makes of the lines: each cut to max and
// marked when it was longer (the plugins cut long lines handed to Lines the
// same way), so where the reads fell does not show.
type lineSink struct {
	max   int
	lines []string
}

func (s *lineSink) Lines(buf []byte) {
	for len(buf) > 0 {
		i := bytes.IndexByte(buf, '\n')
		s.add(buf[:i], false)
		buf = buf[i+1:]
	}
}

func (s *lineSink) Line(l []byte, oversized bool) { s.add(l, oversized) }

func (s *lineSink) add(l []byte, oversized bool) {
	if len(l) > s.max {
		l, oversized = l[:s.max], true
	}
	s.lines = append(s.lines, fmt.Sprintf("%t %s", oversized, l))
}

// expectedRead is what Read must make of data: every whole line, cut to max,
// then the unfinished one when final; else where the next Read starts.
func expectedRead(data string, max int, final bool) ([]string, ReadResult) {
	want := &lineSink{max: max}
	done := strings.LastIndexByte(data, '\n') + 1
	want.Lines([]byte(data[:done]))
	tail := data[done:]
	if final {
		if tail != "" {
			want.add([]byte(tail), false)
		}
		return want.lines, ReadResult{Offset: int64(len(data))}
	}
	res := ReadResult{Offset: int64(done)}
	if len(tail) > max {
		res.Scanned = int64(len(tail))
	}
	return want.lines, res
}

// chunkyReader hands out at most most bytes a call, like a decompressor; with
// most 0 it fills every request, like a file read with pread.
type chunkyReader struct {
	r     io.Reader
	most  int
	sizes []int // the size of each request
}

func (c *chunkyReader) Read(p []byte) (int, error) {
	c.sizes = append(c.sizes, len(p))
	if c.most > 0 && len(p) > c.most {
		p = p[:c.most]
	}
	return c.r.Read(p)
}

// randomLog is lines of lengths around every size that matters to the
// reader: short ones, ones about the small buffer, about max, past max,
// and an unfinished last line of any of those lengths.
func randomLog(rng *rand.Rand, max int) string {
	lengths := []int{0, 1, 80, 200, firstRead - 1, firstRead, firstRead + 1, max - 1, max, max + 1, 2*max + 3, chunkSize + 5}
	var b strings.Builder
	for n := rng.Intn(60); n > 0; n-- {
		l := lengths[rng.Intn(len(lengths))] + rng.Intn(3)
		if rng.Intn(3) > 0 {
			l = rng.Intn(300)
		}
		b.WriteString(strings.Repeat(string(rune('a'+b.Len()%26)), l))
		b.WriteByte('\n')
	}
	b.WriteString(strings.Repeat("z", lengths[rng.Intn(len(lengths))]))
	return b.String()
}

// Whatever the reads return and wherever the reader moves from its small
// buffer to the full one, every line comes out once, cut to max, and the
// unfinished last line is held back (or handed over when final) as before.
func TestReadMatchesTheLinesWhereverTheBufferGrows(t *testing.T) {
	rng := rand.New(rand.NewSource(22))
	for i := 0; i < 300; i++ {
		max := []int{256, 4096, firstRead + 100, 64 << 10}[rng.Intn(4)]
		data := randomLog(rng, max)
		final := rng.Intn(2) == 0
		most := []int{0, 0, 1 + rng.Intn(16<<10), 1 + rng.Intn(2000)}[rng.Intn(4)]
		got := &lineSink{max: max}
		r := &chunkyReader{r: strings.NewReader(data), most: most}
		res, err := NewLineReader(max).Read(r, 0, 0, final, func() bool { return false }, got)
		if err != nil {
			t.Fatal(err)
		}
		wantLines, wantRes := expectedRead(data, max, final)
		if res != wantRes || !slices.Equal(got.lines, wantLines) {
			t.Fatalf("case %d (max %d, final %v, reads of at most %d): got %+v and %d lines, want %+v and %d lines",
				i, max, final, most, res, len(got.lines), wantRes, len(wantLines))
		}
	}
}

// A catch-up reads in full chunks after one small read, from a file (the
// first read fills the small buffer) and from a decompressor (reads shorter
// than asked for, a second one means more is waiting).
func TestCatchUpReadsFullChunks(t *testing.T) {
	data := strings.Repeat(logLine(1), (4*chunkSize)/len(logLine(1)))
	for _, most := range []int{0, 8 << 10} {
		r := &chunkyReader{r: strings.NewReader(data), most: most}
		if _, err := NewLineReader(64<<10).Read(r, 0, 0, false, func() bool { return false }, discard{}); err != nil {
			t.Fatal(err)
		}
		small := 0
		for _, n := range r.sizes {
			if n < chunkSize {
				small++
			}
		}
		if small > 2 {
			t.Errorf("reads of at most %d: %d of %d requests were smaller than a chunk: %v", most, small, len(r.sizes), r.sizes)
		}
	}
}

// A follower reading the few lines written since its last read takes the
// small buffer only: reading them allocates nothing near a full chunk even
// with the pools emptied, and a full buffer taken by a catch-up is let go
// while the reads that follow are small (it used to be taken by every read
// and so never left the pool).
func TestFollowerReadTakesTheSmallBufferOnly(t *testing.T) {
	lr := NewLineReader(64 << 10)
	few := strings.Repeat(logLine(7), 20)
	follow := func() {
		if _, err := lr.Read(strings.NewReader(few), 0, 0, false, func() bool { return false }, discard{}); err != nil {
			t.Fatal(err)
		}
	}
	var base, before, after runtime.MemStats
	runtime.GC()
	runtime.GC() // twice: a pool keeps what it holds for one collection
	runtime.ReadMemStats(&base)
	before = base
	follow()
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 2*firstRead {
		t.Fatalf("reading %d bytes allocated %d bytes, want the small buffer (%d) at most", len(few), got, firstRead)
	}

	big := strings.Repeat(logLine(8), 2*chunkSize/len(logLine(8)))
	if _, err := lr.Read(strings.NewReader(big), 0, 0, false, func() bool { return false }, discard{}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		follow()
		runtime.GC()
	}
	runtime.ReadMemStats(&after)
	if kept := int64(after.HeapAlloc) - int64(base.HeapAlloc); kept > chunkSize/2 {
		t.Fatalf("%d bytes more live after a catch-up and three small reads, each followed by a collection", kept)
	}
}
