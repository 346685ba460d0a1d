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
}

// New returns a Tailer of path. startAt ("end" or "beginning") says where
// a file never seen before is read from; lines longer than maxLine bytes
// are handed over cut to maxLine.
func New(path, startAt string, maxLine int, log *slog.Logger) *Tailer {
	return &Tailer{path: path, startAt: startAt, lr: NewLineReader(maxLine), log: log}
}

// Result describes the followed file after a poll.
type Result struct {
	Missing bool
	Size    int64 // size of the file at path
	Stopped bool  // out of time: the rest is read next run
	Notes   []string
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
func (t *Tailer) Poll(st *Position, c *Counters, fresh bool, s Sink, stop func() bool) (Result, error) {
	f, err := t.openLog(t.path)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return t.pollMissing(st, c, fresh, s, stop)
		case errors.Is(err, fs.ErrPermission):
			return Result{}, &PermissionError{err}
		}
		return Result{}, err
	}
	defer f.Close()
	cur, err := describe(t.path, f, false)
	if err != nil {
		return Result{}, err
	}
	sibs, sig := t.siblings(cur)
	res := Result{}
	done := true
	switch {
	case fresh:
		// Rotated files from before we started are not ours to read.
		st.Known, st.SibSig = knownHeads(sibs), sig
		st.File, st.Offset, st.Scanned = &FileID{Dev: cur.dev, Ino: cur.ino}, 0, 0
		if t.startAt == "end" {
			if st.Offset, err = lastLineEnd(f, cur.size); err != nil {
				return res, err
			}
		}
	case st.File == nil: // the path did not exist when we last looked
		if sig != st.SibSig {
			done, err = t.catchUp(st, c, cur, sibs, sig, false, s, stop, &res)
		}
		if done && err == nil {
			st.File, st.Offset, st.Scanned = &FileID{Dev: cur.dev, Ino: cur.ino}, 0, 0
		}
	case sameInode(cur, st.File):
		switch {
		case !sameContent(cur, st.File, st.Offset+st.Scanned):
			c.Truncations++
			t.log.Info("log truncated (copytruncate or by hand): reading the copy's rest, then the file from its start", "path", t.path, "offset", st.Offset)
			done, err = t.catchUp(st, c, cur, sibs, sig, true, s, stop, &res)
		case sig != st.SibSig:
			done, err = t.catchUp(st, c, cur, sibs, sig, false, s, stop, &res)
		}
	default:
		done, err = t.catchUp(st, c, cur, sibs, sig, true, s, stop, &res)
	}
	if err != nil || !done {
		return res, err
	}
	r, err := t.readFile(cur, st, c, false, s, stop)
	if err != nil {
		return res, err
	}
	res.Stopped = r.Stopped
	res.Size = cur.size
	if fi, err := f.Stat(); err == nil && fi.Size() > res.Size {
		res.Size = fi.Size()
	}
	return res, nil
}

// pollMissing handles a path that does not exist: a rename rotation whose
// new file is not there yet (the old one may still hold unread lines), a
// deleted file, or one not created yet.
func (t *Tailer) pollMissing(st *Position, c *Counters, fresh bool, s Sink, stop func() bool) (Result, error) {
	res := Result{Missing: true}
	sibs, sig := t.siblings(nil)
	if fresh {
		st.Known, st.SibSig = knownHeads(sibs), sig
		return res, nil
	}
	if sig == st.SibSig {
		return res, nil // nothing moved since we last looked
	}
	// The last file read stays the one st points at: when the new file
	// appears, that one is found again (at its end) and counted as rotated.
	_, err := t.catchUp(st, c, nil, sibs, sig, st.File != nil, s, stop, &res)
	return res, err
}

