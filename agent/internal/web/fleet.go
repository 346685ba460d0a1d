package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/pbxwatch/pbxwatch/agent/internal/fleet"
)

// Fleet is what the fleet page reads: the view of every host reporting to
// the engine `fleet.prometheus_url` names (*fleet.Source).
type Fleet interface {
	View(ctx context.Context, now time.Time) (*fleet.View, error)
	URL() string
}

const (
	// fleetRefreshSeconds: the page costs the engine a few queries, and
	// its picture moves by minutes.
	fleetRefreshSeconds = 60
	fleetQueryTimeout   = 15 * time.Second
)

type fleetPage struct {
	pageView
	Source   string
	Error    string
	View     *fleet.View
	Silent   int
	Failing  int
	OK       int
	Timeline template.JS // the timelines' data, JSON
}

type fleetHostLook struct{ Class, Icon, Status string }

// hostLook is how a host's row reads: silent is a status of its own.
func hostLook(h fleet.Host) fleetHostLook {
	if h.Silent {
		return fleetHostLook{"unknown", "‖", "SILENT"}
	}
	l := statusLooks[h.Status]
	return fleetHostLook{l[0], l[1], h.Status}
}

// timelineHost is one host's chart: its checks' non-OK spells.
type timelineHost struct {
	Instance string          `json:"instance"`
	Checks   []timelineCheck `json:"checks"`
}

type timelineCheck struct {
	Check  string        `json:"check"`
	Spells []fleet.Spell `json:"spells"`
}

// timelines keeps the hosts with a failing spell in the window: a host OK
// all day needs no chart.
func timelines(v *fleet.View) []timelineHost {
	out := []timelineHost{}
	for _, h := range v.Hosts {
		th := timelineHost{Instance: h.Instance}
		for _, c := range h.Checks {
			if len(c.Timeline) > 0 {
				th.Checks = append(th.Checks, timelineCheck{Check: c.Check, Spells: c.Timeline})
			}
		}
		if len(th.Checks) > 0 {
			out = append(out, th)
		}
	}
	return out
}

func (s *statusSource) serveFleet(w http.ResponseWriter, r *http.Request) {
	src := s.fleet()
	if src == nil {
		http.Error(w, "No fleet view: set fleet.prometheus_url in the agent's config (docs/fleet.md).", http.StatusNotFound)
		return
	}
	pv := fleetPage{pageView: s.page("fleet — pbxwatch"), Source: src.URL()}
	pv.Refresh = fleetRefreshSeconds
	ctx, cancel := context.WithTimeout(r.Context(), fleetQueryTimeout)
	defer cancel()
	v, err := src.View(ctx, time.Now())
	if err != nil {
		pv.Error = err.Error()
		w.WriteHeader(http.StatusBadGateway)
		s.renderFleet(w, pv)
		return
	}
	pv.View = v
	for _, h := range v.Hosts {
		switch {
		case h.Silent:
			pv.Silent++
		case h.Failing() > 0:
			pv.Failing++
		default:
			pv.OK++
		}
	}
	data, err := json.Marshal(map[string]any{
		"start": v.At.Add(-time.Duration(v.Window)).Unix(), "end": v.At.Unix(), "hosts": timelines(v),
	})
	if err != nil {
		pv.Error = fmt.Sprintf("encode the timelines: %v", err)
	}
	pv.Timeline = template.JS(data) //nolint:gosec // json.Marshal escapes <, > and & in strings
	s.renderFleet(w, pv)
}

func (s *statusSource) renderFleet(w http.ResponseWriter, pv fleetPage) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTemplates().ExecuteTemplate(w, "fleetpage", pv); err != nil {
		s.log.Error("fleet page", "err", err)
	}
}

func (s *statusSource) serveFleetAPI(w http.ResponseWriter, r *http.Request) {
	src := s.fleet()
	if src == nil {
		http.Error(w, `{"error":"no fleet view: set fleet.prometheus_url"}`, http.StatusNotFound)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), fleetQueryTimeout)
	defer cancel()
	v, err := src.View(ctx, time.Now())
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, v)
}

// staticFiles serves the page's own script and the vendored chart
// library from the binary: nothing is loaded from the internet.
func staticFiles() http.Handler {
	sub, err := fs.Sub(ui, "ui/static")
	if err != nil {
		panic(err)
	}
	return http.StripPrefix("/static/", http.FileServerFS(sub))
}
