package alerting_test

// Alerts across a fleet: twenty real agents, each its own host (its own
// instance label), check one WHMCS through the simulator; a clustered pair
// of real Alertmanagers runs the shipped configs/alertmanager/alertmanager.yml
// routing and grouping (receivers pointed at a loopback sink, timers
// shortened). When WHMCS starts refusing every host, the operator gets one
// notification per receiver naming all twenty; when one host is let back
// in, only its alert resolves.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
	"github.com/pbxwatch/pbxwatch/plugins/whmcs/whmcssim"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

const fleetSize = 20

// whmcsGate stands in front of the WHMCS simulator: requests under
// /<host>/ reach its invalid_ip scenario while that host is refused, its
// healthy API otherwise. One WHMCS, one allow-list, many PBXs.
type whmcsGate struct {
	sim     http.Handler
	mu      sync.Mutex
	refused map[string]bool
}

func (g *whmcsGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	g.mu.Lock()
	refused := g.refused[host]
	g.mu.Unlock()
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + rest
	if refused {
		r2.URL.Path = "/invalid_ip/" + rest
	}
	g.sim.ServeHTTP(w, r2)
}

func (g *whmcsGate) refuse(hosts ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, h := range hosts {
		g.refused[h] = true
	}
}

func (g *whmcsGate) allow(host string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.refused, host)
}

// sink records every notification by the receiver (its URL path).
type sink struct {
	mu    sync.Mutex
	notes []sinkNote
}

type sinkNote struct {
	Receiver string
	GroupKey string `json:"groupKey"`
	Status   string `json:"status"`
	Alerts   []struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
	} `json:"alerts"`
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var n sinkNote
	if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	n.Receiver = strings.TrimPrefix(r.URL.Path, "/")
	s.mu.Lock()
	s.notes = append(s.notes, n)
	s.mu.Unlock()
}

// about returns the notifications carrying code, by receiver.
func (s *sink) about(code string) map[string][]sinkNote {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]sinkNote{}
	for _, n := range s.notes {
		for _, a := range n.Alerts {
			if a.Labels["code"] == code {
				out[n.Receiver] = append(out[n.Receiver], n)
				break
			}
		}
	}
	return out
}

func (s *sink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, _ := json.Marshal(s.notes)
	return string(b)
}

// instances lists the instance labels of a notification's alerts of the
// given status, sorted.
func (n sinkNote) instances(status string) []string {
	var out []string
	for _, a := range n.Alerts {
		if a.Status == status {
			out = append(out, a.Labels["instance"])
		}
	}
	slices.Sort(out)
	return out
}

