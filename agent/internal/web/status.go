package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/version"

	"github.com/pbxwatch/pbxwatch/agent/internal/alerting"
	"github.com/pbxwatch/pbxwatch/agent/internal/daemon"
	"github.com/pbxwatch/pbxwatch/agent/internal/fleet"
	"github.com/pbxwatch/pbxwatch/agent/internal/remotewrite"
	"github.com/pbxwatch/pbxwatch/agent/internal/report"
	"github.com/pbxwatch/pbxwatch/sdk"
)

//go:embed ui/status.html ui/fleet.html ui/static
var ui embed.FS

// statusCSS is inlined into every page. A string rather than a file
// read from ui at start: its bytes stay in the binary's read-only data
// instead of being copied into the heap of every process (see
// pageTemplates).
//
//go:embed ui/status.css
var statusCSS string

var pageCSS = template.CSS(statusCSS) //nolint:gosec // our own embedded file

// refreshSeconds is how often the status pages reload themselves.
const refreshSeconds = 10

// pageTemplates are the status and fleet pages, parsed on the first page
// served. Every process of the multi-call binary runs this package's
// initialisers, the bundled plugins too, and the parsed templates are
// ~100 KB of heap a plugin never uses (docs/design.md, "Package
// initialisers run in every process"). They are our own embedded files, so
// a parse error is a bug the tests catch, not a configuration error.
var pageTemplates = sync.OnceValue(parsePageTemplates)

func parsePageTemplates() *template.Template {
	return template.Must(template.New("").Funcs(template.FuncMap{
		"ts":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
		"ago":   func(t time.Time) string { return roughly(time.Since(t)) + " ago" },
		"until": func(t time.Time) string { return "in " + roughly(time.Until(t)) },
		"dur":   func(d time.Duration) string { return d.Round(time.Millisecond).String() },
		// The fleet page's.
		"tsp":     func(t *time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
		"ago_d":   func(d fleet.Duration) string { return fleet.Ago(time.Duration(d)) },
		"since_d": func(now time.Time, t *time.Time) string { return fleet.Ago(now.Sub(*t)) + " ago" },
		"since_m": func(now time.Time, t *time.Time) string { return fleet.SinceAgo(now.Sub(*t)) + " ago" },
		"look": func(status string) countView {
			l := statusLooks[status]
			return countView{Status: status, Class: l[0], Icon: l[1]}
		},
		"hostlook": hostLook,
		"shared": func(v *fleet.View, code string, h fleet.Host) int {
			if h.Silent {
				return 0
			}
			return v.SharedWith(code)
		},
	}).ParseFS(ui, "ui/status.html", "ui/fleet.html"))
}

func roughly(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return d.Round(time.Minute).String()
	default:
		return d.Round(time.Hour).String()
	}
}

// statusSource is what the status pages read: the daemon's results and
// the alerts the agent holds (nil before the first config load).
type statusSource struct {
	d           Checks
	alerts      func() Alerts
	remoteWrite func() []remotewrite.Status
	fleet       func() Fleet // nil result: no fleet: block
	prefix      string       // route prefix, ending in /
	log         *slog.Logger
}

// statusRank orders checks for people: the worst first. UNKNOWN ranks
// between CRITICAL and WARNING, as when statuses combine.
func statusRank(lr daemon.LastRun) int {
	if lr.Result == nil {
		return 3
	}
	switch lr.Result.Status {
	case sdk.StatusCritical:
		return 0
	case sdk.StatusUnknown:
		return 1
	case sdk.StatusWarning:
		return 2
	}
	return 4
}

type kv struct{ K, V string }

type diagView struct {
	Code, Severity, Class, Icon, Message string
	Details                              []kv
	Remediation                          []string
}

type checkView struct {
	Prefix, Name, Plugin, Schedule string
	Status, Class, Icon, Summary   string
	LastRun, NextRun               time.Time
	Duration                       time.Duration
	Diagnoses                      []diagView
	History                        daemon.History
	Alerts                         []alerting.HeldAlert
	// Events are the check's log event alerts still firing: a log check
	// whose last run found nothing new may hold them from earlier lines.
	Events []alerting.HeldAlert
}

// heldEvents tells whether a check looks OK but holds firing log events,
// which the summary must not count as plainly OK.
func (v checkView) heldEvents() bool { return v.Status == "OK" && len(v.Events) > 0 }

