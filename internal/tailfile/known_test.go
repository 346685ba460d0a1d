package tailfile

import (
	"fmt"
	"testing"
)

// A rotated file that one listing missed (taken while logrotate renamed
// every numbered file) stays known however many rotated files the
// directory holds, so it is not read again when the next listing shows it.
func TestMergeKnownKeepsAFileTheListingMissed(t *testing.T) {
	for _, files := range []int{10, maxKnown, 3 * maxKnown} {
		var before []KnownHead
		for i := 0; i < files; i++ {
			before = append(before, KnownHead{Len: 64, FP: fmt.Sprintf("head-%d", i)})
		}
		missed := before[files/2]
		now := append(append([]KnownHead{}, before[:files/2]...), before[files/2+1:]...)
		merged := mergeKnown(now, before)
		found := false
		for _, k := range merged {
			found = found || k == missed
		}
		if !found {
			t.Errorf("%d rotated files: the one the listing missed was forgotten", files)
		}
		if len(merged) > len(now)+maxKnown {
			t.Errorf("%d rotated files: %d heads kept, more than the listing's %d and %d besides", files, len(merged), len(now), maxKnown)
		}
	}
}

// A rotated file seen while it held only the start of its first line is
// remembered by a short head; log lines share long prefixes (timestamp,
// client, request), so that head is the start of many other files too.
// A file rotated away between two polls that begins the same way was
// taken for the one seen before and never read (the access log's
// numbered-rotation storm lost ~72,000 lines of 2,085,528 under load).
func TestShortKnownHeadDoesNotHideAnotherFile(t *testing.T) {
	eachRestartMode(t, func(t *testing.T, restart bool) {
		h := newTailHarness(t, "beginning", 1024)
		h.restart = restart
		appendLines(t, h.path, 1, 2)
		h.poll()
		h.rec.want(1, 2)

		// A new file holding only a line's common start when the poll
		// sees it, and again when it is rotated away.
		prefix := "[2024-05-01 10:00:00] [freepbx.INFO]: "
		h.rename("freepbx.log", "freepbx.log.1")
		appendRaw(t, h.path, prefix)
		h.poll()
		h.rename("freepbx.log.1", "freepbx.log.2")
		h.rename("freepbx.log", "freepbx.log.1")
		appendLines(t, h.path, 4, 4)
		h.poll()
		// The writer finishes that line in the renamed file.
		appendRaw(t, h.file("freepbx.log.1"), "line 3 [] []\n")
		appendLines(t, h.path, 5, 5)
		h.poll()
		if h.rec.seen[3] != 1 || h.rec.seen[4] != 1 || h.rec.seen[5] != 1 {
			t.Fatalf("lines 3-5: read %v", h.rec.order)
		}

		// Two rotations between polls: lines 6-7 live in a file this
		// tailer never saw at the path, beginning with the same prefix.
		h.rename("freepbx.log.2", "freepbx.log.4")
		h.rename("freepbx.log.1", "freepbx.log.3")
		h.rename("freepbx.log", "freepbx.log.2")
		appendLines(t, h.path, 6, 7)
		h.rename("freepbx.log", "freepbx.log.1")
		appendLines(t, h.path, 8, 8)
		h.poll()
		for n := 1; n <= 8; n++ {
			if h.rec.seen[n] > 1 || (n >= 6 && h.rec.seen[n] != 1) {
				t.Fatalf("line %d read %d times (lines read since the check above: %v; known heads %+v)", n, h.rec.seen[n], h.rec.order, h.st.Known)
			}
		}
	})
}

// hookSink is a recorder that runs once when it first gets lines: a
// writer acting while a poll reads.
type hookSink struct {
	*recorder
	once func()
}

func (s *hookSink) Lines(buf []byte) {
	if s.once != nil {
		s.once()
		s.once = nil
	}
	s.recorder.Lines(buf)
}

// A rotated file empty when a poll lists it is not read in that poll; if
// the writer fills it while the poll reads the others, it must still be
// read by the next poll, not remembered as known by the head it had by
// the end of the poll.
func TestFileFilledDuringACatchUpIsRead(t *testing.T) {
	h := newTailHarness(t, "beginning", 1024)
	appendLines(t, h.path, 1, 2)
	h.poll()
	h.rec.want(1, 2)

	appendLines(t, h.path, 3, 4)
	h.rename("freepbx.log", "freepbx.log.2")
	appendRaw(t, h.file("freepbx.log.1"), "") // the next rotated file, empty yet
	appendLines(t, h.path, 7, 7)
	sink := &hookSink{recorder: h.rec, once: func() { appendLines(t, h.file("freepbx.log.1"), 5, 6) }}
	if _, err := h.tl.Poll(h.st, h.c, false, sink, func() bool { return false }); err != nil {
		t.Fatal(err)
	}
	h.poll()
	for n := 3; n <= 7; n++ {
		if h.rec.seen[n] != 1 {
			t.Fatalf("line %d read %d times (lines read: %v)", n, h.rec.seen[n], h.rec.order)
		}
	}
}
