// Package tailfile follows one log file across rotations and restarts and
// hands every complete line to a sink exactly once. It keeps no file open
// between polls: the caller saves a Position (and the Counters) after each
// poll and passes it back, so a restarted process carries on exactly where
// the last one stopped. logtail and accesslog both read through it.
package tailfile

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Tailer follows one log path across rotations. It keeps no file open
// between runs: every run starts from the saved state alone, so a run after
// a restart does exactly what a run in a long-lived process does.
type Tailer struct {
	path    string
	startAt string // "end" or "beginning", for a file never seen before
	lr      *LineReader
	log     *slog.Logger
	// symlinksOut allows a path that is a symlink out of its directory.
	symlinksOut bool
	// settle is how long a rotated file must go unchanged before it is
	// left (its unfinished last line handed over).
	settle time.Duration
}

const (
	// defaultSettle is how long a rotated file is read after its last
	// change: its writer may still be writing to it until told to reopen
	// the path (Fluent Bit's rotate_wait is 5 s too).
	defaultSettle = 5 * time.Second
	// maxRotated bounds the rotated files read after rotation at once.
	maxRotated = 16
	// maxUnseen is how many polls a rotated file being read may be
	// missing from the listing before its rest is given up.
	maxUnseen = 3
	// maxKnown bounds the remembered heads of rotated files.
	maxKnown = 256
)

// New returns a Tailer of path. startAt ("end" or "beginning") says where
// a file never seen before is read from; lines longer than maxLine bytes
// are handed over cut to maxLine.
func New(path, startAt string, maxLine int, log *slog.Logger) *Tailer {
	return &Tailer{path: path, startAt: startAt, lr: NewLineReader(maxLine), log: log, settle: defaultSettle}
}

// Result describes the followed file after a poll.
type Result struct {
	Missing bool
	Size    int64 // size of the file at path
	Stopped bool  // out of time: the rest is read next run
	Notes   []string
	// Unterminated is how many bytes of an overlong line, still without
	// its newline, the file at the path ends in (0: none).
	Unterminated int64
	// Denied is set by Session.Poll when the service user may not read
	// the file.
	Denied *PermissionError
}

// PermissionError marks a followed file the service user may not read.
type PermissionError struct{ err error }

func (e *PermissionError) Error() string { return e.err.Error() }
func (e *PermissionError) Unwrap() error { return e.err }

// Stopper tells the reader to stop, at a line boundary, when the run's
// deadline is near, so that a large backlog is read over several runs
// rather than lost to a timeout.
func Stopper(ctx context.Context) func() bool {
	deadline, ok := ctx.Deadline()
	if ok {
		margin := time.Until(deadline) / 10
		if margin < 500*time.Millisecond {
			margin = 500 * time.Millisecond
		}
		deadline = deadline.Add(-margin)
	}
	return func() bool {
		return ctx.Err() != nil || (ok && time.Now().After(deadline))
	}
}