// viewRank orders the index like statusRank, an OK check holding log
// events just after the warnings.
func viewRank(v checkView) int {
	switch v.Status {
	case "CRITICAL":
		return 0
	case "UNKNOWN":
		return 1
	case "WARNING":
		return 2
	case "OK":
		if v.heldEvents() {
			return 3
		}
		return 5
	}
	return 4
}

type countView struct {
	Status, Class, Icon string
	N                   int
}

type pageView struct {
	Title, Host, Version, Prefix string
	CSS                          template.CSS
	Refresh, HistoryRuns         int
	Now                          time.Time
	Total                        int
	Counts                       []countView
	AlertingOK                   bool
	AlertingText                 string
	RemoteWrite                  []remotewrite.Status
	Fleet                        bool // the fleet page is configured
	Checks                       []checkView
	Check                        *checkView
}

// logEventsCount is the summary's count of OK checks holding firing log
// events.
const logEventsCount = "OK, LOG EVENTS FIRING"

var statusLooks = map[string][2]string{ // status -> class, icon
	logEventsCount: {"warning", "▲"},
	"OK":           {"ok", "✔"}, "WARNING": {"warning", "▲"}, "CRITICAL": {"critical", "✖"}, "UNKNOWN": {"unknown", "?"}, "NOT RUN YET": {"pending", "…"},
}

func severityLook(s sdk.Severity) (class, icon string) {
	switch s {
	case sdk.SeverityCritical:
		return "critical", "✖"
	case sdk.SeverityWarning:
		return "warning", "▲"
	}
	return "ok", "i"
}

func (s *statusSource) view(lr daemon.LastRun, withAlerts bool) checkView {
	v := checkView{Prefix: s.prefix, Name: lr.Check.Name, Plugin: lr.Check.Plugin, Schedule: lr.Check.Schedule,
		NextRun: lr.Next, History: lr.History, Status: "NOT RUN YET", Summary: "The check has not finished a run yet."}
	if lr.Result != nil {
		v.Status, v.Summary, v.LastRun, v.Duration = lr.Result.Status.String(), lr.Result.Summary, lr.At, lr.Duration.Round(time.Millisecond)
		for _, d := range lr.Result.Diagnoses {
			dv := diagView{Code: d.Code, Severity: strings.ToUpper(string(d.Severity)), Message: d.Message, Remediation: d.Remediation}
			dv.Class, dv.Icon = severityLook(d.Severity)
			keys := make([]string, 0, len(d.Details))
			for k := range d.Details {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				dv.Details = append(dv.Details, kv{k, d.Details[k]})
			}
			v.Diagnoses = append(v.Diagnoses, dv)
		}
	}
	look := statusLooks[v.Status]
	v.Class, v.Icon = look[0], look[1]
	if m := s.alerts(); m != nil {
		held := m.Held(lr.Check.Name)
		v.Events = alerting.FiringLogEvents(held)
		if withAlerts {
			v.Alerts = held
		}
	}
	return v
}

func (s *statusSource) sorted() []daemon.LastRun {
	runs := s.d.LastRuns()
	sort.SliceStable(runs, func(i, j int) bool { return statusRank(runs[i]) < statusRank(runs[j]) })
	return runs
}

func (s *statusSource) page(title string) pageView {
	host, _ := os.Hostname()
	return pageView{Title: title, Host: host, Version: version.Version, Prefix: s.prefix, CSS: pageCSS,
		Refresh: refreshSeconds, HistoryRuns: 20, Now: time.Now(), Fleet: s.fleet() != nil}
}

// alertingSummary says whether alerts reach Alertmanager.
func (s *statusSource) alertingSummary() (ok bool, text string) {
	m := s.alerts()
	if m == nil {
		return true, "Alerts: not configured (no alerting: block)"
	}
	ds := m.Deliveries()
	if len(ds) == 0 {
		return true, "Alerts: not configured (no alerting: block)"
	}
	var bad []string
	for _, d := range ds {
		if !d.OK() {
			bad = append(bad, fmt.Sprintf("%s: %s", d.URL, d.LastError))
		}
	}
	if len(bad) > 0 {
		return false, "Alerts NOT reaching Alertmanager — " + strings.Join(bad, "; ")
	}
	return true, fmt.Sprintf("Alerts: reaching %d Alertmanager(s)", len(ds))
}

