// Command follow measures line written -> event alert received: the agent
// runs a followed logtail and accesslog check (scheduled hourly, so only
// following can be fast) and POSTs its alerts to a loopback Alertmanager
// stand-in; beside it, mtail's line -> /metrics on the same log file. Lines
// are written at random moments, with a numbered rotation half-way.
// Prints the median and p99 of each. Run by scripts/bench-follow.sh.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	agent := flag.String("agent", "", "the pbxwatch binary")
	pluginDir := flag.String("plugin-dir", "", "directory of pbxwatch-plugin-logtail and -accesslog")
	mtailProg := flag.String("mtail-prog", "bench/follow/latency.mtail", "mtail program counting the probe lines")
	work := flag.String("workdir", "", "scratch directory")
	n := flag.Int("lines", 200, "probe lines per log")
	flag.Parse()
	if *agent == "" || *pluginDir == "" || *work == "" {
		fmt.Fprintln(os.Stderr, "usage: follow -agent BIN -plugin-dir DIR -workdir DIR [-lines 200]")
		os.Exit(2)
	}
	if err := run(*agent, *pluginDir, *mtailProg, *work, *n); err != nil {
		fmt.Fprintln(os.Stderr, "follow:", err)
		os.Exit(1)
	}
}

// sink is the Alertmanager stand-in: when each probe token first arrived.
type sink struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	now := time.Now()
	var alerts []struct {
		Annotations map[string]string `json:"annotations"`
	}
	if json.Unmarshal(body, &alerts) == nil {
		s.mu.Lock()
		for _, a := range alerts {
			for _, v := range a.Annotations {
				for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '\n' || r == '/' || r == '.' }) {
					if strings.HasPrefix(f, "probe") {
						if _, ok := s.seen[f]; !ok {
							s.seen[f] = now
						}
					}
				}
			}
		}
		s.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

func (s *sink) at(token string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.seen[token]
	return t, ok
}

func run(agent, pluginDir, mtailProg, work string, n int) error {
	am := &sink{seen: map[string]time.Time{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go http.Serve(l, am)
	logDir := filepath.Join(work, "log")
	os.MkdirAll(logDir, 0o755)
	freepbx, access := filepath.Join(logDir, "freepbx.log"), filepath.Join(logDir, "access.log")
	stamp := time.Now().Format("02/Jan/2006:15:04:05 -0700")
	accessLine := func(tok string, status int) string {
		return fmt.Sprintf("127.0.0.2 - - [%s] \"GET /admin/api/api/rest/%s HTTP/1.1\" %d 42 \"-\" \"glue/1.0\"\n", stamp, tok, status)
	}
	freepbxLine := func(tok string) string {
		return "[2024-05-01 10:00:00] [freepbx_security.NOTICE]: Authentication failure for admin from " + tok + " [] []\n"
	}
	os.WriteFile(freepbx, []byte("[2024-05-01 10:00:00] [freepbx.INFO]: started [] []\n"), 0o644)
	// The client succeeded before: its failing calls are api_failing events.
	os.WriteFile(access, []byte(accessLine("token", 200)), 0o644)
	cfg := fmt.Sprintf(`agent: {state_dir: %s, plugin_dir: %s}
alerting:
  alertmanagers: [{url: "http://%s"}]
checks:
  - {name: freepbx_log, plugin: logtail, schedule: "@every 1h", config: {path: %s}}
  - {name: api_log, plugin: accesslog, schedule: "@every 1h", config: {path: %s, start_at: beginning}}
`, filepath.Join(work, "state"), pluginDir, l.Addr(), freepbx, access)
	cfgFile := filepath.Join(work, "pbxwatch.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		return err
	}
	ag := exec.Command(agent, "run", "--config.file="+cfgFile, "--web.listen-address=127.0.0.1:0")
	ag.Stderr = io.Discard
	if err := ag.Start(); err != nil {
		return err
	}
	defer func() { ag.Process.Signal(syscall.SIGTERM); ag.Wait() }()
	mt, mtailAddr, err := startMtail(mtailProg, freepbx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "follow: mtail not measured:", err)
	} else {
		defer func() { mt.Process.Kill(); mt.Wait() }()
	}
	time.Sleep(3 * time.Second) // first runs done, files followed

	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	var logtailLat, accessLat, mtailLat []time.Duration
	for i := 0; i < n; i++ {
		if i == n/2 {
			rotate(freepbx)
			rotate(access)
			os.WriteFile(access, nil, 0o644)
		}
		time.Sleep(time.Duration(50+rng.Intn(250)) * time.Millisecond) // a random moment
		ltok, atok := fmt.Sprintf("probeL%d", i), fmt.Sprintf("probeA%d", i)
		before := mtailCount(mtailAddr)
		written := time.Now()
		appendTo(freepbx, freepbxLine(ltok))
		appendTo(access, accessLine(atok, 403))
		mtailDone := make(chan time.Duration, 1)
		go func() {
			if mtailAddr != "" {
				mtailDone <- waitMtail(mtailAddr, before, written)
			}
			close(mtailDone)
		}()
		logtailLat = append(logtailLat, wait(am, ltok, written))
		// The accesslog event names the path /admin/api/api/<token>.
		accessLat = append(accessLat, wait(am, atok, written))
		if d, ok := <-mtailDone; ok {
			mtailLat = append(mtailLat, d)
		}
	}
	report("logtail  line -> alert", logtailLat)
	report("accesslog line -> alert", accessLat)
	if len(mtailLat) > 0 {
		report("mtail    line -> /metrics", mtailLat)
	}
	return nil
}

func appendTo(path, s string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		panic(err)
	}
	f.WriteString(s)
	f.Close()
}

// rotate renames path.1 to path.2 and path to path.1, as numbered logrotate.
func rotate(path string) {
	os.Rename(path+".1", path+".2")
	os.Rename(path, path+".1")
}

// wait returns how long after written the stand-in first got token.
func wait(am *sink, token string, written time.Time) time.Duration {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if t, ok := am.at(token); ok {
			return t.Sub(written)
		}
	}
	return 10 * time.Second
}

func startMtail(prog, log string) (*exec.Cmd, string, error) {
	bin, err := exec.LookPath("mtail")
	if err != nil {
		return nil, "", err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "--progs", prog, "--logs", log, "--address", "127.0.0.1", "--port", port, "--logtostderr")
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	return cmd, addr, nil
}

// mtailCount is mtail's probe counter on /metrics (-1 when unreadable).
func mtailCount(addr string) float64 {
	if addr == "" {
		return -1
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "probe_lines_total") {
			var v float64
			fmt.Sscanf(line[strings.LastIndexByte(line, ' ')+1:], "%g", &v)
			return v
		}
	}
	return 0
}

func waitMtail(addr string, before float64, written time.Time) time.Duration {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if mtailCount(addr) > before {
			return time.Since(written)
		}
	}
	return 10 * time.Second
}

func report(what string, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	fmt.Printf("%-28s n=%d  median %6.1f ms  p99 %7.1f ms  max %7.1f ms\n", what, len(lat),
		ms(p(0.5)), ms(p(0.99)), ms(lat[len(lat)-1]))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