// Poll reads everything written since st was saved (fresh: there was no
// saved state) and advances st. Rotations are handled as logrotate makes
// them:
//   - rename (create, with or without dateext): the old file, found among
//     the siblings by device+inode (or, compressed, by fingerprint), is
//     read to its end first, then the new file from byte 0;
//   - copytruncate: the same inode with other first bytes (or shorter than
//     our offset) is a truncation; the copy, found by fingerprint (also
//     inside .gz), is read from our old offset first;
//   - deleted and re-created: the new file from byte 0;
//   - any rotated file we have never seen the content of (rotated while we
//     were down, more than once; a copy of a file that was empty when we
//     last looked) is read whole. st.Known remembers the heads of the
//     rotated files already seen; it is checked only when the listing of
//     the rotated files changed.
//
// A rotated file is still written to until its writer reopens the path, so
// it stays in st.Rotated, read on every poll, until it has not changed for
// settle; only then is its unfinished last line, if any, handed over.
//
// Every file is identified by what it is, never by its name: each is
// opened once per poll and everything (identity, size, head, lines) is
// read through that descriptor, because numbered rotation renames every
// file on each rotation, possibly in the middle of a poll.
func (t *Tailer) Poll(st *Position, c *Counters, fresh bool, s Sink, stop func() bool) (Result, error) {
	f, err := t.openLog(t.path)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			p := &poll{t: t, st: st, c: c, s: s, stop: stop, res: Result{Missing: true}}
			defer p.close()
			return p.missing(fresh)
		case errors.Is(err, fs.ErrPermission):
			return Result{}, &PermissionError{err}
		}
		return Result{}, err
	}
	cur, err := describe(t.path, f, false)
	if err != nil {
		f.Close()
		return Result{}, err
	}
	p := &poll{t: t, st: st, c: c, s: s, stop: stop, cur: cur, opened: []*logFile{cur}}
	defer p.close()
	p.list()
	done := true
	switch {
	case fresh:
		// Rotated files from before we started are not ours to read.
		st.Known, st.SibSig, st.Rotated = knownHeads(p.sibs), p.sig, nil
		st.File, st.Offset, st.Scanned = &FileID{Dev: cur.dev, Ino: cur.ino}, 0, 0
		if t.startAt == "end" {
			if st.Offset, err = lastLineEnd(f, cur.size); err != nil {
				return p.res, err
			}
		}
	default:
		if done, err = p.drain(); err != nil || !done {
			return p.res, err
		}
		done, err = p.followPath()
	}
	if err != nil || !done {
		return p.res, err
	}
	r, err := p.read(cur, st, false)
	if err != nil {
		return p.res, err
	}
	p.res.Stopped = r.Stopped
	p.res.Size = cur.size
	if fi, err := f.Stat(); err == nil && fi.Size() > p.res.Size {
		p.res.Size = fi.Size()
	}
	p.res.Unterminated = st.Scanned
	return p.res, nil
}

// followPath catches up with what happened to the file at the path since
// the last poll: nothing, a rotation, a truncation, rotated files we have
// not seen. done is false when the run must stop before reading cur.
func (p *poll) followPath() (bool, error) {
	st, cur := p.st, p.cur
	switch {
	case st.File == nil: // the path did not exist when we last looked
		done := true
		var err error
		if p.sig != st.SibSig {
			done, err = p.catchUp(false)
		}
		if done && err == nil {
			st.File, st.Offset, st.Scanned = &FileID{Dev: cur.dev, Ino: cur.ino}, 0, 0
		}
		return done, err
	case sameInode(cur, st.File):
		switch {
		case !sameContent(cur, st.File, st.Offset+st.Scanned):
			p.c.Truncations++
			p.t.log.Info("log truncated (copytruncate or by hand): reading the copy's rest, then the file from its start", "path", p.t.path, "offset", st.Offset)
			return p.catchUp(true)
		case p.sig != st.SibSig:
			return p.catchUp(false)
		}
		return true, nil
	}
	return p.catchUp(true)
}

// poll is one Poll's work: the files it opened (closed at its end) and
// what it found.
type poll struct {
	t    *Tailer
	st   *Position
	c    *Counters
	s    Sink
	stop func() bool
	res  Result
	cur  *logFile // the file at the path, nil when missing
	sibs []*logFile
	sig  string
	// opened are closed at the end of the poll.
	opened []*logFile
	// draining are the files (device and inode) drain found for
	// st.Rotated: not to be read again as unseen. A rotated file's inode
	// number alone does not do: once it is compressed, the number is free
	// for the next file logrotate creates.
	draining map[[2]uint64]bool
}

func (p *poll) close() {
	for _, lf := range p.opened {
		lf.f.Close()
	}
}

// list takes (or takes again) the listing of the rotated files.
func (p *poll) list() {
	p.sibs, p.sig = p.t.siblings(p.cur)
	p.opened = append(p.opened, p.sibs...)
}

// missing handles a path that does not exist: a rename rotation whose
// new file is not there yet (the old one may still hold unread lines), a
// deleted file, or one not created yet.
func (p *poll) missing(fresh bool) (Result, error) {
	st := p.st
	p.list()
	if fresh {
		st.Known, st.SibSig = knownHeads(p.sibs), p.sig
		return p.res, nil
	}
	if done, err := p.drain(); err != nil || !done {
		return p.res, err
	}
	if p.sig == st.SibSig {
		return p.res, nil // nothing moved since we last looked
	}
	// The last file read stays the one st points at: when the new file
	// appears, that one is found again (at its end) and counted as rotated.
	_, err := p.catchUp(st.File != nil)
	return p.res, err
}

