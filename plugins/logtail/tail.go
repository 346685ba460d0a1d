package main

import (
	"bytes"
	"compress/gzip"
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
)

// tailer follows one log path across rotations. It keeps no file open
// between runs: every run starts from the saved state alone, so a run after
// a restart does exactly what a run in a long-lived process does.
type tailer struct {
	path    string
	startAt string // "end" or "beginning", for a file never seen before
	lr      *lineReader
	log     *slog.Logger
}

// pollResult describes the followed file after a run.
type pollResult struct {
	missing bool
	size    int64 // size of the file at path
	stopped bool  // out of time: the rest is read next run
	notes   []string
}

// errPermission marks a file the service user may not read.
type errPermission struct{ err error }

func (e *errPermission) Error() string { return e.err.Error() }
func (e *errPermission) Unwrap() error { return e.err }

// poll reads everything written since st was saved (fresh: there was no
// saved state) and advances st. Rotations are handled as logrotate makes
// them:
//   - rename (create, with or without dateext): the old file, found among
//     the siblings by device+inode, is read to its end first, then any
//     files rotated after it (rotations while we were down), then the new
//     file from byte 0;
//   - copytruncate: the same inode with other first bytes (or shorter than
//     our offset) is a truncation; the copy, found by fingerprint (also
//     inside .gz), is read from our old offset first;
//   - deleted and re-created: the new file from byte 0.
func (t *tailer) poll(st *state, fresh bool, s sink, stop func() bool) (pollResult, error) {
	f, err := os.Open(t.path)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return t.pollMissing(st, s, stop)
		case errors.Is(err, fs.ErrPermission):
			return pollResult{}, &errPermission{err}
		}
		return pollResult{}, err
	}
	defer f.Close()
	cur, err := describe(t.path, f, false)
	if err != nil {
		return pollResult{}, err
	}
	res := pollResult{}
	switch {
	case fresh && t.startAt == "end":
		off, err := lastLineEnd(f, cur.size)
		if err != nil {
			return res, err
		}
		st.File, st.Offset, st.Scanned = &fileID{Dev: cur.dev, Ino: cur.ino}, off, 0
	case st.File == nil:
		st.File, st.Offset, st.Scanned = &fileID{Dev: cur.dev, Ino: cur.ino}, 0, 0
	case st.File.Dev == cur.dev && st.File.Ino == cur.ino:
		if !sameContent(cur, st.File, st.Offset+st.Scanned) {
			st.Totals.Truncations++
			t.log.Info("log truncated (copytruncate or by hand): reading the copy's rest, then the file from its start", "path", t.path, "offset", st.Offset)
			done, err := t.recover(st, cur, s, stop, &res)
			if err != nil || !done {
				return res, err
			}
		}
	default:
		done, err := t.recover(st, cur, s, stop, &res)
		if err != nil || !done {
			return res, err
		}
	}
	r, err := t.readFile(cur, st, false, s, stop)
	if err != nil {
		return res, err
	}
	res.stopped = r.stopped
	res.size = cur.size
	if fi, err := f.Stat(); err == nil && fi.Size() > res.size {
		res.size = fi.Size()
	}
	return res, nil
}

// pollMissing handles a path that does not exist: a rename rotation whose
// new file is not there yet (the old one may still hold unread lines), a
// deleted file, or one not created yet.
func (t *tailer) pollMissing(st *state, s sink, stop func() bool) (pollResult, error) {
	res := pollResult{missing: true}
	if st.File == nil {
		return res, nil
	}
	sibs := t.siblings(0, 0)
	i := t.findOld(sibs, st)
	if i < 0 {
		return res, nil
	}
	if sibs[i].dev == st.File.Dev && sibs[i].ino == st.File.Ino && st.Offset+st.Scanned >= sibs[i].size && len(sibs[i+1:]) == 0 {
		return res, nil // already read to its end
	}
	// The last file read stays the one st points at: when the new file
	// appears, it is found again (at its end) and counted as rotated then.
	_, err := t.drainChain(st, sibs[i:], false, s, stop, &res)
	return res, err
}

