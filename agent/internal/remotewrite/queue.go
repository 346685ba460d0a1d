package remotewrite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The disk queue of one receiver: a directory of append-only segment files
// (00000001.seg, ...) of records, each one ready-to-send request (a
// snappy-compressed WriteRequest holding one sample of every series at one
// timestamp), and a `position` file naming the first record not yet
// stored by the receiver. Records are appended in time order and sent
// oldest first, so each series reaches the receiver in timestamp order.
//
// Durability (docs/design.md "Remote write: the disk queue"): a record is
// written with one write(2) and fdatasync'ed before Append returns, so a
// SIGKILL or a power loss loses at most the record being written; a torn
// tail (a crash in the middle of a write) fails its CRC and is cut off when
// the queue is opened. The position is rewritten in place after every
// stored record and synced at most once a second: after a SIGKILL it is
// exact (the page cache survives the process); after a power loss it may
// be up to a second behind, and those records are sent again.

// Record header: payload length, CRC-32C of the rest of the header and the
// payload, sample timestamp (ms), number of samples, reserved.
const (
	headerSize   = 24
	maxRecord    = 64 << 20 // a record claiming more is corrupt
	segmentExt   = ".seg"
	positionFile = "position"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Drop reasons, the `reason` label of pbxwatch_remote_write_samples_dropped_total.
const (
	ReasonTooOld    = "too_old"    // older than queue.max_age
	ReasonQueueFull = "queue_full" // the oldest segment made room under queue.max_bytes
	ReasonRejected  = "rejected"   // the receiver answered 4xx (not 429): not retried
	ReasonCorrupt   = "corrupt"    // a record on disk failed its checksum
)

// Reasons lists every drop reason.
var Reasons = []string{ReasonTooOld, ReasonQueueFull, ReasonRejected, ReasonCorrupt}

// Record is one queued request.
type Record struct {
	Timestamp time.Time
	Samples   int
	Payload   []byte // snappy-compressed WriteRequest
	pos       position
	next      position
}

type position struct{ seg, off int64 }

// Queue is a receiver's disk queue. It is safe for one writer and one
// reader at a time.
type Queue struct {
	dir        string
	maxBytes   int64
	maxAge     time.Duration
	segMax     int64
	onDrop     func(reason string, samples int)
	now        func() time.Time
	mu         sync.Mutex
	segs       []int64         // segment numbers, oldest first
	sizes      map[int64]int64 // bytes of each segment
	w          *os.File        // the newest segment, open for append
	pos        position        // first record not yet stored
	posFile    *os.File
	posSynced  time.Time
	notify     chan struct{}
	totalBytes int64
}

// OpenQueue opens (or creates) the queue in dir and repairs a torn tail.
// onDrop is told of every sample dropped, with its reason.
func OpenQueue(dir string, maxBytes int64, maxAge time.Duration, onDrop func(reason string, samples int)) (*Queue, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("remote write queue: %w (agent.state_dir must be writable by the service user)", err)
	}
	q := &Queue{
		dir: dir, maxBytes: maxBytes, maxAge: maxAge, segMax: segmentSize(maxBytes),
		onDrop: onDrop, now: time.Now, sizes: map[int64]int64{}, notify: make(chan struct{}, 1),
	}
	if err := q.load(); err != nil {
		q.Close()
		return nil, err
	}
	return q, nil
}

// segmentSize: eight segments per queue, so that making room drops an
// eighth of it at most, within [16 KiB, 8 MiB].
func segmentSize(maxBytes int64) int64 {
	return min(max(maxBytes/8, 16<<10), 8<<20)
}

func (q *Queue) load() error {
	entries, err := os.ReadDir(q.dir)
	if err != nil {
		return fmt.Errorf("remote write queue: %w", err)
	}
	for _, e := range entries {
		if n, ok := segmentNumber(e.Name()); ok {
			q.segs = append(q.segs, n)
		}
	}
	sort.Slice(q.segs, func(i, j int) bool { return q.segs[i] < q.segs[j] })
	for _, n := range q.segs {
		st, err := os.Stat(q.segPath(n))
		if err != nil {
			return fmt.Errorf("remote write queue: %w", err)
		}
		q.sizes[n] = st.Size()
		q.totalBytes += st.Size()
	}
	if err := q.repairTail(); err != nil {
		return err
	}
	if q.posFile, err = os.OpenFile(filepath.Join(q.dir, positionFile), os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return fmt.Errorf("remote write queue: %w", err)
	}
	q.pos = q.readPosition()
	if len(q.segs) == 0 {
		q.segs = []int64{1}
		q.sizes[1] = 0
	}
	if q.pos.seg < q.segs[0] || q.pos.seg > q.segs[len(q.segs)-1] || q.pos.off > q.sizes[q.pos.seg] {
		q.pos = position{seg: q.segs[0]}
	}
	last := q.segs[len(q.segs)-1]
	q.w, err = os.OpenFile(q.segPath(last), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("remote write queue: %w", err)
	}
	return syncDir(q.dir)
}

