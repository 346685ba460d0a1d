package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/user"
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
	mu       sync.Mutex
	cfg      config
	stateDir string
	matcher  *matcher
	tailer   *tailfile.Tailer
	// st is the state, loaded on the first run and kept in memory; the
	// saved copy only matters after a restart.
	st    *state
	fresh bool
}

func (c *checker) Configure(_ context.Context, cfg *sdk.Config) error {
	if err := cfg.Decode(&c.cfg); err != nil {
		return err
	}
	m, err := newMatcher(c.cfg.Patterns)
	if err != nil {
		return err
	}
	c.matcher, c.stateDir = m, cfg.StateDir
	c.tailer = tailfile.New(c.cfg.Path, c.cfg.StartAt, c.cfg.MaxLineBytes, sdk.Logger())
	c.tailer.FollowSymlinksOut(c.cfg.FollowSymlinks)
	return nil
}

func (c *checker) Check(ctx context.Context) (*sdk.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	file := tailfile.StateFile(c.stateDir, c.cfg.Path)
	if c.st == nil {
		st, err := loadState(file)
		if err != nil {
			return stateCorrupt(file, err), nil
		}
		if st == nil {
			st = &state{Version: stateVersion, Path: c.cfg.Path}
			st.Totals.init()
			c.fresh = true
		}
		c.st = st
	}
	r := newRun(&c.cfg, c.matcher)
	pr, err := c.tailer.Poll(&c.st.Position, &c.st.Totals.Counters, c.fresh, r, tailfile.Stopper(ctx))
	r.addTo(&c.st.Totals)
	var refused *tailfile.RefusedError
	if errors.As(err, &refused) {
		return refusedResult(refused), nil
	}
	var perm *tailfile.PermissionError
	if err != nil && !errors.As(err, &perm) {
		// Lines read before the error are counted; save them with their
		// offset before giving up on this run.
		if serr := saveState(file, c.st); serr != nil {
			sdk.Logger().Error("saving position failed", "err", serr)
		}
		return nil, fmt.Errorf("reading %s: %w", c.cfg.Path, err)
	}
	if perm == nil {
		c.fresh = false
		if err := saveState(file, c.st); err != nil {
			return nil, fmt.Errorf("%w (state dir %s must be writable by the service user)", err, c.stateDir)
		}
	}
	res := &sdk.Result{}
	c.report(res, r, pr, perm)
	return res, nil
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
	for rest := buf; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		line := rest[:i]
		rest = rest[i+1:]
		if len(line) > r.max {
			r.oversized++
			line = line[:r.max]
		}
		lv, _ := parseLine(line, r.format)
		r.levels[lv]++
	}
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
func (c *checker) report(res *sdk.Result, r *run, pr tailfile.Result, perm *tailfile.PermissionError) {
	path := c.cfg.Path
	c.addMetrics(res, pr)
	for i := range r.events {
		r.events[i].Labels["file"] = path
	}
	res.Events = r.events
	switch {
	case perm != nil:
		res.Summary = "cannot read " + path + ": permission denied"
		res.Diagnose(permissionDenied(path, perm))
		return
	case pr.Missing:
		res.Summary = path + " does not exist"
		res.Diagnose(fileMissing(path))
	}
	matched := c.diagnoseMatches(res, r)
	for _, n := range pr.Notes {
		res.Diagnose(sdk.Diagnosis{Code: "logtail.previous_file_lost", Severity: sdk.SeverityInfo, Message: n,
			Remediation: []string{"Prefer logrotate's create (rename) over copytruncate, and keep at least one uncompressed rotated file (delaycompress), so the rest of a rotated file can be read."},
			Details:     map[string]string{"file": path}})
	}
	if pr.Stopped {
		lag := pr.Size - c.currentOffset(pr)
		res.Diagnose(sdk.Diagnosis{Code: "logtail.behind", Severity: sdk.SeverityInfo,
			Message:     fmt.Sprintf("The run ended before reaching the end of %s; the next runs read the rest (%d bytes behind).", path, lag),
			Remediation: []string{"Nothing to do if it catches up; otherwise raise the check's timeout or run it more often."},
			Details:     map[string]string{"file": path, "lag_bytes": strconv.FormatInt(lag, 10)}})
	}
	if res.Summary == "" {
		res.Summary = fmt.Sprintf("%d new lines in %s", r.lineCount(), path)
		if matched != "" {
			res.Summary += "; matched " + matched
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

func (c *checker) currentOffset(pr tailfile.Result) int64 {
	if c.st.File == nil || pr.Missing {
		return 0
	}
	return c.st.Offset
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
		res.AddGauge("logtail_offset_bytes", "Offset read up to in the log file; size minus offset is the lag.", float64(c.currentOffset(pr)), file)
	}
}

func fileMissing(path string) sdk.Diagnosis {
	return sdk.Diagnosis{
		Code: "logtail.file_missing", Severity: sdk.SeverityWarning,
		Message: fmt.Sprintf("%s does not exist.", path),
		Remediation: []string{
			"Check the path: FreePBX writes to the Advanced Setting FPBX_LOG_FILE (default /var/log/asterisk/freepbx.log).",
			"FreePBX writes the file only when AMPSYSLOGLEVEL is FILE (LOG_* values send to syslog) and AMPDISABLELOG is off: `fwconsole setting AMPSYSLOGLEVEL` shows it.",
			"Right after a rotation without `create` the file appears with the next log line; if this persists, nothing is being logged.",
		},
		Details: map[string]string{"file": path},
	}
}

// refusedResult diagnoses a log path that is not a regular file, or a
// symlink out of its directory: the run reads nothing and says what is
// there.
func refusedResult(e *tailfile.RefusedError) *sdk.Result {
	res := &sdk.Result{Summary: "refusing to read " + e.Path + ": it is " + e.What}
	d := sdk.Diagnosis{Code: "logtail.not_a_regular_file", Severity: sdk.SeverityCritical,
		Message: e.Error() + "; logtail reads regular files only (a FIFO would block every run, a device never ends).",
		Remediation: []string{
			"Point `path:` at the log file itself (FreePBX writes /var/log/asterisk/freepbx.log).",
			"If something replaced the log with " + e.What + ", find out what (`ls -l " + e.Path + "`) and restore a plain file.",
		},
		Details: map[string]string{"file": e.Path, "found": e.What}}
	if e.Symlink {
		d.Code = "logtail.symlink_refused"
		d.Message = e.Error() + "; following it would let a log path expose any file the service user can read."
		d.Remediation = []string{
			"Point `path:` at the real log file, or move the link's target into the log's directory.",
			"If the link is intended, set `follow_symlinks: true` in the check's config.",
		}
	}
	res.Diagnose(d)
	return res
}

func permissionDenied(path string, perm *tailfile.PermissionError) sdk.Diagnosis {
	details := map[string]string{"file": path, "error": perm.Error()}
	who := "the pbxwatch service user"
	if u, err := user.Current(); err == nil {
		who = fmt.Sprintf("user %s (uid %s)", u.Username, u.Uid)
		details["user"] = u.Username
	}
	if mode, owner, group, ok := tailfile.Ownership(path); ok {
		details["mode"], details["owner"], details["group"] = mode, owner, group
	}
	return sdk.Diagnosis{
		Code: "logtail.permission_denied", Severity: sdk.SeverityCritical,
		Message: fmt.Sprintf("%s cannot read %s: permission denied. FreePBX logs belong to group asterisk.", who, path),
		Remediation: []string{
			"Add the service user to group asterisk: `usermod -aG asterisk pbxwatch`, then `systemctl restart pbxwatch` (group membership is read at process start).",
			"Make the file and /var/log/asterisk group-readable: `chmod g+r " + path + "` and `chmod g+rx /var/log/asterisk`.",
			"Keep it so after rotation: in /etc/logrotate.d/asterisk use `create 0640 asterisk asterisk` (the Asterisk template's `create 640 root root` locks the group out).",
		},
		Details: details,
	}
}

func stateCorrupt(file string, err error) *sdk.Result {
	res := &sdk.Result{Summary: "cannot read the saved position " + file}
	res.Diagnose(sdk.Diagnosis{
		Code: "logtail.state_corrupt", Severity: sdk.SeverityCritical,
		Message: fmt.Sprintf("The saved position %s cannot be read (%v); reading is paused rather than guessing, which would count lines twice or skip them.", file, err),
		Remediation: []string{
			"Look at the file; if it cannot be repaired, delete it: the next run starts the log afresh (at start_at) and the counters restart from zero.",
		},
		Details: map[string]string{"state_file": file},
	})
	return res
}
