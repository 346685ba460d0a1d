package accesslog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pbxwatch/pbxwatch/internal/freepbxdb"
	"github.com/pbxwatch/pbxwatch/internal/tailfile"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// slotIdle is how long a client keeps its own accesslog_failed_requests_total
// series without failing again.
const slotIdle = 24 * time.Hour

type checker struct {
	mu  sync.Mutex
	cfg config
	log *tailfile.Session
	// src is FreePBX's database for naming applications (nil: not
	// configured); lookup is the current run's connection to it.
	src    *freepbxdb.Source
	lookup *appLookup
	st     *state
	now    func() time.Time
	// between is what following read since the last run: in the state and
	// its events sent, still to be reported by the next run.
	between *run
}

// The codes of the diagnoses of the file itself (made by tailfile).
const (
	codeFileMissing      = "accesslog.file_missing"
	codePermission       = "accesslog.permission_denied"
	codeStateCorrupt     = "accesslog.state_corrupt"
	codeNotRegular       = "accesslog.not_a_regular_file"
	codeSymlinkRefused   = "accesslog.symlink_refused"
	codePreviousLost     = "accesslog.previous_file_lost"
	codeBehind           = "accesslog.behind"
	codeUnterminatedLine = "accesslog.unterminated_line"
)

var codes = tailfile.Codes{FileMissing: codeFileMissing, PermissionDenied: codePermission, StateCorrupt: codeStateCorrupt,
	NotARegularFile: codeNotRegular, SymlinkRefused: codeSymlinkRefused, PreviousFileLost: codePreviousLost,
	Behind: codeBehind, UnterminatedLine: codeUnterminatedLine}

// plugin is how accesslog names its diagnoses of the file.
var plugin = tailfile.Plugin{Name: "accesslog", Codes: codes, Unit: "requests",
	Where: "Apache writes /var/log/apache2/access.log on Debian, /var/log/httpd/access_log on Sangoma Linux"}

func (c *checker) Configure(_ context.Context, cfg *sdk.Config) error {
	conf, err := decodeConfig(cfg)
	if err != nil {
		return err
	}
	c.cfg = conf
	c.log = tailfile.NewSession(plugin, tailfile.SessionConfig{Path: conf.Path, StartAt: conf.StartAt,
		StateDir: cfg.StateDir, MaxLineBytes: conf.MaxLineBytes, Version: stateVersion}, sdk.Logger())
	if conf.lookupOn() {
		src, err := conf.lookupSource()
		if err != nil {
			return errors.New(cfg.Locate(err.Error()))
		}
		c.src = &src
	}
	if c.now == nil {
		c.now = time.Now
	}
	return nil
}

func (c *checker) Check(ctx context.Context) (*sdk.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.load(); err != nil {
		return c.log.StateCorrupt(err), nil
	}
	c.st.maxSlots = c.cfg.MaxClients
	r := newRun(&c.cfg, c.st)
	pr, err := c.log.Poll(ctx, c.st, &c.st.Totals.Counters, r)
	r.addTo(c.st)
	now := c.now()
	c.st.expireSlots(now)
	c.st.Clients.evict()
	if res, err := c.log.Save(c.st, pr, err); res != nil || err != nil {
		return res, err
	}
	if c.between != nil {
		r.absorb(c.between)
		c.between = nil
	}
	res := &sdk.Result{}
	if c.src != nil {
		c.lookup = &appLookup{src: *c.src}
		defer func() { c.lookup.close(); c.lookup = nil }()
	}
	c.report(ctx, res, r, pr, now)
	return res, nil
}

// load reads the saved state on first use.
func (c *checker) load() error {
	if c.st != nil {
		return nil
	}
	st := newState()
	if err := c.log.Load(st); err != nil {
		return err
	}
	st.init()
	c.st = st
	return nil
}

// Follow reads the access log between runs (`follow: true`, the default):
// every request the moment its line is complete, counted exactly once in
// the same state as the runs, and an event (accesslog.api_failing's) sent
// at once for each failing API call (401, 403, 5xx) of a client that had
// succeeded before. The next run reports what was read in between.
func (c *checker) Follow(ctx context.Context, emit func([]sdk.Event)) error {
	if !c.cfg.Follow {
		return nil
	}
	tailfile.Follow(ctx, c.cfg.Path, c.followOnce, emit)
	return nil
}

