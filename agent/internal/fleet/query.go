package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// Defaults of a Source.
const (
	// DefaultWindow is how far back hosts are looked for: a host that
	// reported during the last day and not since is silent, not forgotten.
	DefaultWindow = 24 * time.Hour
	// DefaultSilentAfter matches the PbxwatchHostSilent rule's default
	// and Prometheus's lookback delta.
	DefaultSilentAfter = 5 * time.Minute
	// step is the timeline's resolution.
	step = time.Minute
	// smear is the window each timeline point looks back over: reports
	// come at least every 5m (Prometheus's own lookback assumption), so
	// no point falls between two of them.
	smear = 5 * time.Minute
	// maxResponseBytes bounds what the engine may send for one query.
	maxResponseBytes = 64 << 20
	// maxSilentInRegex bounds the instance regexp of the silent hosts'
	// queries; with more silent hosts, those queries cover every host.
	maxSilentInRegex = 200
	// maxLabelLen bounds label values taken into the view.
	maxLabelLen = 256
)

// Source reads the fleet from an engine with Prometheus's HTTP API.
type Source struct {
	api         v1.API
	url         string
	Window      time.Duration
	SilentAfter time.Duration
}

// New returns a Source for the engine at url (its base URL, as for
// Prometheus's own web UI: http://prometheus:9090). rt may be nil.
func New(url string, rt http.RoundTripper) (*Source, error) {
	if rt == nil {
		rt = http.DefaultTransport
	}
	c, err := api.NewClient(api.Config{Address: url, RoundTripper: boundedBodies{rt}})
	if err != nil {
		return nil, fmt.Errorf("prometheus url %q: %w", url, err)
	}
	return &Source{api: v1.NewAPI(c), url: url, Window: DefaultWindow, SilentAfter: DefaultSilentAfter}, nil
}

// boundedBodies cuts every response body at maxResponseBytes, so an engine
// (or something else at that address) cannot make the agent read without
// end; the cut body then fails to decode as JSON.
type boundedBodies struct{ rt http.RoundTripper }

func (b boundedBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := b.rt.RoundTrip(r)
	if err == nil {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.LimitReader(resp.Body, maxResponseBytes), resp.Body}
	}
	return resp, err
}

// The queries. pbxwatch_check_status exists for every check of every
// agent from its first run; pbxwatch_check_diagnosis for each cause its
// last run reported.
const (
	qChecks   = `last_over_time(pbxwatch_check_status[%s])`
	qLive     = `count by (instance) (present_over_time(pbxwatch_check_status[%s]))`
	qCauses   = `pbxwatch_check_diagnosis`
	qLastSaid = `last_over_time(pbxwatch_check_diagnosis{instance=~%q}[%s])`
	qLastSeen = `max by (instance) (max_over_time(timestamp(pbxwatch_check_status{instance=~%q})[%s:%s]))`
	qLastRun  = `max by (instance) (last_over_time(pbxwatch_check_last_run_timestamp_seconds{instance=~%q}[%s]))`
	qTimeline = `max_over_time(pbxwatch_check_status[%s]) > 0`
)

// URL is the engine's base URL.
func (s *Source) URL() string { return s.url }

// View queries the engine for the fleet as of now.
func (s *Source) View(ctx context.Context, now time.Time) (*View, error) {
	now = now.Truncate(time.Second)
	window := promDuration(s.Window)
	checks, err := s.vector(ctx, fmt.Sprintf(qChecks, window), now)
	if err != nil {
		return nil, err
	}
	live, err := s.vector(ctx, fmt.Sprintf(qLive, promDuration(s.SilentAfter)), now)
	if err != nil {
		return nil, err
	}
	v := &View{At: now.UTC(), Window: Duration(s.Window)}
	hosts := map[string]*Host{}
	for _, smp := range checks {
		inst := label(smp.Metric, "instance")
		h := hosts[inst]
		if h == nil {
			h = &Host{Instance: inst, Labels: hostLabels(smp.Metric)}
			hosts[inst] = h
		}
		st := int(smp.Value)
		h.Checks = append(h.Checks, Check{Check: label(smp.Metric, "check"), Plugin: label(smp.Metric, "plugin"), Status: statusName(st), status: st})
	}
	alive := map[string]bool{}
	for _, smp := range live {
		alive[label(smp.Metric, "instance")] = true
	}
	var silent []string
	for inst, h := range hosts {
		if !alive[inst] {
			h.Silent = true
			silent = append(silent, inst)
		}
	}
	if err := s.addCauses(ctx, hosts, silent, now); err != nil {
		return nil, err
	}
	if err := s.addLastSeen(ctx, hosts, silent, now); err != nil {
		return nil, err
	}
	if err := s.addTimelines(ctx, hosts, now); err != nil {
		return nil, err
	}
	for _, h := range hosts {
		v.Hosts = append(v.Hosts, *h)
	}
	v.order()
	return v, nil
}