// catchUp reads the rotated files: the rest of the one st points at when
// lookForOld (it is no longer at the path, or no longer holds what we
// read), then every one whose content we have not seen. Afterwards st
// points at cur's start when lookForOld, back where it was otherwise; with
// cur nil (path missing) at the last file read. done is false when stop()
// cut the reading short: st then points into the rotated file being read.
func (t *Tailer) catchUp(st *Position, c *Counters, cur *logFile, sibs []*logFile, sig string, lookForOld bool, s Sink, stop func() bool, res *Result) (bool, error) {
	oldIdx := -1
	if lookForOld {
		oldIdx = t.findOld(sibs, st)
	}
	var chain []int
	if oldIdx >= 0 {
		chain = append(chain, oldIdx)
	}
	for i, lf := range sibs {
		if i != oldIdx && lf.size > 0 && !st.isKnown(lf) {
			chain = append(chain, i)
		}
	}
	moved := false
	if lookForOld && oldIdx < 0 {
		switch {
		case cur != nil && !sameInode(cur, st.File) && sameContent(cur, st.File, st.Offset+st.Scanned):
			// The same content under a new inode (copied and moved into
			// place, a restored backup): carry on where we were.
			moved = true
		case st.File.FPLen == 0:
			// We had read nothing of it: if it held lines, it is one of
			// the unseen files read whole.
		case cur != nil && sameInode(cur, st.File):
			t.note(res, fmt.Sprintf("%s was truncated and no copy of it was found next to it; lines written after offset %d and before the truncation, if any, could not be read", t.path, st.Offset))
		default:
			c.Rotations++
			t.note(res, fmt.Sprintf("the file read before (inode %d) was not found next to %s; lines written to it after offset %d, if any, could not be read", st.File.Ino, t.path, st.Offset))
		}
	}
	back := *st.File
	backOff, backScanned := st.Offset, st.Scanned
	for k, i := range chain {
		lf := sibs[i]
		if i != oldIdx {
			st.File, st.Offset, st.Scanned = &FileID{Dev: lf.dev, Ino: lf.ino}, 0, 0
		}
		t.log.Info("reading rotated file", "file", lf.path, "from", st.Offset)
		r, err := t.readFile(lf, st, c, true, s, stop)
		if err != nil {
			return false, err
		}
		if r.Stopped {
			res.Stopped = true
			return false, nil
		}
		st.Known = append(st.Known, KnownHead{Len: st.File.FPLen, FP: st.File.FP})
		if cur != nil || k < len(chain)-1 {
			c.Rotations++
		}
	}
	switch {
	case cur == nil:
	case lookForOld && moved:
		back.Dev, back.Ino = cur.dev, cur.ino
		st.File, st.Offset, st.Scanned = &back, backOff, backScanned
	case lookForOld:
		st.File, st.Offset, st.Scanned = &FileID{Dev: cur.dev, Ino: cur.ino}, 0, 0
	default:
		st.File, st.Offset, st.Scanned = &back, backOff, backScanned
	}
	st.Known, st.SibSig = knownHeads(sibs), sig
	return true, nil
}

func (t *Tailer) note(res *Result, msg string) {
	res.Notes = append(res.Notes, msg)
	t.log.Warn(msg)
}

func sameInode(lf *logFile, id *FileID) bool {
	return id != nil && lf.dev == id.Dev && lf.ino == id.Ino
}

// KnownHead is the fingerprint of a rotated file's first Len bytes.
type KnownHead struct {
	Len int    `json:"len"`
	FP  string `json:"fp"`
}

// knownHeads fingerprints the rotated files present now.
func knownHeads(sibs []*logFile) []KnownHead {
	var out []KnownHead
	for _, lf := range sibs {
		if h, err := lf.head(fpMax); err == nil && len(h) > 0 {
			out = append(out, KnownHead{Len: len(h), FP: fingerprint(h)})
		}
	}
	return out
}

// isKnown says whether lf starts with content seen before (a file that grew
// since is still known by its first bytes).
func (st *Position) isKnown(lf *logFile) bool {
	h, err := lf.head(fpMax)
	if err != nil {
		return true // unreadable: nothing to read either
	}
	for _, k := range st.Known {
		if k.Len <= len(h) && fingerprint(h[:k.Len]) == k.FP {
			return true
		}
	}
	return false
}