// followOnce reads what was written since the last read and returns the
// events to send; what cannot be read is left to the next run to report.
func (c *checker) followOnce(ctx context.Context) []sdk.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.load() != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, tailfile.FollowReadTimeout)
	defer cancel()
	c.st.maxSlots = c.cfg.MaxClients
	r := newRun(&c.cfg, c.st)
	r.following = true
	pr, err := c.log.Poll(ctx, c.st, &c.st.Totals.Counters, r)
	r.addTo(c.st)
	if _, err := c.log.Save(c.st, pr, err); err != nil {
		sdk.Logger().Warn("following the access log", "err", err)
	}
	if c.between == nil {
		c.between = newRun(&c.cfg, c.st)
	}
	c.between.absorb(r)
	return r.events
}

// maxFollowEvents bounds the events of one read while following; the
// counts always include every request.
const maxFollowEvents = 100

// run collects what one check run read. Requests are counted in arrays
// and folded into the saved maps at the end, so the per-line work does not
// allocate.
type run struct {
	path      string
	format    format
	max       int
	threshold int
	tokenWin  int64
	window    int64
	st        *state
	req       request

	lines     uint64
	api       uint64
	unparsed  uint64
	reason    string // why the first unparsed line of the run was not read
	requests  [numEndpoints][600]uint64
	failed    map[failKey]uint64
	slotsFull bool
	// following collects events of failing API calls (Follow only: a
	// run reports them as diagnoses).
	following bool
	events    []sdk.Event
}

// absorb adds what o read (already in the state, its events already sent)
// to what r reports.
func (r *run) absorb(o *run) {
	if r.unparsed == 0 && o.unparsed > 0 {
		r.reason = o.reason
	}
	r.lines += o.lines
	r.api += o.api
	r.unparsed += o.unparsed
}

type failKey struct {
	ep     endpoint
	status int
	client string
}

func newRun(cfg *config, st *state) *run {
	return &run{path: cfg.Path, format: cfg.format(), max: cfg.MaxLineBytes, threshold: cfg.TokenFailureThreshold, tokenWin: int64(cfg.TokenFailureWindow / time.Second),
		window: int64(cfg.Window / time.Second), st: st, failed: map[failKey]uint64{}}
}

func (r *run) Lines(buf []byte) {
	for len(buf) > 0 {
		i := bytes.IndexByte(buf, '\n')
		r.line(buf[:i], len(buf[:i]) > r.max)
		buf = buf[i+1:]
	}
}

func (r *run) Line(l []byte, oversized bool) { r.line(l, oversized) }

func (r *run) line(l []byte, oversized bool) {
	r.lines++
	if len(l) > 0 && l[len(l)-1] == '\r' {
		l = l[:len(l)-1]
	}
	if oversized || len(l) > r.max {
		r.bad("longer than max_line_bytes")
		return
	}
	if reason := parseLine(l, r.format, &r.req); reason != "" {
		r.bad(reason)
		return
	}
	ep := classify(r.req.target)
	r.requests[ep][r.req.status]++
	if !ep.api() {
		return
	}
	r.api++
	r.observe(ep)
}

func (r *run) bad(reason string) {
	if r.unparsed == 0 {
		r.reason = reason
	}
	r.unparsed++
}

// observe follows an API request's client: its streak on the endpoint,
// its token failures, and the failed-requests series.
func (r *run) observe(ep endpoint) {
	q := &r.req
	ct := r.st.Clients[string(q.client)] // no allocation for the lookup
	if ct == nil {
		label := clientLabel(q.client)
		if ct = r.st.Clients[label]; ct == nil {
			ct = &clientTrack{}
			r.st.Clients[label] = ct
		}
	}
	if ct.addr == "" { // new, or loaded from the saved state
		ct.addr = clientLabel(q.client)
	}
	ct.SeenAt = q.time
	if q.status < 400 && ct.FirstOK == 0 {
		ct.FirstOK = q.time
	}
	s := ct.streak(ep)
	s.observe(q, ep, r.threshold, r.tokenWin)
	if id := clientIDOf(q.target); id != "" {
		s.ClientID = id
	}
	if (ep == epGQL || ep == epREST) && q.status >= 500 {
		e := r.st.Errors5xx[ep.String()]
		if e == nil {
			e = &episode{}
			r.st.Errors5xx[ep.String()] = e
		}
		e.observe(ct.addr, q.time, r.window)
	}
	if q.status >= 400 {
		r.failed[failKey{ep, q.status, r.st.slotFor(ct.addr, q.time)}]++
	}
	if r.following && (q.status == 401 || q.status == 403 || q.status >= 500) && ct.FirstOK != 0 && ct.FirstOK <= q.time {
		r.failingCall(ep, ct.addr)
	}
}