// repairTail cuts the newest segment at its first record that does not
// check out: what a crash in the middle of an append leaves.
func (q *Queue) repairTail() error {
	if len(q.segs) == 0 {
		return nil
	}
	last := q.segs[len(q.segs)-1]
	f, err := os.OpenFile(q.segPath(last), os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("remote write queue: %w", err)
	}
	defer f.Close()
	var off int64
	for off < q.sizes[last] {
		_, next, err := readRecord(f, off)
		if err != nil {
			break
		}
		off = next
	}
	if off == q.sizes[last] {
		return nil
	}
	if err := f.Truncate(off); err != nil {
		return fmt.Errorf("remote write queue: cut torn record: %w", err)
	}
	q.totalBytes -= q.sizes[last] - off
	q.sizes[last] = off
	return f.Sync()
}

func segmentNumber(name string) (int64, bool) {
	if !strings.HasSuffix(name, segmentExt) {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(name, segmentExt), 10, 64)
	return n, err == nil && n > 0
}

func (q *Queue) segPath(n int64) string {
	return filepath.Join(q.dir, fmt.Sprintf("%08d%s", n, segmentExt))
}

// Append queues one request durably, first making room under max_bytes by
// dropping the oldest segments.
func (q *Queue) Append(ts time.Time, samples int, payload []byte) error {
	rec := encodeRecord(ts, samples, payload)
	q.mu.Lock()
	defer q.mu.Unlock()
	last := q.segs[len(q.segs)-1]
	if q.sizes[last] > 0 && q.sizes[last]+int64(len(rec)) > q.segMax {
		if err := q.rotate(); err != nil {
			return err
		}
		last = q.segs[len(q.segs)-1]
	}
	for q.totalBytes+int64(len(rec)) > q.maxBytes && len(q.segs) > 1 {
		q.dropOldestSegment(ReasonQueueFull)
	}
	if q.totalBytes+int64(len(rec)) > q.maxBytes {
		// One record larger than the whole queue: it cannot wait.
		q.onDrop(ReasonQueueFull, samples)
		return nil
	}
	if _, err := q.w.Write(rec); err != nil {
		return fmt.Errorf("remote write queue: append: %w", err)
	}
	if err := q.w.Sync(); err != nil {
		return fmt.Errorf("remote write queue: sync: %w", err)
	}
	q.sizes[last] += int64(len(rec))
	q.totalBytes += int64(len(rec))
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return nil
}

func encodeRecord(ts time.Time, samples int, payload []byte) []byte {
	rec := make([]byte, headerSize+len(payload))
	binary.LittleEndian.PutUint32(rec[0:], uint32(len(payload)))
	binary.LittleEndian.PutUint64(rec[8:], uint64(ts.UnixMilli()))
	binary.LittleEndian.PutUint32(rec[16:], uint32(samples))
	copy(rec[headerSize:], payload)
	binary.LittleEndian.PutUint32(rec[4:], crc32.Checksum(rec[8:], castagnoli))
	return rec
}

var errCorrupt = errors.New("corrupt record")

// readRecord reads the record at off; next is where the following one
// starts.
func readRecord(f io.ReaderAt, off int64) (*Record, int64, error) {
	var h [headerSize]byte
	if _, err := f.ReadAt(h[:], off); err != nil {
		return nil, 0, err
	}
	n := binary.LittleEndian.Uint32(h[0:])
	if n > maxRecord {
		return nil, 0, errCorrupt
	}
	buf := make([]byte, headerSize+int(n))
	copy(buf, h[:])
	if _, err := f.ReadAt(buf[headerSize:], off+headerSize); err != nil {
		return nil, 0, err
	}
	if crc32.Checksum(buf[8:], castagnoli) != binary.LittleEndian.Uint32(h[4:]) {
		return nil, 0, errCorrupt
	}
	return &Record{
		Timestamp: time.UnixMilli(int64(binary.LittleEndian.Uint64(h[8:]))),
		Samples:   int(binary.LittleEndian.Uint32(h[16:])),
		Payload:   buf[headerSize:],
	}, off + headerSize + int64(n), nil
}

func (q *Queue) rotate() error {
	if err := q.w.Close(); err != nil {
		return fmt.Errorf("remote write queue: %w", err)
	}
	n := q.segs[len(q.segs)-1] + 1
	w, err := os.OpenFile(q.segPath(n), os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("remote write queue: new segment: %w", err)
	}
	q.w = w
	q.segs = append(q.segs, n)
	q.sizes[n] = 0
	return syncDir(q.dir)
}

// dropOldestSegment deletes the oldest segment, counting the samples of
// its records not yet stored.
func (q *Queue) dropOldestSegment(reason string) {
	n := q.segs[0]
	from := int64(0)
	if q.pos.seg == n {
		from = q.pos.off
	}
	if q.pos.seg <= n {
		q.countUnsent(n, from, reason)
		q.pos = position{seg: q.segs[1]}
		q.writePosition(true)
	}
	q.removeSegment(n)
}

