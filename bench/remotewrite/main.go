// Command remotewrite measures what one agent running the demo's checks
// pushes by remote write: it runs bin/pbxwatch-demo on a copy of
// configs/demo.yaml with a remote_write entry to a counting receiver on
// loopback, for -duration, and prints the requests, samples per request,
// bytes on the wire (snappy) and before compression, the agent's CPU (its
// whole process tree, plugins included) and their projection per host per
// day and for 1,000 hosts into one Prometheus. docs/fleet.md records its
// figures.
//
//	go run ./bench/remotewrite -bin-dir bin -duration 3m
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/klauspost/compress/snappy"
)

// receiver counts what it is sent and stores nothing.
type receiver struct {
	mu                 sync.Mutex
	requests           int
	wire, uncompressed int64
	first, last        time.Time
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	n, err := snappy.DecodedLen(body)
	if err != nil {
		http.Error(w, "not snappy: "+err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	if rc.requests == 0 {
		rc.first = time.Now()
	}
	rc.requests++
	rc.wire += int64(len(body))
	rc.uncompressed += int64(n)
	rc.last = time.Now()
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func main() {
	binDir := flag.String("bin-dir", "bin", "directory holding pbxwatch, its plugins and pbxwatch-demo (make build)")
	config := flag.String("config", "configs/demo.yaml", "the demo's agent config")
	duration := flag.Duration("duration", 3*time.Minute, "how long to measure")
	interval := flag.Duration("interval", 15*time.Second, "remote_write interval")
	flag.Parse()

	rc := &receiver{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() { _ = http.Serve(l, rc) }()

	dir, err := os.MkdirTemp("", "bench-remotewrite-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	base, err := os.ReadFile(*config)
	if err != nil {
		log.Fatal(err)
	}
	cfg := filepath.Join(dir, "demo-rw.yaml")
	extra := fmt.Sprintf("\nremote_write:\n  - url: http://%s/api/v1/write\n    interval: %s\n", l.Addr(), *interval)
	if err := os.WriteFile(cfg, append(base, extra...), 0o644); err != nil {
		log.Fatal(err)
	}
	demo := exec.Command(filepath.Join(*binDir, "pbxwatch-demo"), "--bin-dir="+*binDir, "--config="+cfg, "--data-dir="+filepath.Join(dir, "demo-data"))
	demo.Stdout, demo.Stderr = io.Discard, io.Discard
	if err := demo.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() {
		_ = demo.Process.Signal(syscall.SIGTERM)
		_ = demo.Wait()
	}()

	// Let every check run once and the first pushes arrive, then measure.
	time.Sleep(2 * *interval)
	agent := findChild(demo.Process.Pid, "pbxwatch")
	if agent == 0 {
		log.Fatal("the demo's agent process was not found")
	}
	rc.mu.Lock()
	r0, w0, u0 := rc.requests, rc.wire, rc.uncompressed
	rc.mu.Unlock()
	cpu0, t0 := treeCPU(agent), time.Now()
	s0 := agentSamples()
	time.Sleep(*duration)
	rc.mu.Lock()
	reqs, wire, unc := rc.requests-r0, rc.wire-w0, rc.uncompressed-u0
	rc.mu.Unlock()
	cpu, took := treeCPU(agent)-cpu0, time.Since(t0)
	samples := agentSamples() - s0
	if reqs == 0 || samples <= 0 {
		log.Fatalf("no pushes arrived in %s (requests %d, samples %v)", *duration, reqs, samples)
	}
	perDay := float64(24*time.Hour) / float64(*interval)
	perReqSamples := samples / float64(reqs)
	fmt.Printf("| measured | %s at interval %s, %d requests |\n|---|---|\n", took.Round(time.Second), *interval, reqs)
	fmt.Printf("| samples (series) per request | %.0f |\n", perReqSamples)
	fmt.Printf("| bytes on the wire per request (snappy) | %d |\n", wire/int64(reqs))
	fmt.Printf("| bytes per request before snappy | %d |\n", unc/int64(reqs))
	fmt.Printf("| bytes on the wire per host per day | %.1f MiB |\n", float64(wire)/float64(reqs)*perDay/(1<<20))
	fmt.Printf("| agent CPU (plugins included) per host per day | %.0f s |\n", cpu.Seconds()*float64(24*time.Hour)/float64(took))
	fmt.Printf("| samples/s one agent pushes | %.1f |\n", perReqSamples/interval.Seconds())
	fmt.Printf("| 1,000 hosts into one Prometheus | %.0f series, %.0f samples/s, %.1f GiB/day on the wire |\n",
		1000*perReqSamples, 1000*perReqSamples/interval.Seconds(), 1000*float64(wire)/float64(reqs)*perDay/(1<<30))
}

// agentSamples reads pbxwatch_remote_write_samples_total from the demo
// agent's /metrics.
func agentSamples() float64 {
	resp, err := http.Get("http://127.0.0.1:9851/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var total float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "pbxwatch_remote_write_samples_total{") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			total += v
		}
	}
	return total
}

// findChild is the pid of parent's child process named comm, 0 if none.
func findChild(parent int, comm string) int {
	for _, p := range children(parent) {
		if name, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p)); strings.TrimSpace(string(name)) == comm {
			return p
		}
	}
	return 0
}

func children(parent int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _ := stat(pid); ppid == parent {
			out = append(out, pid)
		}
	}
	return out
}

// stat returns a process' parent and its user+system CPU time.
func stat(pid int) (ppid int, cpu time.Duration) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ppid, _ = strconv.Atoi(fields[1])
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return ppid, time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// treeCPU is the CPU time of pid and its descendants alive now.
func treeCPU(pid int) time.Duration {
	_, cpu := stat(pid)
	for _, c := range children(pid) {
		cpu += treeCPU(c)
	}
	return cpu
}