// shippedConfigFor is configs/alertmanager/alertmanager.yml with every
// receiver replaced by a webhook to the sink (path = receiver name) and
// the route tree's timers shortened; routing, grouping and inhibition are
// the shipped ones.
func shippedConfigFor(t *testing.T, sinkURL string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(configsDir(t), "alertmanager", "alertmanager.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(src, &cfg); err != nil {
		t.Fatal(err)
	}
	var receivers []any
	for _, r := range cfg["receivers"].([]any) {
		name := r.(map[string]any)["name"].(string)
		receivers = append(receivers, map[string]any{"name": name, "webhook_configs": []any{
			map[string]any{"url": sinkURL + "/" + name, "send_resolved": true},
		}})
	}
	cfg["receivers"] = receivers
	delete(cfg, "templates") // the receivers that used them are gone
	var shorten func(route map[string]any)
	shorten = func(route map[string]any) {
		for key, d := range map[string]string{"group_wait": "4s", "group_interval": "3s", "repeat_interval": "1h"} {
			if _, ok := route[key]; ok {
				route[key] = d
			}
		}
		subs, _ := route["routes"].([]any)
		for _, sub := range subs {
			shorten(sub.(map[string]any))
		}
	}
	root := cfg["route"].(map[string]any)
	root["group_wait"], root["group_interval"], root["repeat_interval"] = "", "", ""
	shorten(root)
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func startShippedAlertmanager(t *testing.T, name, config, clusterAddr string, peers ...string) *server {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	args := []string{
		"--config.file=" + filepath.Join(dir, "alertmanager.yml"),
		"--storage.path=" + filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--cluster.listen-address=" + clusterAddr,
		"--cluster.advertise-address=" + clusterAddr,
		"--cluster.peer-timeout=3s",
		"--cluster.gossip-interval=50ms",
		"--cluster.pushpull-interval=1s",
		"--cluster.settle-timeout=2s",
	}
	for _, p := range peers {
		args = append(args, "--cluster.peer="+p)
	}
	return startServer(t, name, alertmanagerBin, args, fmt.Sprintf("http://127.0.0.1:%d", port))
}

func TestOneWHMCSCauseOnTwentyHostsIsOneNotification(t *testing.T) {
	testutil.Slow(t, "twenty agents and two real Alertmanagers")
	testutil.Tool(t, "prometheus-alertmanager")
	whmcsBin := sdktest.Build(t, "github.com/pbxwatch/pbxwatch/plugins/whmcs")

	gate := &whmcsGate{sim: whmcssim.New(whmcssim.Options{}), refused: map[string]bool{}}
	whmcs := httptest.NewServer(gate)
	defer whmcs.Close()
	notes := &sink{}
	sinkSrv := httptest.NewServer(notes)
	defer sinkSrv.Close()

	cfg := shippedConfigFor(t, sinkSrv.URL)
	c1 := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	c2 := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	am1 := startShippedAlertmanager(t, "alertmanager-1", cfg, c1, c2)
	am2 := startShippedAlertmanager(t, "alertmanager-2", cfg, c2, c1)
	for _, am := range []*server{am1, am2} {
		eventually(t, 30*time.Second, am.name+" sees both peers", func() (bool, string) {
			return am.peers(t) == 2, fmt.Sprint(am.peers(t))
		})
	}

	// Twenty hosts, each a real agent with its own instance label and its
	// own whmcs plugin process, all healthy first.
	creds := t.TempDir()
	ident := filepath.Join(creds, "id")
	secret := filepath.Join(creds, "secret")
	for path, v := range map[string]string{ident: whmcssim.DefaultIdentifier, secret: whmcssim.DefaultSecret} {
		if err := os.WriteFile(path, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	var agents []*agenttest.Daemon
	for i := 1; i <= fleetSize; i++ {
		name := fmt.Sprintf("pbx%02d", i)
		names = append(names, name)
		in := agenttest.New(t)
		in.LinkPlugin("whmcs", whmcsBin)
		in.WriteConfig(fmt.Sprintf(`  external_labels: {instance: %s, customer: acme}
alerting:
  alertmanagers: [{url: %q}, {url: %q}]
  resend_interval: 5s
checks:
  - name: whmcs_auth
    plugin: whmcs
    schedule: "@every 2s"
    timeout: 10s
    config: {url: %q, identifier_file: %s, secret_file: %s}
`, name, am1.url, am2.url, whmcs.URL+"/"+name+"/", ident, secret))
		agents = append(agents, in.Start(agenttest.Options{}))
	}
	for _, a := range agents {
		a.WaitForText("/metrics", `pbxwatch_check_status{check="whmcs_auth",plugin="whmcs"} 0`)
	}

	// WHMCS starts refusing every host (its API allow-list lost them).
	gate.refuse(names...)
	const code = "whmcs.invalid_ip"
	eventually(t, 60*time.Second, "twenty alerts in each Alertmanager", func() (bool, string) {
		n1, n2 := len(am1.alertsWith(t, "code", code)), len(am2.alertsWith(t, "code", code))
		return n1 == fleetSize && n2 == fleetSize, fmt.Sprintf("%d, %d", n1, n2)
	})
	eventually(t, 30*time.Second, "a notification", func() (bool, string) {
		return len(notes.about(code)) > 0, notes.String()
	})
	// Past the second peer's wait (--cluster.peer-timeout 3s) and a group
	// interval: still one notification per receiver, naming all twenty.
	time.Sleep(5 * time.Second)
	firing := notes.about(code)
	for receiver, ns := range firing {
		if len(ns) != 1 {
			t.Errorf("%s got %d notifications, want 1 for the shared cause: %s", receiver, len(ns), notes)
			continue
		}
		if got := ns[0].instances("firing"); !slices.Equal(got, names) {
			t.Errorf("%s's notification names %v, want the twenty hosts", receiver, got)
		}
	}
	if len(firing) == 0 || t.Failed() {
		t.Fatalf("notifications: %s", notes)
	}
	t.Logf("receivers notified once each with twenty hosts: %v", keys(firing))

	// pbx07 is let back in: only its alert resolves, in the group's next
	// notification.
	gate.allow("pbx07")
	eventually(t, 30*time.Second, "pbx07's alert resolved in a notification to each receiver", func() (bool, string) {
		for receiver := range firing {
			ns := notes.about(code)[receiver]
			if len(ns) < 2 || !slices.Equal(ns[len(ns)-1].instances("resolved"), []string{"pbx07"}) {
				return false, receiver
			}
		}
		return true, ""
	})
	others := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == "pbx07" })
	for receiver, ns := range notes.about(code) {
		last := ns[len(ns)-1]
		if got := last.instances("firing"); !slices.Equal(got, others) {
			t.Errorf("%s: still firing %v, want the nineteen others", receiver, got)
		}
		for _, n := range ns {
			if r := n.instances("resolved"); len(r) > 0 && !slices.Equal(r, []string{"pbx07"}) {
				t.Errorf("%s: resolved %v", receiver, r)
			}
		}
	}
	for _, am := range []*server{am1, am2} {
		active := am.alertsWith(t, "code", code)
		for _, a := range active {
			if a.Labels["instance"] == "pbx07" {
				t.Errorf("%s still holds pbx07's alert active", am.name)
			}
		}
		if len(active) != fleetSize-1 {
			t.Errorf("%s holds %d active alerts, want %d", am.name, len(active), fleetSize-1)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