// failingCall records the event of a failing API call while following.
// The path is shown without its query string, which may hold credentials.
func (r *run) failingCall(ep endpoint, client string) {
	if len(r.events) >= maxFollowEvents {
		return
	}
	q := &r.req
	path, _, _ := bytes.Cut(q.target, []byte("?"))
	if len(path) > 256 {
		path = path[:256]
	}
	r.events = append(r.events, sdk.Event{Name: "api_failing", Severity: sdk.SeverityCritical,
		Message: fmt.Sprintf("FreePBX API call from %s failed: %s %s answered %d.", client, clientLabel(q.method), clientLabel(path), q.status),
		Time:    time.Unix(q.time, 0),
		Labels:  map[string]string{"client": client, "endpoint": ep.String(), "status": strconv.Itoa(q.status), "file": r.path}})
}

// slotFor returns the client label of a failed request: the client's own
// address while there is a slot for it, "other" beyond max_clients.
func (st *state) slotFor(client string, t int64) string {
	slots := st.Totals.Slots
	if _, ok := slots[client]; ok || len(slots) < st.maxSlots {
		slots[client] = t
		return client
	}
	return "other"
}

// expireSlots folds the failed series of clients idle for slotIdle into
// client="other", freeing their slots.
func (st *state) expireSlots(now time.Time) {
	cutoff := now.Add(-slotIdle).Unix()
	for client, last := range st.Totals.Slots {
		if last >= cutoff {
			continue
		}
		for k, v := range st.Totals.Failed {
			if ep, status, cl, ok := splitFailKey(k); ok && cl == client {
				st.Totals.Failed[ep+" "+status+" other"] += v
				delete(st.Totals.Failed, k)
			}
		}
		delete(st.Totals.Slots, client)
	}
}

func splitFailKey(k string) (ep, status, client string, ok bool) {
	f := strings.SplitN(k, " ", 3)
	if len(f) != 3 {
		return "", "", "", false
	}
	return f[0], f[1], f[2], true
}

// addTo folds the run's counts into the saved totals.
func (r *run) addTo(st *state) {
	for ep := range r.requests {
		for status, n := range r.requests[ep] {
			if n > 0 {
				st.Totals.Requests[endpoint(ep).String()+" "+statusLabel(endpoint(ep), status)] += n
			}
		}
	}
	for k, n := range r.failed {
		st.Totals.Failed[k.ep.String()+" "+strconv.Itoa(k.status)+" "+k.client] += n
	}
	st.Totals.Unparsed += r.unparsed
}

// statusLabel is the exact code on the API endpoints (401 and 403 mean
// different things there) and the class (2xx..5xx) for the rest of the
// site, whose many pages and assets would otherwise multiply series.
func statusLabel(ep endpoint, status int) string {
	if ep.api() {
		return strconv.Itoa(status)
	}
	return strconv.Itoa(status/100) + "xx"
}

// clientLabel makes a logged client address safe as a label value: valid
// UTF-8, at most 64 bytes (an address is at most 45).
func clientLabel(b []byte) string {
	if len(b) > 64 {
		b = b[:64]
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// clientIDOf returns the OAuth client_id in a request target's query
// string (the authorize endpoint's GET carries it; token requests carry it
// in the POST body or Basic header, which no access log shows), or "".
func clientIDOf(target []byte) string {
	q := bytes.IndexByte(target, '?')
	if q < 0 {
		return ""
	}
	for rest := target[q+1:]; len(rest) > 0; {
		kv := rest
		if amp := bytes.IndexByte(rest, '&'); amp >= 0 {
			kv, rest = rest[:amp], rest[amp+1:]
		} else {
			rest = nil
		}
		v, ok := bytes.CutPrefix(kv, []byte("client_id="))
		if !ok || len(v) == 0 || len(v) > 128 {
			continue
		}
		for _, c := range v {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '.') {
				return ""
			}
		}
		return string(v)
	}
	return ""
}