// addCauses sets each failing check's diagnosis codes: what it reports
// now, or for a silent host what it said last.
func (s *Source) addCauses(ctx context.Context, hosts map[string]*Host, silent []string, now time.Time) error {
	current, err := s.vector(ctx, qCauses, now)
	if err != nil {
		return err
	}
	var last model.Vector
	if len(silent) > 0 {
		if last, err = s.vector(ctx, fmt.Sprintf(qLastSaid, instanceRegexp(silent), promDuration(s.Window)), now); err != nil {
			return err
		}
	}
	codes := map[[2]string][]diag{}
	add := func(vec model.Vector, wantSilent bool) {
		for _, smp := range vec {
			inst := label(smp.Metric, "instance")
			if h := hosts[inst]; h == nil || h.Silent != wantSilent {
				continue
			}
			key := [2]string{inst, label(smp.Metric, "check")}
			codes[key] = append(codes[key], diag{label(smp.Metric, "code"), label(smp.Metric, "severity")})
		}
	}
	add(current, false)
	add(last, true)
	for inst, h := range hosts {
		for i := range h.Checks {
			c := &h.Checks[i]
			if !c.Failing() {
				continue // a cause reported by an OK check is info, or gone
			}
			c.Codes, c.Code = mainCause(codes[[2]string{inst, c.Check}])
		}
	}
	return nil
}

type diag struct{ code, severity string }

// mainCause sorts the codes, most severe first, and names the first; a
// failing check without any is pbxwatch.unknown, as in its alert.
func mainCause(ds []diag) ([]string, string) {
	sevRank := map[string]int{"critical": 0, "warning": 1}
	slices.SortFunc(ds, func(a, b diag) int {
		ra, ok := sevRank[a.severity]
		if !ok {
			ra = 2
		}
		rb, ok := sevRank[b.severity]
		if !ok {
			rb = 2
		}
		if ra != rb {
			return ra - rb
		}
		return strings.Compare(a.code, b.code)
	})
	var codes []string
	for _, d := range ds {
		if !slices.Contains(codes, d.code) {
			codes = append(codes, d.code)
		}
	}
	if len(codes) == 0 {
		return []string{sdk.CodeUndiagnosed}, sdk.CodeUndiagnosed
	}
	return codes, codes[0]
}

// addLastSeen finds when each silent host last reported: the time of its
// last sample at the subquery's resolution, or, later and finer, the time
// its last check run finished by its own clock (never after now).
func (s *Source) addLastSeen(ctx context.Context, hosts map[string]*Host, silent []string, now time.Time) error {
	if len(silent) == 0 {
		return nil
	}
	re, window := instanceRegexp(silent), promDuration(s.Window)
	for _, q := range []string{fmt.Sprintf(qLastSeen, re, window, promDuration(step)), fmt.Sprintf(qLastRun, re, window)} {
		vec, err := s.vector(ctx, q, now)
		if err != nil {
			return err
		}
		for _, smp := range vec {
			h := hosts[label(smp.Metric, "instance")]
			if h == nil || !h.Silent {
				continue
			}
			t := time.Unix(0, int64(float64(smp.Value)*1e9)).UTC().Truncate(time.Second)
			if t.After(now) || (h.LastSeen != nil && !t.After(*h.LastSeen)) {
				continue
			}
			h.LastSeen = &t
		}
	}
	return nil
}

// addTimelines draws each check's non-OK spells over the window and says
// since when each check has its current status.
func (s *Source) addTimelines(ctx context.Context, hosts map[string]*Host, now time.Time) error {
	start := now.Add(-s.Window)
	val, _, _, err := s.api.QueryRange(ctx, fmt.Sprintf(qTimeline, promDuration(smear)), v1.Range{Start: start, End: now, Step: step})
	if err != nil {
		return s.queryErr(qTimeline, err)
	}
	matrix, ok := val.(model.Matrix)
	if !ok {
		return fmt.Errorf("%s: the engine answered a %s, not a range vector", s.url, val.Type())
	}
	spells := map[[2]string][]Spell{}
	for _, ss := range matrix {
		key := [2]string{label(ss.Metric, "instance"), label(ss.Metric, "check")}
		spells[key] = append(spells[key], toSpells(ss.Values, now)...)
	}
	for inst, h := range hosts {
		for i := range h.Checks {
			c := &h.Checks[i]
			c.Timeline = spells[[2]string{inst, c.Check}]
			slices.SortFunc(c.Timeline, func(a, b Spell) int { return a.From.Compare(b.From) })
			c.Since, c.SinceBeforeWindow = since(c.Timeline, c.status, start, h.LastSeen)
		}
	}
	return nil
}