// drain reads the rotated files still being written to (st.Rotated), and
// leaves those that have settled. done is false when stop() cut it short.
func (p *poll) drain() (bool, error) {
	st := p.st
	var keep []RotatedFile
	defer func() { st.Rotated = keep }()
	for i, r := range st.Rotated {
		lf := p.find(&r.File, r.Offset+r.Scanned)
		if lf == nil {
			// Deleted, or missed by a listing taken during renames: give it
			// a few more polls before giving up on its rest.
			if r.Unseen++; r.Unseen < maxUnseen {
				keep = append(keep, r)
			}
			continue
		}
		r.Unseen = 0
		if p.draining == nil {
			p.draining = map[[2]uint64]bool{}
		}
		p.draining[[2]uint64{lf.dev, lf.ino}] = true
		id := r.File
		pos := Position{File: &id, Offset: r.Offset, Scanned: r.Scanned}
		left, stopped, err := p.readRotated(lf, &pos)
		r.File, r.Offset, r.Scanned = id, pos.Offset, pos.Scanned
		if err != nil || stopped {
			keep = append(append(keep, r), st.Rotated[i+1:]...)
			p.res.Stopped = stopped
			return false, err
		}
		if !left {
			keep = append(keep, r)
		}
	}
	return true, nil
}

// find returns the file id names, holding at least end bytes: by device
// and inode (checking the fingerprint, as a deleted file's inode number is
// soon reused), else by fingerprint alone (a copytruncate copy, a
// compressed rotated file), the newest such file first; nil if none.
func (p *poll) find(id *FileID, end int64) *logFile {
	if i := findIn(p.sibs, id, end); i >= 0 {
		return p.sibs[i]
	}
	return nil
}

func findIn(sibs []*logFile, id *FileID, end int64) int {
	for i, lf := range sibs {
		if !lf.gz && lf.dev == id.Dev && lf.ino == id.Ino && sameContent(lf, id, end) {
			return i
		}
	}
	if id.FPLen == 0 {
		return -1 // nothing to recognise it by
	}
	for i := len(sibs) - 1; i >= 0; i-- {
		if (sibs[i].dev != id.Dev || sibs[i].ino != id.Ino || sibs[i].gz) && sameContentElsewhere(sibs[i], id, end) {
			return i
		}
	}
	return -1
}

// findOld returns the index in p.sibs of the file st points at, or -1. A
// listing taken while files are renamed can miss one, so a file not found
// is looked for in a fresh listing twice more before it is called lost.
func (p *poll) findOld() int {
	for try := 0; ; try++ {
		if i := findIn(p.sibs, p.st.File, p.st.Offset+p.st.Scanned); i >= 0 {
			return i
		}
		if try == 2 {
			return -1
		}
		time.Sleep(time.Millisecond)
		p.list()
	}
}

// readRotated reads a rotated file's complete lines from pos and, once it
// has settled (unchanged for settle, or compressed), its unfinished last
// line: left says it is done with and may be forgotten.
func (p *poll) readRotated(lf *logFile, pos *Position) (left, stopped bool, err error) {
	r, err := p.read(lf, pos, false)
	if err != nil || r.Stopped {
		return false, r.Stopped, err
	}
	if !lf.gz && time.Since(lf.mtime) < p.t.settle {
		return false, false, nil
	}
	if _, err := p.read(lf, pos, true); err != nil {
		return false, false, err
	}
	p.st.addKnown(pos.File)
	return true, false, nil
}