func (q *Queue) countUnsent(n, from int64, reason string) {
	f, err := os.Open(q.segPath(n))
	if err != nil {
		return
	}
	defer f.Close()
	for off := from; off < q.sizes[n]; {
		rec, next, err := readRecord(f, off)
		if err != nil {
			return
		}
		q.onDrop(reason, rec.Samples)
		off = next
	}
}

func (q *Queue) removeSegment(n int64) {
	_ = os.Remove(q.segPath(n))
	q.totalBytes -= q.sizes[n]
	delete(q.sizes, n)
	q.segs = q.segs[1:]
}

// Head returns the oldest record not yet stored, or nil when there is
// none. Records older than max_age are dropped on the way, and so is a
// segment's corrupt rest.
func (q *Queue) Head() *Record {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if q.pos.off >= q.sizes[q.pos.seg] {
			if !q.advanceSegment() {
				return nil
			}
			continue
		}
		f, err := os.Open(q.segPath(q.pos.seg))
		if err != nil {
			q.skipSegment()
			continue
		}
		rec, next, err := readRecord(f, q.pos.off)
		f.Close()
		if err != nil {
			// The rest of this segment cannot be read: a record's bytes
			// changed on disk. Its samples are unknown; count one drop.
			q.onDrop(ReasonCorrupt, 0)
			q.skipSegment()
			continue
		}
		rec.pos, rec.next = q.pos, position{q.pos.seg, next}
		if q.now().Sub(rec.Timestamp) > q.maxAge {
			q.onDrop(ReasonTooOld, rec.Samples)
			q.pos = rec.next
			q.writePosition(false)
			continue
		}
		return rec
	}
}

// advanceSegment moves past a fully stored segment, deleting it; false if
// it is the newest (nothing more to read yet).
func (q *Queue) advanceSegment() bool {
	if q.pos.seg >= q.segs[len(q.segs)-1] {
		return false
	}
	q.skipSegment()
	return true
}

func (q *Queue) skipSegment() {
	old := q.pos.seg
	if old >= q.segs[len(q.segs)-1] {
		// The newest segment: cut it to what was read, start afresh.
		q.pos.off = q.sizes[old]
		return
	}
	q.pos = position{seg: old + 1}
	q.writePosition(true)
	for len(q.segs) > 1 && q.segs[0] < q.pos.seg {
		q.removeSegment(q.segs[0])
	}
}

// Done marks rec as handled (stored, or dropped by the caller). A record the
// queue dropped meanwhile (to make room) is ignored.
func (q *Queue) Done(rec *Record) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.pos != rec.pos {
		return
	}
	q.pos = rec.next
	last := q.segs[len(q.segs)-1]
	if q.pos.seg == last && q.pos.off == q.sizes[last] && len(q.segs) == 1 {
		// Everything sent: empty the segment rather than let a healthy
		// queue keep up to a segment of sent records on disk. (The
		// appends go to the file's end, O_APPEND, wherever that is.)
		if err := q.w.Truncate(0); err == nil {
			q.totalBytes -= q.sizes[last]
			q.sizes[last] = 0
			q.pos.off = 0
			q.writePosition(true)
			return
		}
	}
	q.writePosition(false)
}

// Wait returns a channel that receives after an append.
func (q *Queue) Wait() <-chan struct{} { return q.notify }

// Bytes is the queue's size on disk: the records not yet sent, plus at
// most one segment of sent ones.
func (q *Queue) Bytes() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.totalBytes
}

// Oldest is the timestamp of the oldest record not yet stored (zero if none).
func (q *Queue) Oldest() time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	f, err := os.Open(q.segPath(q.pos.seg))
	if err != nil {
		return time.Time{}
	}
	defer f.Close()
	rec, _, err := readRecord(f, q.pos.off)
	if err != nil {
		return time.Time{}
	}
	return rec.Timestamp
}

// writePosition rewrites the position file in place (20 bytes: segment,
// offset, CRC, within one sector); synced when sync is set or a second
// has passed since the last sync.
func (q *Queue) writePosition(sync bool) {
	var b [20]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(q.pos.seg))
	binary.LittleEndian.PutUint64(b[8:], uint64(q.pos.off))
	binary.LittleEndian.PutUint32(b[16:], crc32.Checksum(b[:16], castagnoli))
	if _, err := q.posFile.WriteAt(b[:], 0); err != nil {
		return
	}
	if sync || q.now().Sub(q.posSynced) >= time.Second {
		_ = q.posFile.Sync()
		q.posSynced = q.now()
	}
}

func (q *Queue) readPosition() position {
	var b [20]byte
	if _, err := q.posFile.ReadAt(b[:], 0); err != nil {
		return position{}
	}
	if crc32.Checksum(b[:16], castagnoli) != binary.LittleEndian.Uint32(b[16:]) {
		return position{}
	}
	return position{seg: int64(binary.LittleEndian.Uint64(b[0:])), off: int64(binary.LittleEndian.Uint64(b[8:]))}
}

// Close syncs the position and closes the files.
func (q *Queue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.posFile != nil {
		_ = q.posFile.Sync()
		_ = q.posFile.Close()
		q.posFile = nil
	}
	if q.w != nil {
		_ = q.w.Close()
		q.w = nil
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
