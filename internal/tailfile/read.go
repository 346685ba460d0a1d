package tailfile

import (
	"bytes"
	"fmt"
	"io"
	"sync"
)

// Sink receives the lines read.
type Sink interface {
	// Lines gets whole lines, each ending in '\n'.
	Lines(buf []byte)
	// Line gets one line without its newline: the head of an overlong line
	// (oversized), or a rotated file's unfinished last line.
	Line(l []byte, oversized bool)
}

// chunkSize is how much one read asks for once a Read is catching up:
// large enough that the per-read work (a syscall, a literal search per
// pattern) is spread over thousands of lines, small enough to stay in L2
// cache.
const chunkSize = 256 << 10

// firstRead is the buffer every Read starts with. A follower between runs
// reads a few lines at a time; holding chunkSize+max for that kept
// 0.75 MiB live in each log plugin process (two Reads at a time). A Read
// that finds more than this waiting moves to the full buffer after one
// small read: one extra read in a catch-up of megabytes.
const firstRead = 32 << 10

// LineReader cuts a stream into lines with a bounded buffer, so memory does
// not depend on the file's size or its longest line.
//
// The buffer is borrowed for the span of one Read, not owned: a shared
// plugin process holds an instance per check (and, during a reload, the
// old and new ones), and 320 KiB kept by each of 500 checks between runs
// was 160 MiB of live heap (twice that in RSS) doing nothing.
type LineReader struct {
	max  int
	buf  []byte // *small, or *full once the Read catches up
	head []byte // the first max bytes of an overlong line
	// small (firstRead) or full (chunkSize+max) is the pooled buffer
	// borrowed for the Read under way.
	small, full *[]byte
	// resumed says Resume gave the head (resumeHead) for the next Read.
	resumed    bool
	resumeHead []byte
}

// NewLineReader returns a LineReader for lines of up to max bytes.
func NewLineReader(max int) *LineReader {
	return &LineReader{max: max}
}

// Read buffers are pooled, the small ones shared by every LineReader, the
// full ones by line bound: runs of many checks reuse a few buffers (as many
// as run at once), and the garbage collector empties the pools when they
// sit unused, so a full buffer taken for a catch-up goes once reads are
// small again.
var (
	smallBuffers = sync.Pool{New: func() any { b := make([]byte, firstRead); return &b }}
	fullBuffers  struct {
		mu    sync.Mutex
		pools map[int]*sync.Pool
	}
)

func fullPoolFor(max int) *sync.Pool {
	fullBuffers.mu.Lock()
	defer fullBuffers.mu.Unlock()
	if fullBuffers.pools == nil {
		fullBuffers.pools = map[int]*sync.Pool{}
	}
	p := fullBuffers.pools[max]
	if p == nil {
		p = &sync.Pool{New: func() any { b := make([]byte, chunkSize+max); return &b }}
		fullBuffers.pools[max] = p
	}
	return p
}

// borrow takes a small buffer for one Read; the returned func gives back
// whichever buffer the Read ended with. The head of an overlong line is
// allocated when one turns up: rare, and up to max (16 MiB) big.
func (lr *LineReader) borrow() (giveBack func()) {
	lr.small = smallBuffers.Get().(*[]byte)
	lr.buf = *lr.small
	return func() {
		if lr.full != nil {
			fullPoolFor(lr.max).Put(lr.full)
		}
		if lr.small != nil {
			smallBuffers.Put(lr.small)
		}
		lr.buf, lr.small, lr.full, lr.head = nil, nil, nil, nil
	}
}

// grow moves the n bytes held in the small buffer to a full one, which
// has chunkSize of room after the longest partial line (max).
func (lr *LineReader) grow(n int) {
	lr.full = fullPoolFor(lr.max).Get().(*[]byte)
	copy(*lr.full, lr.buf[:n])
	lr.buf = *lr.full
	smallBuffers.Put(lr.small)
	lr.small = nil
}

// ReadResult says where reading stopped.
type ReadResult struct {
	Offset  int64 // end of the last line handed to the sink
	Scanned int64 // bytes after offset known to hold no newline (overlong line)
	Stopped bool  // stop() said so before the end of the stream
}

// Resume prepares the next Read to carry on with an overlong line whose
// first bytes are head: the bytes after it up to the Read's scanned are
// skipped by the caller (seeking, not reading them again).
func (lr *LineReader) Resume(head []byte) {
	if len(head) > lr.max {
		head = head[:lr.max]
	}
	lr.resumeHead = append(lr.resumeHead[:0], head...)
	lr.resumed = true
}

// Read hands the lines of r to s. off is the start of a line; with
// scanned > 0 the line at off is overlong, its first scanned bytes hold no
// newline, r is positioned at off+scanned and Resume gave the line's head.
// The unfinished line at the end is left for the next read (offset stays
// before it) unless final is set, for a file nobody writes to any more,
// whose last line will never be finished.
func (lr *LineReader) Read(r io.Reader, off, scanned int64, final bool, stop func() bool, s Sink) (ReadResult, error) {
	defer lr.borrow()()
	skipping := false
	cur := off // stream offset just past the bytes read so far
	if scanned > 0 {
		if !lr.resumed {
			return ReadResult{Offset: off, Scanned: scanned}, fmt.Errorf("overlong line at %d: its head was not given", off)
		}
		skipping, cur = true, off+scanned
		lr.head = lr.resumeHead
	}
	lr.resumed, lr.resumeHead = false, nil
	committed := off
	n := 0       // bytes held in buf: the start of an unfinished line
	gotData := 0 // reads that returned bytes
	for {
		if stop() {
			return lr.result(committed, cur, skipping, true), nil
		}
		room := len(lr.buf) - n
		m, rerr := r.Read(lr.buf[n:])
		if m > 0 {
			gotData++
		}
		n += m
		cur += int64(m)
		data := lr.buf[:n]
		if skipping {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				n = 0
			} else {
				s.Line(lr.head, true)
				skipping = false
				committed = cur - int64(len(data)) + int64(i) + 1
				data = data[i+1:]
			}
		}
		if !skipping {
			if last := bytes.LastIndexByte(data, '\n'); last >= 0 {
				s.Lines(data[:last+1])
				committed = cur - int64(len(data)) + int64(last) + 1
				data = data[last+1:]
			}
			if len(data) > lr.max {
				lr.head = append(lr.head[:0], data[:lr.max]...)
				skipping, n = true, 0
			} else {
				n = copy(lr.buf, data)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return lr.result(committed, cur, skipping, false), rerr
		}
		if lr.full == nil && (m == room || gotData > 1) {
			// More is waiting: a file filled the room, or a stream
			// (gzip hands out a block at a time) gave a second read.
			lr.grow(n)
		}
	}
	if final {
		switch {
		case skipping:
			s.Line(lr.head, true)
		case n > 0:
			s.Line(lr.buf[:n], false)
		}
		return ReadResult{Offset: cur}, nil
	}
	return lr.result(committed, cur, skipping, false), nil
}

func (lr *LineReader) result(committed, cur int64, skipping, stopped bool) ReadResult {
	res := ReadResult{Offset: committed, Stopped: stopped}
	if skipping {
		res.Scanned = cur - committed
	}
	return res
}