// catchUp reads the rotated files: the rest of the one st points at when
// lookForOld (it is no longer at the path, or no longer holds what we
// read), then every one whose content we have not seen. Afterwards st
// points at cur's start when lookForOld, back where it was otherwise; with
// cur nil (path missing) at the last file read. Rotated files not settled
// yet go to st.Rotated. done is false when stop() cut the reading short:
// st then points into the rotated file being read.
func (p *poll) catchUp(lookForOld bool) (bool, error) {
	st, cur, c := p.st, p.cur, p.c
	oldIdx := -1
	if lookForOld {
		oldIdx = p.findOld()
	}
	sibs := p.sibs
	var chain []int
	if oldIdx >= 0 {
		chain = append(chain, oldIdx)
	}
	for i, lf := range sibs {
		if i != oldIdx && lf.size > 0 && !p.draining[[2]uint64{lf.dev, lf.ino}] && !st.isKnown(lf) {
			chain = append(chain, i)
		}
	}
	moved := false
	if lookForOld && oldIdx < 0 {
		switch {
		case cur != nil && !sameInode(cur, st.File) && sameContentElsewhere(cur, st.File, st.Offset+st.Scanned):
			// The same content under a new inode (copied and moved into
			// place, a restored backup): carry on where we were.
			moved = true
		case st.File.FPLen == 0:
			// We had read nothing of it: if it held lines, it is one of
			// the unseen files read whole.
		case cur != nil && sameInode(cur, st.File):
			p.note(fmt.Sprintf("%s was truncated and no copy of it was found next to it; lines written after offset %d and before the truncation, if any, could not be read", p.t.path, st.Offset))
		default:
			c.Rotations++
			p.note(fmt.Sprintf("the file read before (inode %d) was not found next to %s; lines written to it after offset %d, if any, could not be read", st.File.Ino, p.t.path, st.Offset))
			// Should it turn up later, it is not new.
			st.addKnown(st.File)
		}
	}
	back := *st.File
	backOff, backScanned := st.Offset, st.Scanned
	for k, i := range chain {
		lf := sibs[i]
		pos := Position{File: &FileID{Dev: lf.dev, Ino: lf.ino}}
		if i == oldIdx {
			id := *st.File
			pos = Position{File: &id, Offset: st.Offset, Scanned: st.Scanned}
		}
		p.t.log.Info("reading rotated file", "file", lf.path, "from", pos.Offset)
		if cur == nil && k == len(chain)-1 {
			// The path is missing: this is the file written last, and
			// reading carries on in it.
			r, err := p.read(lf, &pos, false)
			st.File, st.Offset, st.Scanned = pos.File, pos.Offset, pos.Scanned
			if err != nil || r.Stopped {
				p.res.Stopped = r.Stopped
				return false, err
			}
			continue
		}
		left, stopped, err := p.readRotated(lf, &pos)
		if err != nil || stopped {
			st.File, st.Offset, st.Scanned = pos.File, pos.Offset, pos.Scanned
			p.res.Stopped = stopped
			return false, err
		}
		if !left && pos.File.FPLen > 0 {
			// An empty file is not kept: nothing would tell it from the
			// next file given its inode number. Should it get lines, it
			// is an unseen rotated file then.
			st.addKnown(pos.File)
			st.addRotated(RotatedFile{File: *pos.File, Offset: pos.Offset, Scanned: pos.Scanned})
		}
		c.Rotations++
	}
	switch {
	case cur == nil:
		if len(chain) == 0 {
			st.File, st.Offset, st.Scanned = &back, backOff, backScanned
		}
	case lookForOld && moved:
		back.Dev, back.Ino = cur.dev, cur.ino
		st.File, st.Offset, st.Scanned = &back, backOff, backScanned
	case lookForOld:
		st.File, st.Offset, st.Scanned = &FileID{Dev: cur.dev, Ino: cur.ino}, 0, 0
	default:
		st.File, st.Offset, st.Scanned = &back, backOff, backScanned
	}
	st.Known, st.SibSig = mergeKnown(knownHeads(p.sibs), st.Known), p.sig
	return true, nil
}

func (p *poll) note(msg string) {
	p.res.Notes = append(p.res.Notes, msg)
	p.t.log.Warn(msg)
}

func sameInode(lf *logFile, id *FileID) bool {
	return id != nil && lf.dev == id.Dev && lf.ino == id.Ino
}

// KnownHead is the fingerprint of a rotated file's first Len bytes, and
// the file's device and inode when it was taken (zero in state written
// before they were kept).
type KnownHead struct {
	Len int    `json:"len"`
	FP  string `json:"fp"`
	Dev uint64 `json:"dev,omitempty"`
	Ino uint64 `json:"ino,omitempty"`
}

