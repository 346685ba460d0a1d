package logtail

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/tailfile"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// maxEventsPerRun bounds the events one run sends: a flood of matches
// still counts in full in the metrics and the diagnosis.
const maxEventsPerRun = 100

type checker struct {
	mu      sync.Mutex
	cfg     config
	matcher *matcher
	log     *tailfile.Session
	// st is the state, loaded on the first run and kept in memory; the
	// saved copy only matters after a restart.
	st *state
	// between is what following read since the last run: in the totals
	// and its events sent, still to be reported by the next run.
	between *run
}

// The codes of the diagnoses of the file itself (made by tailfile).
const (
	codeFileMissing      = "logtail.file_missing"
	codePermission       = "logtail.permission_denied"
	codeStateCorrupt     = "logtail.state_corrupt"
	codeNotRegular       = "logtail.not_a_regular_file"
	codeSymlinkRefused   = "logtail.symlink_refused"
	codePreviousLost     = "logtail.previous_file_lost"
	codeBehind           = "logtail.behind"
	codeUnterminatedLine = "logtail.unterminated_line"
)

var codes = tailfile.Codes{FileMissing: codeFileMissing, PermissionDenied: codePermission, StateCorrupt: codeStateCorrupt,
	NotARegularFile: codeNotRegular, SymlinkRefused: codeSymlinkRefused, PreviousFileLost: codePreviousLost,
	Behind: codeBehind, UnterminatedLine: codeUnterminatedLine}

// plugin is how logtail names its diagnoses of the file.
var plugin = tailfile.Plugin{Name: "logtail", Codes: codes, Unit: "lines",
	Where: "FreePBX writes /var/log/asterisk/freepbx.log", FollowSymlinksKey: true}

func (c *checker) Configure(_ context.Context, cfg *sdk.Config) error {
	if err := cfg.Decode(&c.cfg); err != nil {
		return err
	}
	m, err := newMatcher(c.cfg.Patterns)
	if err != nil {
		return err
	}
	c.matcher = m
	c.log = tailfile.NewSession(plugin, tailfile.SessionConfig{Path: c.cfg.Path, StartAt: c.cfg.StartAt,
		StateDir: cfg.StateDir, MaxLineBytes: c.cfg.MaxLineBytes, FollowSymlinks: c.cfg.FollowSymlinks,
		Version: stateVersion}, sdk.Logger())
	return nil
}

func (c *checker) Check(ctx context.Context) (*sdk.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.load(); err != nil {
		return c.log.StateCorrupt(err), nil
	}
	r := newRun(&c.cfg, c.matcher)
	pr, err := c.log.Poll(ctx, c.st, &c.st.Totals.Counters, r)
	// Lines read before an error are counted and saved with their offset.
	r.addTo(&c.st.Totals)
	if res, err := c.log.Save(c.st, pr, err); res != nil || err != nil {
		return res, err
	}
	if c.between != nil {
		r.absorb(c.between)
		c.between = nil
	}
	res := &sdk.Result{}
	c.report(res, r, pr)
	return res, nil
}

// load reads the saved state on first use.
func (c *checker) load() error {
	if c.st != nil {
		return nil
	}
	st := &state{}
	if err := c.log.Load(st); err != nil {
		return err
	}
	st.Totals.init()
	c.st = st
	return nil
}

// Follow reads the log between runs (`follow: true`, the default): every
// line the moment it is complete, counted exactly once in the same totals
// and saved position as the runs, each matched line of an `event: true`
// pattern sent at once. The next run reports what was read in between.
func (c *checker) Follow(ctx context.Context, emit func([]sdk.Event)) error {
	if !c.cfg.Follow {
		return nil
	}
	tailfile.Follow(ctx, c.cfg.Path, c.followOnce, emit)
	return nil
}

// followOnce reads what was written since the last read and returns the
// events to send. A state that cannot be read, a refused or unreadable
// file are left to the next run to report.
func (c *checker) followOnce(ctx context.Context) []sdk.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.load() != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, tailfile.FollowReadTimeout)
	defer cancel()
	r := newRun(&c.cfg, c.matcher)
	pr, err := c.log.Poll(ctx, c.st, &c.st.Totals.Counters, r)
	r.addTo(&c.st.Totals)
	if res, err := c.log.Save(c.st, pr, err); res != nil || err != nil {
		if err != nil {
			sdk.Logger().Warn("following the log", "err", err)
		}
	}
	if c.between == nil {
		c.between = newRun(&c.cfg, c.matcher)
	}
	c.between.absorb(r)
	for i := range r.events {
		r.events[i].Labels["file"] = c.cfg.Path
	}
	return r.events
}

