package accesslog

import (
	"sort"
	"strconv"
	"sync"
)

// Tracking is keyed by client address and endpoint, so a glue that gets
// its token fine but is refused by GraphQL is seen as failing on gql: its
// token successes do not hide the gql failures.

// streak is one (client, endpoint)'s current run of failures: 401, 403 or
// 5xx answers since its last success.
type streak struct {
	LastOK   int64             `json:"last_ok,omitempty"` // Unix seconds of the last 2xx/3xx answer
	First    int64             `json:"first,omitempty"`   // first failure since then
	Last     int64             `json:"last,omitempty"`
	Count    uint64            `json:"count,omitempty"`
	ByStatus map[string]uint64 `json:"by_status,omitempty"`
	ClientID string            `json:"client_id,omitempty"` // the last OAuth client_id seen in a query string
	// TokenFail holds the times of the last token_failure_threshold
	// failed token requests; Burst is the run of them now going on.
	TokenFail []int64 `json:"token_fail,omitempty"`
	Burst     burst   `json:"burst"`
}

// burst is a run of failed token requests, each within
// token_failure_window of the one before; Hit says that at some point
// threshold of them fell within one window.
type burst struct {
	First    int64             `json:"first,omitempty"`
	Last     int64             `json:"last,omitempty"`
	Count    uint64            `json:"count,omitempty"`
	ByStatus map[string]uint64 `json:"by_status,omitempty"`
	Hit      bool              `json:"hit,omitempty"`
}

// statusText is every status as a string, made once, on first use
// (docs/design.md "Package initialisers run in every process" says why
// not at start).
var statusText = sync.OnceValue(func() *[600]string {
	t := new([600]string)
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
})

// maxTracked bounds the client addresses remembered; the least recently
// seen is forgotten first.
const maxTracked = 1000

// isFailure says whether status counts as the API failing: refused
// (401, 403) or broken (5xx). Other 4xx (400 from GraphQL's own errors,
// 404 of a REST resource) are answers to a wrong request, not a failing
// API.
func isFailure(status int) bool { return status == 401 || status == 403 || status >= 500 }

// isTokenFailure is a token request refused: 400 (invalid_request,
// invalid_scope, unsupported_grant_type) or 401 (invalid_client), or 403
// from something in front.
func isTokenFailure(status int) bool { return status == 400 || status == 401 || status == 403 }

func (s *streak) observe(r *request, ep endpoint, threshold int, tokenWindow int64) {
	switch {
	case r.status < 400:
		s.LastOK = r.time
		s.First, s.Last, s.Count = 0, 0, 0
		clear(s.ByStatus) // kept allocated: failures and successes alternate
	case isFailure(r.status):
		if s.Count == 0 {
			s.First = r.time
		}
		s.Last = r.time
		s.Count++
		if s.ByStatus == nil {
			s.ByStatus = map[string]uint64{}
		}
		s.ByStatus[statusText()[r.status]]++
	}
	if ep == epToken && isTokenFailure(r.status) {
		// Keep the times of the last threshold failures: a burst is all of
		// them within the window.
		if len(s.TokenFail) >= threshold {
			s.TokenFail = append(s.TokenFail[:0], s.TokenFail[len(s.TokenFail)-threshold+1:]...)
		}
		s.TokenFail = append(s.TokenFail, r.time)
		b := &s.Burst
		if b.Count == 0 || r.time-b.Last > tokenWindow {
			m := b.ByStatus
			if m == nil {
				m = map[string]uint64{}
			}
			clear(m)
			*b = burst{First: r.time, ByStatus: m}
		}
		b.Last = r.time
		b.Count++
		b.ByStatus[statusText()[r.status]]++
		if len(s.TokenFail) >= threshold && s.TokenFail[len(s.TokenFail)-1]-s.TokenFail[0] <= tokenWindow {
			b.Hit = true
		}
	}
}

// clientTrack is one client address's streaks, by endpoint name.
type clientTrack struct {
	SeenAt int64 `json:"seen"`
	// FirstOK is the client's first successful API call: failures after
	// it are "began failing", on any endpoint (a glue whose token and gql
	// calls worked and whose first REST call fails is failing too).
	FirstOK    int64              `json:"first_ok,omitempty"`
	ByEndpoint map[string]*streak `json:"endpoints"`
	// ep is ByEndpoint by index, so the hot path does not build keys;
	// addr is the client's key in the tracker, for labels without
	// converting the line's bytes again.
	ep   [numEndpoints]*streak
	addr string
}

func (c *clientTrack) streak(ep endpoint) *streak {
	if s := c.ep[ep]; s != nil {
		return s
	}
	if c.ByEndpoint == nil {
		c.ByEndpoint = map[string]*streak{}
	}
	s := c.ByEndpoint[ep.String()]
	if s == nil {
		s = &streak{}
		c.ByEndpoint[ep.String()] = s
	}
	c.ep[ep] = s
	return s
}

// clientID is an OAuth client id seen in this client's request URLs (the
// authorize endpoint's query string), or "".
func (c *clientTrack) clientID() string {
	for _, name := range endpointNames {
		if s := c.ByEndpoint[name]; s != nil && s.ClientID != "" {
			return s.ClientID
		}
	}
	return ""
}

// tracker holds the API clients, by address.
type tracker map[string]*clientTrack

// evict forgets the least recently seen clients beyond maxTracked.
func (t tracker) evict() {
	if len(t) <= maxTracked {
		return
	}
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return t[keys[i]].SeenAt < t[keys[j]].SeenAt })
	for _, k := range keys[:len(t)-maxTracked] {
		delete(t, k)
	}
}

// episode is a run of 5xx answers on one endpoint: it ends when window
// passes without one.
type episode struct {
	First   int64             `json:"first,omitempty"`
	Last    int64             `json:"last,omitempty"`
	Count   uint64            `json:"count,omitempty"`
	Clients map[string]uint64 `json:"clients,omitempty"` // at most maxEpisodeClients, the rest under "other"
}

const maxEpisodeClients = 10

func (e *episode) observe(client string, t, window int64) {
	if e.Count == 0 || t-e.Last > window {
		*e = episode{First: t, Clients: map[string]uint64{}}
	}
	e.Last = t
	e.Count++
	if _, ok := e.Clients[client]; !ok && len(e.Clients) >= maxEpisodeClients {
		client = "other"
	}
	e.Clients[client]++
}