// knownHeads fingerprints the rotated files present now, as they were when
// listed: a head is read lazily, maybe after the chain was read, and bytes
// written since the listing were not read. A file empty when listed was
// read not at all (catchUp leaves it for when it has lines): taking the
// head it has by the end of a long catch-up made every such file "known"
// and it was never read (the access log's storm under load lost whole
// files of 15,000-40,000 lines).
func knownHeads(sibs []*logFile) []KnownHead {
	var out []KnownHead
	for _, lf := range sibs {
		h, err := lf.head()
		if err != nil {
			continue
		}
		if !lf.gz && int64(len(h)) > lf.size {
			h = h[:lf.size]
		}
		if len(h) > 0 {
			out = append(out, KnownHead{Len: len(h), FP: fingerprint(h), Dev: lf.dev, Ino: lf.ino})
		}
	}
	return out
}

// names says whether k, a head of a file seen before, is lf's, whose first
// bytes are h (fp gives the fingerprint of h's first n bytes): a head that
// identifies a file names any file beginning with it (a compressed copy
// included); a part of a first line, taken while the file held only that
// much, names only the same file grown since (same device and inode).
func (k KnownHead) names(lf *logFile, h []byte, fp func(n int) string) bool {
	if k.Len > len(h) || fp(k.Len) != k.FP {
		return false
	}
	return identifies(k.Len, h) || (k.Ino != 0 && k.Dev == lf.dev && k.Ino == lf.ino)
}

// identifies says whether the first n bytes of a file whose content
// starts with h tell it from other files of the same log: a whole line at
// least (each with its own timestamp and content), all fpMax bytes, or the
// whole file. A part of a first line does not: log lines share long
// prefixes (timestamp, client, request), so many files begin with the same
// bytes as one seen while its first line was being written.
func identifies(n int, h []byte) bool {
	return n > 0 && n <= len(h) && (n == fpMax || n == len(h) || bytes.IndexByte(h[:n], '\n') >= 0)
}