// run collects what one check run read.
type run struct {
	format  format
	max     int
	matcher *matcher
	pats    []patternConfig
	found   matchFunc

	levels    [numLevels]uint64
	oversized uint64
	matches   []patternRun
	events    []sdk.Event
	dropped   int
	now       time.Time
}

type patternRun struct {
	count  uint64
	sample string
}

func newRun(cfg *config, m *matcher) *run {
	r := &run{format: cfg.format(), max: cfg.MaxLineBytes, matcher: m, pats: cfg.Patterns,
		matches: make([]patternRun, len(cfg.Patterns)), now: time.Now()}
	r.found = r.match
	return r
}

func (r *run) Lines(buf []byte) {
	// Counted in locals, not through r: this loop runs once per line.
	var levels [numLevels]uint64
	var oversized uint64
	for rest := buf; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		line := rest[:i]
		rest = rest[i+1:]
		if len(line) > r.max {
			oversized++
			line = line[:r.max]
		}
		lv, _ := parseLine(line, r.format)
		levels[lv]++
	}
	for lv, n := range levels {
		r.levels[lv] += n
	}
	r.oversized += oversized
	r.matcher.scan(buf, r.max, r.found)
}

func (r *run) Line(l []byte, oversized bool) {
	if len(l) > r.max {
		l, oversized = l[:r.max], true
	}
	if oversized {
		r.oversized++
	}
	lv, _ := parseLine(l, r.format)
	r.levels[lv]++
	r.matcher.matchLine(l, r.found)
}

func (r *run) match(i int, line []byte) {
	m := &r.matches[i]
	m.count++
	p := &r.pats[i]
	if m.sample == "" {
		m.sample = redact(line)
	}
	if !p.Event {
		return
	}
	if len(r.events) >= maxEventsPerRun {
		r.dropped++
		return
	}
	lv, _ := parseLine(line, r.format)
	r.events = append(r.events, sdk.Event{
		Name: p.Name, Severity: sdk.Severity(p.Severity), Message: redact(line), Time: r.now,
		Labels: map[string]string{"pattern": p.Name, "level": lv.String()},
	})
}

// absorb adds what o read (already in the totals, its events already
// sent) to what r reports.
func (r *run) absorb(o *run) {
	for lv, n := range o.levels {
		r.levels[lv] += n
	}
	r.oversized += o.oversized
	for i, m := range o.matches {
		r.matches[i].count += m.count
		if r.matches[i].sample == "" {
			r.matches[i].sample = m.sample
		}
	}
	r.dropped += o.dropped
}

func (r *run) lineCount() uint64 {
	var n uint64
	for _, c := range r.levels {
		n += c
	}
	return n
}

// addTo adds the run's counts to the cumulative totals.
func (r *run) addTo(t *totals) {
	for lv, n := range r.levels {
		if n > 0 {
			t.Lines[level(lv).String()] += n
		}
	}
	for i, m := range r.matches {
		if m.count > 0 {
			t.Matches[r.pats[i].Name] += m.count
		}
	}
	t.Oversized += r.oversized
}

// report fills the result: metrics always, diagnoses for what needs a
// person, events for matched lines.
func (c *checker) report(res *sdk.Result, r *run, pr tailfile.Result) {
	path := c.cfg.Path
	c.addMetrics(res, pr)
	for i := range r.events {
		r.events[i].Labels["file"] = path
	}
	res.Events = r.events
	switch {
	case pr.Denied != nil:
		res.Summary = "cannot read " + path + ": permission denied"
		res.Diagnose(c.log.PermissionDenied(pr.Denied, "FreePBX logs belong to group asterisk.", permissionSteps(path), false))
		return
	case pr.Missing:
		res.Summary = path + " does not exist"
		res.Diagnose(c.log.FileMissing(missingSteps))
	}
	matched := c.diagnoseMatches(res, r)
	c.log.PreviousFileLost(res, pr, "Prefer logrotate's create (rename) over copytruncate, and keep at least one uncompressed rotated file (delaycompress), so the rest of a rotated file can be read.")
	c.log.Behind(res, pr, pr.Size-c.log.Offset(c.st, pr))
	growing := c.log.Unterminated(res, pr)
	if res.Summary == "" {
		res.Summary = fmt.Sprintf("%d new lines in %s", r.lineCount(), path)
		if matched != "" {
			res.Summary += "; matched " + matched
		}
		if growing != "" {
			res.Summary += "; " + growing
		}
	}
}