// toSpells turns timeline points (each the worst status in the smear
// before it) into spells of one status. A spell's first point is within a
// step of its real start; its last point trails its real end by the smear,
// except at the window's end, where it is still going on.
func toSpells(points []model.SamplePair, now time.Time) []Spell {
	var out []Spell
	for i, p := range points {
		t := p.Timestamp.Time().UTC()
		v := int(p.Value)
		if n := len(out); n > 0 && out[n-1].Value == v && t.Sub(points[i-1].Timestamp.Time()) <= step {
			out[n-1].To = t
			continue
		}
		sp := Spell{From: t, To: t, Status: statusName(v), Value: v}
		if n := len(out); n > 0 && t.Sub(points[i-1].Timestamp.Time()) <= step && out[n-1].Value > v {
			// The worse status before it hid this one for the smear.
			sp.From = t.Add(-smear + step)
		}
		out = append(out, sp)
	}
	for i := range out {
		sp := &out[i]
		if now.Sub(sp.To) < step {
			sp.To = now.UTC()
			continue
		}
		sp.To = sp.To.Add(-smear + step)
		if sp.To.Before(sp.From) {
			sp.To = sp.From
		}
		if i+1 < len(out) && sp.To.After(out[i+1].From) {
			sp.To = out[i+1].From
		}
	}
	return out
}

// since is when a check entered its status: the start of its last spell
// for a failing one, the end of its last spell for an OK one, nil with
// before=true when it already had the status at the window's start.
func since(timeline []Spell, status int, start time.Time, lastSeen *time.Time) (*time.Time, bool) {
	if len(timeline) == 0 {
		if status == statusOK {
			return nil, true
		}
		return nil, false // failing, yet no spell: it began in the last minute
	}
	last := timeline[len(timeline)-1]
	if status == statusOK {
		t := last.To
		return &t, false
	}
	if last.From.Sub(start) < step {
		return nil, true
	}
	t := last.From
	if lastSeen != nil && t.After(*lastSeen) {
		t = *lastSeen // a silent host's status began before it fell silent
	}
	return &t, false
}

// vector runs an instant query that must return an instant vector.
func (s *Source) vector(ctx context.Context, q string, at time.Time) (model.Vector, error) {
	val, _, _, err := s.api.Query(ctx, q, at)
	if err != nil {
		return nil, s.queryErr(q, err)
	}
	vec, ok := val.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("%s: query %s: the engine answered a %s, not an instant vector", s.url, q, val.Type())
	}
	return vec, nil
}

func (s *Source) queryErr(q string, err error) error {
	var apiErr *v1.Error
	if errors.As(err, &apiErr) {
		return fmt.Errorf("%s: query %s: the engine says: %s", s.url, q, clean(apiErr.Msg, 512))
	}
	return fmt.Errorf("%s: query %s: %s", s.url, q, clean(err.Error(), 512))
}

// promDuration writes d as PromQL does ("1d", "5m").
func promDuration(d time.Duration) string { return model.Duration(d).String() }

// instanceRegexp matches exactly the given instances (at most
// maxSilentInRegex of them, else any).
func instanceRegexp(instances []string) string {
	if len(instances) > maxSilentInRegex {
		return ".*"
	}
	quoted := make([]string, len(instances))
	for i, inst := range instances {
		quoted[i] = regexp.QuoteMeta(inst)
	}
	slices.Sort(quoted)
	return strings.Join(quoted, "|")
}

// label returns a label's value, made safe to print.
func label(m model.Metric, name model.LabelName) string {
	return clean(string(m[name]), maxLabelLen)
}

// notIdentity are the labels of a check's series that say nothing about
// which host it is.
var notIdentity = map[model.LabelName]bool{"__name__": true, "instance": true, "check": true, "plugin": true}

func hostLabels(m model.Metric) map[string]string {
	out := map[string]string{}
	for k := range m {
		if !notIdentity[k] {
			out[clean(string(k), maxLabelLen)] = label(m, k)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// clean makes text from the engine safe to put on a terminal or a page:
// valid UTF-8, no control characters, at most max bytes.
func clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