func (s *statusSource) serveIndex(w http.ResponseWriter, r *http.Request) {
	pv := s.page("pbxwatch status")
	counts := map[string]int{}
	for _, lr := range s.sorted() {
		v := s.view(lr, false)
		if v.heldEvents() {
			counts[logEventsCount]++
		} else {
			counts[v.Status]++
		}
		pv.Checks = append(pv.Checks, v)
	}
	sort.SliceStable(pv.Checks, func(i, j int) bool { return viewRank(pv.Checks[i]) < viewRank(pv.Checks[j]) })
	pv.Total = len(pv.Checks)
	for _, st := range []string{"CRITICAL", "UNKNOWN", "WARNING", logEventsCount, "OK"} {
		if st == logEventsCount && counts[st] == 0 {
			continue
		}
		pv.Counts = append(pv.Counts, countView{Status: st, Class: statusLooks[st][0], Icon: statusLooks[st][1], N: counts[st]})
	}
	if n := counts["NOT RUN YET"]; n > 0 {
		pv.Counts = append(pv.Counts, countView{Status: "NOT RUN YET", Class: "pending", Icon: "…", N: n})
	}
	pv.AlertingOK, pv.AlertingText = s.alertingSummary()
	if s.remoteWrite != nil {
		pv.RemoteWrite = s.remoteWrite()
	}
	s.render(w, "index", pv)
}

func (s *statusSource) find(name string) (daemon.LastRun, bool) {
	for _, lr := range s.d.LastRuns() {
		if lr.Check.Name == name {
			return lr, true
		}
	}
	return daemon.LastRun{}, false
}

func (s *statusSource) serveCheck(w http.ResponseWriter, r *http.Request) {
	lr, ok := s.find(r.PathValue("name"))
	if !ok {
		http.Error(w, "No such check.", http.StatusNotFound)
		return
	}
	pv := s.page(lr.Check.Name + " — pbxwatch")
	v := s.view(lr, true)
	pv.Check = &v
	s.render(w, "checkpage", pv)
}

func (s *statusSource) render(w http.ResponseWriter, name string, pv pageView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTemplates().ExecuteTemplate(w, name, pv); err != nil {
		s.log.Error("status page", "err", err)
	}
}

// apiCheck is one check in /api/v1/checks: `pbxwatch check --output=json`
// plus when it ran, when it runs next, its history and its alerts.
type apiCheck struct {
	report.JSONRun
	LastRun *time.Time           `json:"last_run"`
	NextRun *time.Time           `json:"next_run"`
	History daemon.History       `json:"history"`
	Alerts  []alerting.HeldAlert `json:"alerts"`
}

func (s *statusSource) api(lr daemon.LastRun) apiCheck {
	res := lr.Result
	if res == nil {
		res = &sdk.Result{Status: sdk.StatusUnknown, Summary: "not run yet"}
	}
	out := apiCheck{JSONRun: report.NewJSON(report.Run{Check: lr.Check.Name, Plugin: lr.Check.Plugin, Result: res, Duration: lr.Duration}),
		History: lr.History, Alerts: []alerting.HeldAlert{}}
	if !lr.At.IsZero() {
		t := lr.At.UTC()
		out.LastRun = &t
	}
	if !lr.Next.IsZero() {
		t := lr.Next.UTC()
		out.NextRun = &t
	}
	if m := s.alerts(); m != nil {
		if held := m.Held(lr.Check.Name); held != nil {
			out.Alerts = held
		}
	}
	return out
}

func (s *statusSource) serveAPIList(w http.ResponseWriter, _ *http.Request) {
	out := []apiCheck{}
	for _, lr := range s.sorted() {
		out = append(out, s.api(lr))
	}
	writeJSON(w, out)
}

func (s *statusSource) serveAPICheck(w http.ResponseWriter, r *http.Request) {
	lr, ok := s.find(r.PathValue("name"))
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"no such check"}` + "\n"))
		return
	}
	writeJSON(w, s.api(lr))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// register adds the status pages to mux.
func (s *statusSource) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.serveIndex)
	mux.HandleFunc("GET /checks/{name}", s.serveCheck)
	mux.HandleFunc("GET /api/v1/checks", s.serveAPIList)
	mux.HandleFunc("GET /api/v1/checks/{name}", s.serveAPICheck)
	mux.HandleFunc("GET /fleet", s.serveFleet)
	mux.HandleFunc("GET /api/v1/fleet", s.serveFleetAPI)
	mux.Handle("GET /static/", staticFiles())
}
