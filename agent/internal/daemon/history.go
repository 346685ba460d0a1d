package daemon

import (
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// How much of a check's past the agent keeps in memory for its status
// page: enough to see a flapping check, bounded whatever the schedule.
const (
	historyRuns    = 20
	historyChanges = 20
)

// HistoryRun is one past run.
type HistoryRun struct {
	At       time.Time     `json:"at"`
	Status   string        `json:"status"`
	Summary  string        `json:"summary"`
	Duration time.Duration `json:"-"`
	Seconds  float64       `json:"duration_seconds"`
	Codes    []string      `json:"codes"`
}

// StatusChange is a run whose status differed from the one before.
type StatusChange struct {
	At      time.Time `json:"at"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Summary string    `json:"summary"`
}

// History is a check's recent past, newest first.
type History struct {
	Runs    []HistoryRun   `json:"runs"`
	Changes []StatusChange `json:"changes"`
}

// add records a run; prev is the previous run's status (seen false for
// the first run since start).
func (h *History) add(res *sdk.Result, at time.Time, took time.Duration, prev sdk.Status, seen bool) {
	codes := []string{}
	for _, d := range res.Diagnoses {
		codes = append(codes, d.Code)
	}
	run := HistoryRun{At: at, Status: res.Status.String(), Summary: res.Summary, Duration: took, Seconds: took.Seconds(), Codes: codes}
	h.Runs = prepend(h.Runs, run, historyRuns)
	if !seen || prev != res.Status {
		from := ""
		if seen {
			from = prev.String()
		}
		h.Changes = prepend(h.Changes, StatusChange{At: at, From: from, To: res.Status.String(), Summary: res.Summary}, historyChanges)
	}
}

// copy returns a copy safe to hand out while runs go on.
func (h *History) copy() History {
	if h == nil {
		return History{Runs: []HistoryRun{}, Changes: []StatusChange{}}
	}
	return History{Runs: append([]HistoryRun{}, h.Runs...), Changes: append([]StatusChange{}, h.Changes...)}
}

// prepend puts v first and keeps at most limit elements.
func prepend[T any](s []T, v T, limit int) []T {
	s = append(s, v)
	copy(s[1:], s[:len(s)-1])
	s[0] = v
	if len(s) > limit {
		s = s[:limit]
	}
	return s
}
