// Command scale measures the agent with N checks of one plugin: start time
// (process start to /-/ready and every check run once), reload time (SIGHUP
// to the reload gauge moving and every check run again), and the PSS,
// threads and processes of the agent with all its plugins. It prints a
// Markdown table; docs/design.md records its figures.
//
//	go run ./bench/scale -agent bin/pbxwatch -plugin bin/pbxwatch-plugin-noop -checks 10,100
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
	"syscall"
	"time"
)

func main() {
	agent := flag.String("agent", "bin/pbxwatch", "the pbxwatch binary")
	plugin := flag.String("plugin", "bin/pbxwatch-plugin-noop", "the plugin every check runs")
	counts := flag.String("checks", "10,100,1000", "comma-separated numbers of checks")
	isolate := flag.Bool("isolate", false, "every check `isolate: true`: a process per check, the model before protocol 2 (1000 checks need ~4 GB and ~8,000 tasks)")
	flag.Parse()
	fmt.Println("| checks | isolate | processes | threads | PSS MiB | of it anonymous | of it files | start s | reload s |")
	fmt.Println("|---:|---|---:|---:|---:|---:|---:|")
	for _, c := range strings.Split(*counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil {
			log.Fatalf("-checks: %v", err)
		}
		r, err := measure(*agent, *plugin, n, *isolate)
		if err != nil {
			log.Fatalf("%d checks: %v", n, err)
		}
		fmt.Printf("| %d | %v | %d | %d | %.0f | %.1f | %.1f | %.2f | %.2f |\n", n, *isolate, r.procs, r.threads, float64(r.pss.total)/1024, float64(r.pss.anon)/1024, float64(r.pss.file)/1024, r.start.Seconds(), r.reload.Seconds())
	}
}

type result struct {
	procs, threads int
	pss            pssKiB
	start, reload  time.Duration
}

func measure(agentBin, pluginBin string, n int, isolate bool) (result, error) {
	var r result
	dir, err := os.MkdirTemp("", "pbxwatch-bench-scale-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	pdir := filepath.Join(dir, "plugins")
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		return r, err
	}
	abs, _ := filepath.Abs(pluginBin)
	if err := os.Symlink(abs, filepath.Join(pdir, "pbxwatch-plugin-bench")); err != nil {
		return r, err
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "agent: {state_dir: %s, plugin_dir: %s}\nchecks:\n", filepath.Join(dir, "state"), pdir)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&cfg, "  - {name: c%d, plugin: bench, schedule: \"@every 1h\", isolate: %v}\n", i, isolate)
	}
	cfgFile := filepath.Join(dir, "pbxwatch.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg.String()), 0o644); err != nil {
		return r, err
	}
	addr, err := freeAddr()
	if err != nil {
		return r, err
	}
	began := time.Now()
	cmd := exec.Command(agentBin, "run", "--config.file="+cfgFile, "--web.listen-address="+addr, "--log.level=warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return r, err
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	base := "http://" + addr
	if err := waitFor(3*time.Minute, func() bool { return runsTotal(base) >= n }); err != nil {
		return r, fmt.Errorf("start: %w", err)
	}
	r.start = time.Since(began)
	time.Sleep(2 * time.Second) // settle
	r.procs, r.threads, r.pss = tree(cmd.Process.Pid)

	before := runsTotal(base)
	began = time.Now()
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		return r, err
	}
	if err := waitFor(3*time.Minute, func() bool { return runsTotal(base) >= before+n }); err != nil {
		return r, fmt.Errorf("reload: %w", err)
	}
	r.reload = time.Since(began)
	return r, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitFor(d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not done within %s", d)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// runsTotal sums pbxwatch_check_runs_total over every check.
func runsTotal(base string) int {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	total := 0.0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "pbxwatch_check_runs_total{") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			total += v
		}
	}
	return int(total)
}

// tree sums processes, threads and PSS of pid and all its descendants.
func tree(pid int) (procs, threads int, sum pssKiB) {
	children := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp := ppid(p); pp > 0 {
			children[pp] = append(children[pp], p)
		}
	}
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		queue = append(queue, children[p]...)
		procs++
		threads += statusField(p, "Threads:")
		m := pss(p)
		sum.total += m.total
		sum.anon += m.anon
		sum.file += m.file
	}
	return procs, threads, sum
}

func ppid(pid int) int { return statusField(pid, "PPid:") }

func statusField(pid int, key string) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), key); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// pssKiB is a process's proportional set size and its two parts:
// anonymous memory (heap, stacks) and file pages (the binary's code and
// data, shared between processes of one binary), from smaps_rollup.
type pssKiB struct{ total, anon, file int64 }

func pss(pid int) pssKiB {
	var r pssKiB
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return r
	}
	for _, line := range strings.Split(string(b), "\n") {
		key, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		switch key {
		case "Pss":
			r.total = n
		case "Pss_Anon":
			r.anon = n
		case "Pss_File":
			r.file = n
		}
	}
	return r
}