// diagnoseMatches adds one diagnosis per warning or critical pattern that
// matched, and returns "name=count, ..." for the summary.
func (c *checker) diagnoseMatches(res *sdk.Result, r *run) string {
	var parts []string
	for i, m := range r.matches {
		if m.count == 0 {
			continue
		}
		p := &r.pats[i]
		parts = append(parts, fmt.Sprintf("%s=%d", p.Name, m.count))
		if p.Severity == "info" {
			continue
		}
		d := sdk.Diagnosis{
			Code: "logtail.pattern_matched", Severity: sdk.Severity(p.Severity),
			Message:     fmt.Sprintf("%d line(s) of %s matched pattern %s since the last run.", m.count, c.cfg.Path, p.Name),
			Remediation: p.Remediation,
			LogEvent:    p.Name,
			Details: map[string]string{"file": c.cfg.Path, "pattern": p.Name, "regex": p.Regex,
				"count": strconv.FormatUint(m.count, 10), "sample": m.sample},
		}
		if r.dropped > 0 {
			d.Details["events_dropped"] = strconv.Itoa(r.dropped)
		}
		res.Diagnose(d)
	}
	// Most severe first, so the first diagnosis explains the status.
	sort.SliceStable(res.Diagnoses, func(i, j int) bool {
		return res.Diagnoses[i].Severity == sdk.SeverityCritical && res.Diagnoses[j].Severity != sdk.SeverityCritical
	})
	return strings.Join(parts, ", ")
}

func (c *checker) addMetrics(res *sdk.Result, pr tailfile.Result) {
	path := c.cfg.Path
	t := &c.st.Totals
	file := map[string]string{"file": path}
	levels := make([]string, 0, len(t.Lines))
	for lv := range t.Lines {
		levels = append(levels, lv)
	}
	sort.Strings(levels)
	for _, lv := range levels {
		res.AddCounter("logtail_lines_total", "Complete lines read, by log level (unknown when the line has none).", float64(t.Lines[lv]), map[string]string{"file": path, "level": lv})
	}
	for _, p := range c.cfg.Patterns {
		res.AddCounter("logtail_pattern_matches_total", "Lines that matched a pattern.", float64(t.Matches[p.Name]), map[string]string{"file": path, "pattern": p.Name})
	}
	res.AddCounter("logtail_read_bytes_total", "Bytes of complete lines read.", float64(t.ReadBytes), file)
	res.AddCounter("logtail_rotations_total", "Rotated files read to their end and left behind (rename or copytruncate).", float64(t.Rotations), file)
	res.AddCounter("logtail_truncations_total", "Times the file was found truncated (copytruncate or by hand).", float64(t.Truncations), file)
	res.AddCounter("logtail_oversized_lines_total", "Lines longer than max_line_bytes, counted once and cut.", float64(t.Oversized), file)
	if !pr.Missing {
		res.AddGauge("logtail_file_size_bytes", "Size of the log file.", float64(pr.Size), file)
		res.AddGauge("logtail_offset_bytes", "Offset read up to in the log file; size minus offset is the lag.", float64(c.log.Offset(c.st, pr)), file)
	}
}

// missingSteps say where FreePBX writes its log and why it may not.
var missingSteps = []string{
	"Check the path: FreePBX writes to the Advanced Setting FPBX_LOG_FILE (default /var/log/asterisk/freepbx.log).",
	"FreePBX writes the file only when AMPSYSLOGLEVEL is FILE (LOG_* values send to syslog) and AMPDISABLELOG is off: `fwconsole setting AMPSYSLOGLEVEL` shows it.",
	"Right after a rotation without `create` the file appears with the next log line; if this persists, nothing is being logged.",
}

// permissionSteps give the service user read access the FreePBX way:
// group asterisk.
func permissionSteps(path string) []string {
	return []string{
		"Add the service user to group asterisk: `usermod -aG asterisk pbxwatch`, then `systemctl restart pbxwatch` (group membership is read at process start).",
		"Make the file and /var/log/asterisk group-readable: `chmod g+r " + path + "` and `chmod g+rx /var/log/asterisk`.",
		"Keep it so after rotation: in /etc/logrotate.d/asterisk use `create 0640 asterisk asterisk` (the Asterisk template's `create 640 root root` locks the group out).",
	}
}