// recover reads what is left of the file st points at, which is no longer
// at the path (renamed) or no longer holds what we read (truncated), and
// the files rotated after it; then points st at cur's start. done is false
// when stop() cut the reading short (st then points into the chain).
func (t *tailer) recover(st *state, cur *logFile, s sink, stop func() bool, res *pollResult) (bool, error) {
	sibs := t.siblings(cur.dev, cur.ino)
	i := t.findOld(sibs, st)
	if i < 0 && !(st.File.Dev == cur.dev && st.File.Ino == cur.ino) && sameContent(cur, st.File, st.Offset+st.Scanned) {
		// The same content under a new inode (copied and moved into place,
		// or a restored backup): carry on where we were.
		st.File.Dev, st.File.Ino = cur.dev, cur.ino
		return true, nil
	}
	switch {
	case i < 0 && st.File.Dev == cur.dev && st.File.Ino == cur.ino:
		msg := fmt.Sprintf("%s was truncated and no copy of it was found next to it; lines written after offset %d and before the truncation, if any, could not be read", t.path, st.Offset)
		res.notes = append(res.notes, msg)
		t.log.Warn(msg)
	case i < 0:
		st.Totals.Rotations++
		msg := fmt.Sprintf("the file read before (inode %d) was not found next to %s; lines written to it after offset %d, if any, could not be read", st.File.Ino, t.path, st.Offset)
		res.notes = append(res.notes, msg)
		t.log.Warn(msg)
	default:
		done, err := t.drainChain(st, sibs[i:], true, s, stop, res)
		if err != nil || !done {
			return done, err
		}
	}
	st.File, st.Offset, st.Scanned = &fileID{Dev: cur.dev, Ino: cur.ino}, 0, 0
	return true, nil
}

// drainChain reads chain[0] (the file st points at) from st's offset and
// the rest, newer rotated files, whole, each to its end. Each file left
// behind for the next counts as a rotation; so does the last when leaving.
func (t *tailer) drainChain(st *state, chain []*logFile, leaving bool, s sink, stop func() bool, res *pollResult) (bool, error) {
	for k, lf := range chain {
		if k > 0 {
			st.File, st.Offset, st.Scanned = &fileID{Dev: lf.dev, Ino: lf.ino}, 0, 0
		}
		t.log.Info("reading rotated file", "file", lf.path, "from", st.Offset)
		r, err := t.readFile(lf, st, true, s, stop)
		if err != nil {
			return false, err
		}
		if r.stopped {
			res.stopped = true
			return false, nil
		}
		if leaving || k < len(chain)-1 {
			st.Totals.Rotations++
		}
	}
	return true, nil
}

// readFile reads lf from st's offset and advances st.
func (t *tailer) readFile(lf *logFile, st *state, final bool, s sink, stop func() bool) (readResult, error) {
	rc, err := lf.openAt(st.Offset)
	if err != nil {
		return readResult{}, fmt.Errorf("%s: %w", lf.path, err)
	}
	defer rc.Close()
	r, err := t.lr.read(rc, st.Offset, st.Scanned, final, stop, s)
	st.Totals.ReadBytes += uint64(r.offset - st.Offset)
	st.Offset, st.Scanned = r.offset, r.scanned
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
func (t *tailer) findOld(sibs []*logFile, st *state) int {
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
func sameContent(lf *logFile, id *fileID, end int64) bool {
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
// with device dev and inode ino (the one now at the path) is left out.
func (t *tailer) siblings(dev, ino uint64) []*logFile {
	dir, base := filepath.Split(t.path)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.log.Warn("cannot list rotated files", "dir", dir, "err", err)
		return nil
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
		if err != nil || (lf.dev == dev && lf.ino == ino && !gz) {
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
	for i, r := range all {
		out[i] = r.lf
	}
	return out
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