// mergeKnown is the heads present now, then the ones remembered from
// before that are not among them, newest first, up to maxKnown of those: a
// file a listing missed (taken during renames) is still known when it
// shows up again.
func mergeKnown(now, before []KnownHead) []KnownHead {
	seen := make(map[KnownHead]bool, len(now))
	for _, k := range now {
		seen[k] = true
	}
	// maxKnown bounds the heads kept beyond the listing, not the total: in
	// a directory of more rotated files than that, a file one listing
	// missed (mid-rename) was forgotten at once and read again when it
	// showed up in the next listing.
	out := now
	for i := len(before) - 1; i >= 0 && len(out) < len(now)+maxKnown; i-- {
		if k := before[i]; !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// addKnown remembers id's head as read.
func (st *Position) addKnown(id *FileID) {
	if id.FPLen == 0 {
		return
	}
	k := KnownHead{Len: id.FPLen, FP: id.FP, Dev: id.Dev, Ino: id.Ino}
	for _, have := range st.Known {
		if have == k {
			return
		}
	}
	st.Known = append(st.Known, k)
}

// addRotated keeps r to be read again, the oldest given up beyond
// maxRotated.
func (st *Position) addRotated(r RotatedFile) {
	st.Rotated = append(st.Rotated, r)
	if n := len(st.Rotated) - maxRotated; n > 0 {
		st.Rotated = append([]RotatedFile(nil), st.Rotated[n:]...)
	}
}

// isKnown says whether lf is a file whose content was seen before (one that
// grew since is still known by its first bytes; KnownHead.names).
func (st *Position) isKnown(lf *logFile) bool {
	h, err := lf.head()
	if err != nil {
		return true // unreadable: nothing to read either
	}
	// One fingerprint per length: hundreds of heads are compared with
	// each of hundreds of files in a busy log directory.
	fps := map[int]string{}
	fp := func(n int) string {
		f, ok := fps[n]
		if !ok {
			f = fingerprint(h[:n])
			fps[n] = f
		}
		return f
	}
	for _, k := range st.Known {
		if k.names(lf, h, fp) {
			return true
		}
	}
	return false
}

// read reads lf from pos's offset and advances pos (and its fingerprint).
func (p *poll) read(lf *logFile, pos *Position, final bool) (ReadResult, error) {
	lr := p.t.lr
	rc, head, err := lf.openAt(pos.Offset, pos.Scanned, lr.max)
	if err != nil {
		return ReadResult{}, fmt.Errorf("%s: %w", lf.path, err)
	}
	defer rc.Close()
	if pos.Scanned > 0 {
		lr.Resume(head)
	}
	r, err := lr.Read(rc, pos.Offset, pos.Scanned, final, p.stop, p.s)
	p.c.ReadBytes += uint64(r.Offset - pos.Offset)
	pos.Offset, pos.Scanned = r.Offset, r.Scanned
	if h, herr := lf.head(); herr == nil {
		pos.File.FPLen, pos.File.FP = len(h), fingerprint(h)
	}
	if err != nil {
		return r, fmt.Errorf("%s: %w", lf.path, err)
	}
	return r, nil
}

// sameContent says whether lf still holds what id fingerprinted, and at
// least end bytes.
func sameContent(lf *logFile, id *FileID, end int64) bool {
	if !lf.gz && lf.size < end {
		return false
	}
	if id.FPLen == 0 {
		return true
	}
	head, err := lf.head()
	return err == nil && len(head) >= id.FPLen && fingerprint(head[:id.FPLen]) == id.FP
}

// sameContentElsewhere is sameContent for a file found by its content
// alone (another inode: a copy, a compressed rotated file): the
// fingerprint must be one that tells files apart (identifies).
func sameContentElsewhere(lf *logFile, id *FileID, end int64) bool {
	if !sameContent(lf, id, end) {
		return false
	}
	head, err := lf.head()
	return err == nil && identifies(id.FPLen, head)
}

// logFile is the path or one of its rotated siblings, open: it is read
// only through f, so a rename under it changes nothing.
type logFile struct {
	path     string
	gz       bool
	dev, ino uint64
	size     int64 // on disk (compressed for .gz)
	mtime    time.Time
	f        *os.File
	// first is the first fpMax bytes of its content, read once a poll.
	first    []byte
	firstErr error
	read     bool
}

// describe fills a logFile from f's fstat.
func describe(path string, f *os.File, gz bool) (*logFile, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	lf := &logFile{path: path, gz: gz, size: fi.Size(), mtime: fi.ModTime(), f: f}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		lf.dev, lf.ino = uint64(sys.Dev), uint64(sys.Ino)
	}
	return lf, nil
}

// openAt returns a reader of lf's (decompressed) content from off+scanned
// and, with scanned > 0, the first max bytes at off (the head of the
// overlong line being skipped: a plain file is not read again in between).
func (lf *logFile) openAt(off, scanned int64, max int) (io.ReadCloser, []byte, error) {
	var head []byte
	if !lf.gz {
		if scanned > 0 {
			head = make([]byte, min(int64(max), scanned))
			if n, err := lf.f.ReadAt(head, off); n < len(head) {
				return nil, nil, fmt.Errorf("re-read overlong line at %d: %v", off, err)
			}
		}
		return io.NopCloser(&offsetReader{f: lf.f, off: off + scanned}), head, nil
	}
	zr, err := gzip.NewReader(io.NewSectionReader(lf.f, 0, 1<<62))
	if err != nil {
		return nil, nil, err
	}
	if _, err := io.CopyN(io.Discard, zr, off); err != nil {
		return nil, nil, fmt.Errorf("shorter than the offset %d: %w", off, err)
	}
	if scanned > 0 {
		head = make([]byte, min(int64(max), scanned))
		if _, err := io.ReadFull(zr, head); err != nil {
			return nil, nil, fmt.Errorf("re-read overlong line at %d: %v", off, err)
		}
		if _, err := io.CopyN(io.Discard, zr, scanned-int64(len(head))); err != nil {
			return nil, nil, fmt.Errorf("skip overlong line at %d: %v", off, err)
		}
	}
	return zr, head, nil
}

// offsetReader reads f from off on with pread, leaving f's own offset
// alone.
type offsetReader struct {
	f   *os.File
	off int64
}

func (r *offsetReader) Read(b []byte) (int, error) {
	n, err := r.f.ReadAt(b, r.off)
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// head returns up to fpMax leading bytes of lf's content, read once.
func (lf *logFile) head() ([]byte, error) {
	if lf.read {
		return lf.first, lf.firstErr
	}
	lf.read = true
	rc, _, err := lf.openAt(0, 0, 0)
	if err != nil {
		lf.firstErr = err
		return nil, err
	}
	defer rc.Close()
	buf := make([]byte, fpMax)
	k, err := io.ReadFull(rc, buf)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	lf.first, lf.firstErr = buf[:k], err
	return lf.first, err
}

// siblings lists the rotated files of the path in the order they were
// rotated out, oldest first: base.N[.gz] (higher N is older), base-DATE
// [.gz] or any other base.X/base-X (sorted by name, as dateext's formats
// are), and by modification time when both kinds are present. Each is
// opened, and known by its descriptor from then on; one found under two
// names (renamed while listed) is kept once. The file at the path (cur,
// when not nil) is left out. sig changes whenever a rotated file appears,
// goes, is renamed or changes size.
func (t *Tailer) siblings(cur *logFile) ([]*logFile, string) {
	dir, base := filepath.Split(t.path)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.log.Warn("cannot list rotated files", "dir", dir, "err", err)
		return nil, ""
	}
	type ranked struct {
		lf     *logFile
		num    int // -1 when not base.N
		suffix string
	}
	var all []ranked
	numbered, other := 0, 0
	type inode struct{ dev, ino uint64 }
	have := map[inode]bool{}
	if cur != nil {
		have[inode{cur.dev, cur.ino}] = true
	}
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || len(name) <= len(base) || !strings.HasPrefix(name, base) {
			continue
		}
		suffix := name[len(base):]
		if suffix[0] != '.' && suffix[0] != '-' {
			continue
		}
		gz := strings.HasSuffix(suffix, ".gz")
		suffix = strings.TrimSuffix(suffix, ".gz")
		if suffix == "" || hasOtherCompression(suffix) {
			continue
		}
		lf, err := openSibling(filepath.Join(dir, name), gz)
		if err != nil {
			continue // gone since the listing, or not a regular file now
		}
		if have[inode{lf.dev, lf.ino}] {
			lf.f.Close()
			continue
		}
		have[inode{lf.dev, lf.ino}] = true
		num := -1
		if suffix[0] == '.' {
			if n, err := strconv.Atoi(suffix[1:]); err == nil && n >= 0 {
				num = n
			}
		}
		if num >= 0 {
			numbered++
		} else {
			other++
		}
		all = append(all, ranked{lf, num, suffix})
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		switch {
		case numbered > 0 && other == 0:
			return a.num > b.num
		case other > 0 && numbered == 0:
			return a.suffix < b.suffix
		case !a.lf.mtime.Equal(b.lf.mtime):
			return a.lf.mtime.Before(b.lf.mtime)
		}
		return a.lf.path < b.lf.path
	})
	out := make([]*logFile, len(all))
	h := sha256.New()
	for i, r := range all {
		out[i] = r.lf
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00", r.lf.path, r.lf.ino, r.lf.size)
	}
	return out, hex.EncodeToString(h.Sum(nil)[:8])
}

// openSibling opens a rotated file without blocking (a FIFO named like
// one must not hang the poll) and describes it from its descriptor.
func openSibling(path string, gz bool) (*logFile, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	lf, err := describe(path, f, gz)
	if err != nil || !isRegular(f) {
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	return lf, nil
}

func isRegular(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular()
}

func hasOtherCompression(suffix string) bool {
	for _, ext := range []string{".bz2", ".xz", ".zst", ".lz4", ".Z", ".zip"} {
		if strings.HasSuffix(suffix, ext) {
			return true
		}
	}
	return false
}

// lastLineEnd returns the offset just past the last newline before size,
// so that start_at: end begins at a line boundary; 0 when the file holds no
// complete line yet.
func lastLineEnd(f *os.File, size int64) (int64, error) {
	const window = 64 << 10
	from := size - window
	if from < 0 {
		from = 0
	}
	buf := make([]byte, size-from)
	if _, err := f.ReadAt(buf, from); err != nil && err != io.EOF {
		return 0, err
	}
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
		return from + int64(i) + 1, nil
	}
	if from == 0 {
		return 0, nil
	}
	return size, nil
}
