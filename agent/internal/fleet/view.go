// Package fleet builds the fleet view: every host that reports pbxwatch's
// series to a Prometheus-compatible engine (scraped, pushed by remote
// write, or forwarded by an agent-mode side-car), its checks worst first,
// the hosts gone silent, and the causes many hosts share. It reads only
// PromQL over Prometheus's HTTP API, so any engine that speaks it will do
// (Prometheus, VictoriaMetrics, Mimir, Thanos).
package fleet

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// The check statuses as pbxwatch_check_status encodes them (Nagios codes).
const (
	statusOK       = 0
	statusWarning  = 1
	statusCritical = 2
	statusUnknown  = 3
)

// statusName is the word for a pbxwatch_check_status value.
func statusName(v int) string {
	switch v {
	case statusOK:
		return "OK"
	case statusWarning:
		return "WARNING"
	case statusCritical:
		return "CRITICAL"
	default:
		return "UNKNOWN"
	}
}

// rank orders statuses for people, worst first: CRITICAL, UNKNOWN, WARNING,
// OK (UNKNOWN between CRITICAL and WARNING, as when the agent combines
// statuses).
func rank(status int) int {
	switch status {
	case statusCritical:
		return 0
	case statusUnknown:
		return 1
	case statusWarning:
		return 2
	default:
		return 3
	}
}

// View is the whole fleet at one moment.
type View struct {
	At     time.Time `json:"at"`
	Window Duration  `json:"window"` // how far back hosts are looked for
	Hosts  []Host    `json:"hosts"`
	// Causes lists each cause (diagnosis code) reported by failing checks
	// of at least two hosts: one fix, many hosts.
	Causes []Cause `json:"shared_causes"`
}

// Host is one agent, identified by its instance label.
type Host struct {
	Instance string `json:"instance"`
	// Labels are the host's other identity labels (job, site, customer...:
	// the external_labels it pushes with, or the scrape's target labels).
	Labels map[string]string `json:"labels,omitempty"`
	// Silent: the host reported during the window but not lately. Its
	// checks show what it last reported.
	Silent bool `json:"silent"`
	// LastSeen is when its series were last written (within a minute),
	// set for silent hosts.
	LastSeen *time.Time `json:"last_seen,omitempty"`
	Status   string     `json:"status"` // its worst check's
	Checks   []Check    `json:"checks"`

	status int
}

// Check is one check of a host.
type Check struct {
	Check  string `json:"check"`
	Plugin string `json:"plugin"`
	Status string `json:"status"`
	// Code is the main cause of a failing check (its most severe
	// diagnosis), "" for an OK one; Codes are all of them.
	Code  string   `json:"code"`
	Codes []string `json:"codes,omitempty"`
	// Since is when the check entered its current status, as far as the
	// window shows; SinceBeforeWindow says it already had it at the
	// window's start.
	Since             *time.Time `json:"since,omitempty"`
	SinceBeforeWindow bool       `json:"since_before_window,omitempty"`
	// Timeline is the check's non-OK spells over the window, oldest first.
	Timeline []Spell `json:"timeline,omitempty"`

	status int
}

// Spell is a stretch of time a check spent in one non-OK status.
type Spell struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Status string    `json:"status"`
	Value  int       `json:"value"` // pbxwatch_check_status's
}

// Cause is one diagnosis code shared by failing checks of several hosts.
type Cause struct {
	Code     string   `json:"code"`
	Status   string   `json:"status"` // the worst of its checks'
	Checks   []string `json:"checks"` // the checks reporting it
	Hosts    []string `json:"hosts"`
	status   int
	hostSeen map[string]bool
}

// Where is the part of the code that names what must be fixed, the
// plugin's domain: "whmcs" for whmcs.invalid_ip.
func (c Cause) Where() string {
	where, _, _ := strings.Cut(c.Code, ".")
	return where
}

// Failing reports whether the check's last status is not OK.
func (c Check) Failing() bool { return c.status != statusOK }

// StatusValue is pbxwatch_check_status's value for the check.
func (c Check) StatusValue() int { return c.status }

// Failing counts the host's checks that are not OK.
func (h Host) Failing() int {
	n := 0
	for _, c := range h.Checks {
		if c.Failing() {
			n++
		}
	}
	return n
}

// Duration is a time.Duration that marshals as Go's text ("24h0m0s").
type Duration time.Duration

// MarshalText writes the duration as Go formats it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// order sorts the hosts worst first (silent ones first of all: nobody
// knows their state), each host's checks worst first, and finds the
// shared causes.
func (v *View) order() {
	for i := range v.Hosts {
		h := &v.Hosts[i]
		h.status = statusOK
		for _, c := range h.Checks {
			if rank(c.status) < rank(h.status) {
				h.status = c.status
			}
		}
		h.Status = statusName(h.status)
		slices.SortFunc(h.Checks, func(a, b Check) int {
			return cmp.Or(cmp.Compare(rank(a.status), rank(b.status)), strings.Compare(a.Check, b.Check))
		})
	}
	slices.SortFunc(v.Hosts, func(a, b Host) int {
		return cmp.Or(
			-cmpBool(a.Silent, b.Silent),
			cmp.Compare(rank(a.status), rank(b.status)),
			-cmp.Compare(a.Failing(), b.Failing()),
			strings.Compare(a.Instance, b.Instance))
	})
	v.Causes = sharedCauses(v.Hosts)
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	default:
		return -1
	}
}

// sharedCauses groups the failing checks of hosts that still report by
// their main cause and keeps the causes of at least two hosts, the most
// widespread first. A silent host's last words are old news: it is not
// counted.
func sharedCauses(hosts []Host) []Cause {
	byCode := map[string]*Cause{}
	for _, h := range hosts {
		if h.Silent {
			continue
		}
		for _, c := range h.Checks {
			if !c.Failing() {
				continue
			}
			cause := byCode[c.Code]
			if cause == nil {
				cause = &Cause{Code: c.Code, status: c.status, hostSeen: map[string]bool{}}
				byCode[c.Code] = cause
			}
			if rank(c.status) < rank(cause.status) {
				cause.status = c.status
			}
			if !slices.Contains(cause.Checks, c.Check) {
				cause.Checks = append(cause.Checks, c.Check)
			}
			if !cause.hostSeen[h.Instance] {
				cause.hostSeen[h.Instance] = true
				cause.Hosts = append(cause.Hosts, h.Instance)
			}
		}
	}
	var out []Cause
	for _, c := range byCode {
		if len(c.Hosts) < 2 {
			continue
		}
		c.Status = statusName(c.status)
		slices.Sort(c.Hosts)
		slices.Sort(c.Checks)
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b Cause) int {
		return cmp.Or(-cmp.Compare(len(a.Hosts), len(b.Hosts)), cmp.Compare(rank(a.status), rank(b.status)), strings.Compare(a.Code, b.Code))
	})
	return out
}

// SharedWith returns how many hosts share the cause code (0 when it is not
// shared).
func (v *View) SharedWith(code string) int {
	for _, c := range v.Causes {
		if c.Code == code {
			return len(c.Hosts)
		}
	}
	return 0
}