// readFile reads lf from st's offset and advances st.
func (t *Tailer) readFile(lf *logFile, st *Position, c *Counters, final bool, s Sink, stop func() bool) (ReadResult, error) {
	rc, err := lf.openAt(st.Offset)
	if err != nil {
		return ReadResult{}, fmt.Errorf("%s: %w", lf.path, err)
	}
	defer rc.Close()
	r, err := t.lr.Read(rc, st.Offset, st.Scanned, final, stop, s)
	c.ReadBytes += uint64(r.Offset - st.Offset)
	st.Offset, st.Scanned = r.Offset, r.Scanned
	if head, herr := lf.head(fpMax); herr == nil {
		st.File.FPLen, st.File.FP = len(head), fingerprint(head)
	}
	if err != nil {
		return r, fmt.Errorf("%s: %w", lf.path, err)
	}
	return r, nil
}

// findOld returns the index in sibs of the file st points at, or -1: by
// device and inode (checking the fingerprint, as a deleted file's inode
// number is soon reused), else by fingerprint alone (a copytruncate copy,
// a compressed rotated file), the newest such file first.
func (t *Tailer) findOld(sibs []*logFile, st *Position) int {
	for i, lf := range sibs {
		if !lf.gz && lf.dev == st.File.Dev && lf.ino == st.File.Ino && sameContent(lf, st.File, st.Offset+st.Scanned) {
			return i
		}
	}
	if st.File.FPLen == 0 {
		return -1 // nothing to recognise it by
	}
	for i := len(sibs) - 1; i >= 0; i-- {
		if sameContent(sibs[i], st.File, st.Offset+st.Scanned) {
			return i
		}
	}
	return -1
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
	head, err := lf.head(id.FPLen)
	return err == nil && len(head) == id.FPLen && fingerprint(head) == id.FP
}

// logFile is the path or one of its rotated siblings.
type logFile struct {
	path     string
	gz       bool
	dev, ino uint64
	size     int64 // on disk (compressed for .gz)
	mtime    int64
	f        *os.File // the open file at path, else nil
}

func describe(path string, f *os.File, gz bool) (*logFile, error) {
	var fi os.FileInfo
	var err error
	if f != nil {
		fi, err = f.Stat()
	} else {
		fi, err = os.Stat(path)
	}
	if err != nil {
		return nil, err
	}
	lf := &logFile{path: path, gz: gz, size: fi.Size(), mtime: fi.ModTime().UnixNano(), f: f}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		lf.dev, lf.ino = uint64(sys.Dev), uint64(sys.Ino)
	}
	return lf, nil
}

// openAt returns a reader of lf's (decompressed) content from off.
func (lf *logFile) openAt(off int64) (io.ReadCloser, error) {
	if lf.f != nil && !lf.gz {
		if _, err := lf.f.Seek(off, io.SeekStart); err != nil {
			return nil, err
		}
		return io.NopCloser(lf.f), nil
	}
	f, err := os.Open(lf.path)
	if err != nil {
		return nil, err
	}
	if !lf.gz {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if _, err := io.CopyN(io.Discard, zr, off); err != nil {
		f.Close()
		return nil, fmt.Errorf("shorter than the offset %d: %w", off, err)
	}
	return gzFile{zr, f}, nil
}

type gzFile struct {
	*gzip.Reader
	f *os.File
}

func (g gzFile) Close() error { g.Reader.Close(); return g.f.Close() }

// head returns up to n leading bytes of lf's content.
func (lf *logFile) head(n int) ([]byte, error) {
	rc, err := lf.openAt(0)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	buf := make([]byte, n)
	k, err := io.ReadFull(rc, buf)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return buf[:k], err
}

// siblings lists the rotated files of the path in the order they were
// rotated out, oldest first: base.N[.gz] (higher N is older), base-DATE
// [.gz] or any other base.X/base-X (sorted by name, as dateext's formats
// are), and by modification time when both kinds are present. The file
// at the path (cur, when not nil) is left out. sig changes whenever a
// rotated file appears, goes, is renamed or changes size.
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
		lf, err := describe(filepath.Join(dir, name), nil, gz)
		if err != nil || (cur != nil && lf.dev == cur.dev && lf.ino == cur.ino) {
			continue
		}
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
		case a.lf.mtime != b.lf.mtime:
			return a.lf.mtime < b.lf.mtime
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
