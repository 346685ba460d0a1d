// Command logtail-bench times reading a FreePBX-style log from its start
// through the real logtail plugin (a separate process over the plugin
// transport, as the agent runs it), mtail --one_shot with an equivalent
// program, and grep -cE on the same patterns. scripts/bench-logtail.sh runs
// it; see docs/logtail.md.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/fakelog"
	"github.com/pbxwatch/pbxwatch/internal/pluginhost"
	"github.com/pbxwatch/pbxwatch/sdk"
)

func main() {
	workdir := flag.String("workdir", "bench-logtail", "directory for the generated logs and state")
	plugin := flag.String("plugin", "bin/pbxwatch-plugin-logtail", "the logtail plugin binary")
	sizeMiB := flag.Int("size", 256, "size of the big log, MiB")
	smallMiB := flag.Int("small", 32, "size of the small log (memory comparison), MiB")
	runs := flag.Int("runs", 3, "runs per tool; the median is reported")
	mtailProg := flag.String("mtail-prog", "bench/logtail/freepbx.mtail", "mtail program equivalent to the default patterns")
	flag.Parse()
	if err := run(*workdir, *plugin, *mtailProg, *sizeMiB, *smallMiB, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "logtail-bench:", err)
		os.Exit(1)
	}
}

// grepPattern is the default pattern set in POSIX ERE (no (?:)).
const grepPattern = `Authentication failure for \S* from \S+|(Unable|Failed) to connect to (the )?(Asterisk )?[Mm]anager|Asterisk Manager unreachable|SQLSTATE\[[0-9A-Z]{5}\]`

type measure struct {
	name    string
	seconds float64
	rssKiB  int64
	note    string
}

func run(workdir, plugin, mtailProg string, sizeMiB, smallMiB, runs int) error {
	if err := os.MkdirAll(workdir, 0o755); err != nil {
		return err
	}
	big := filepath.Join(workdir, fmt.Sprintf("freepbx-%dMiB.log", sizeMiB))
	small := filepath.Join(workdir, fmt.Sprintf("freepbx-%dMiB.log", smallMiB))
	for _, f := range []struct {
		path string
		mib  int
	}{{big, sizeMiB}, {small, smallMiB}} {
		if err := generate(f.path, int64(f.mib)<<20); err != nil {
			return err
		}
		if err := warm(f.path); err != nil {
			return err
		}
	}
	fi, err := os.Stat(big)
	if err != nil {
		return err
	}
	size := float64(fi.Size())
	fmt.Printf("log: %s, %d bytes (page cache warm); %d runs each, median; %s\n\n", big, fi.Size(), runs, cpuName())

	var results []measure
	tools := []struct {
		name string
		f    func() (measure, error)
	}{
		{"pbxwatch logtail", func() (measure, error) { return runPlugin(plugin, big, workdir) }},
		{"grep -cE (LC_ALL=C)", func() (measure, error) { return runCmd("grep", []string{"LC_ALL=C"}, "-cE", grepPattern, big) }},
		{"mtail --one_shot", func() (measure, error) {
			return runCmd("mtail", nil, "--one_shot", "--logtostderr", "--port", "0", "--progs", mtailProg, "--logs", big)
		}},
	}
	for _, tool := range tools {
		var ms []measure
		for i := 0; i < runs; i++ {
			m, err := tool.f()
			if err != nil {
				return fmt.Errorf("%s: %w", tool.name, err)
			}
			ms = append(ms, m)
		}
		sort.Slice(ms, func(i, j int) bool { return ms[i].seconds < ms[j].seconds })
		m := ms[len(ms)/2]
		m.name = tool.name
		results = append(results, m)
	}
	smallM, err := runPlugin(plugin, small, workdir)
	if err != nil {
		return err
	}

	fmt.Printf("%-22s %10s %10s %12s  %s\n", "tool", "seconds", "MB/s", "peak RSS", "result")
	for _, m := range results {
		fmt.Printf("%-22s %10.3f %10.1f %9.1f MiB  %s\n", m.name, m.seconds, size/1e6/m.seconds, float64(m.rssKiB)/1024, m.note)
	}
	plug, grep, mtail := results[0], results[1], results[2]
	fmt.Printf("\nlogtail / mtail throughput: %.1fx (target >= 20x)\n", mtail.seconds/plug.seconds)
	fmt.Printf("logtail / grep -E throughput: %.2fx (target >= 0.5x)\n", grep.seconds/plug.seconds)
	fmt.Printf("logtail peak RSS: %.1f MiB on %d MiB, %.1f MiB on %d MiB (memory flat in file size)\n",
		float64(smallM.rssKiB)/1024, smallMiB, float64(plug.rssKiB)/1024, sizeMiB)
	return nil
}

// runPlugin starts the plugin as the agent does, reads the whole file in
// one Check (fresh state, start_at: beginning) and reports the Check's
// time and the plugin process's peak RSS.
func runPlugin(bin, log, workdir string) (measure, error) {
	abs, err := filepath.Abs(bin)
	if err != nil {
		return measure{}, err
	}
	stateDir, err := os.MkdirTemp(workdir, "state-")
	if err != nil {
		return measure{}, err
	}
	defer os.RemoveAll(stateDir)
	cfg := fmt.Sprintf("path: %s\nstart_at: beginning\n", log)
	h, err := pluginhost.Start(context.Background(), pluginhost.Spec{
		Check: "bench", Plugin: "logtail", Binary: abs, StateDir: stateDir,
		ConfigYAML: []byte(cfg), SourceFile: "bench", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return measure{}, err
	}
	defer h.Close()
	start := time.Now()
	res := h.Run(context.Background(), 10*time.Minute)
	elapsed := time.Since(start).Seconds()
	if res.Status == sdk.StatusUnknown {
		return measure{}, fmt.Errorf("check failed: %s", res.Summary)
	}
	var lines, matches float64
	for _, m := range res.Metrics {
		switch m.Name {
		case "logtail_lines_total":
			lines += m.Value
		case "logtail_pattern_matches_total":
			matches += m.Value
		}
	}
	return measure{seconds: elapsed, rssKiB: vmHWM(h.PID()),
		note: fmt.Sprintf("%.0f lines, %.0f matched", lines, matches)}, nil
}

// runCmd times a command. Its peak RSS comes from /usr/bin/time: a child
// forked by this (Go, vfork-style) process would report this process's RSS
// as its own high-water mark, as Linux keeps it across exec.
func runCmd(name string, env []string, args ...string) (measure, error) {
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "maxrss=%M", name}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start).Seconds()
	if err != nil {
		return measure{}, fmt.Errorf("%v: %s", err, tail(errb.String()))
	}
	m := measure{seconds: elapsed}
	if i := strings.LastIndex(errb.String(), "maxrss="); i >= 0 {
		m.rssKiB, _ = strconv.ParseInt(strings.TrimSpace(errb.String()[i+len("maxrss="):]), 10, 64)
	}
	if name == "grep" {
		m.note = strings.TrimSpace(out.String()) + " lines matched"
	} else {
		m.note = mtailMatches(out.String())
	}
	return m, nil
}

func tail(s string) string {
	if len(s) > 500 {
		return s[len(s)-500:]
	}
	return s
}

// mtailMatches sums the pattern counter in mtail's one-shot JSON output.
func mtailMatches(js string) string {
	var store map[string][]struct {
		LabelValues []struct {
			Value struct{ Value float64 }
		}
	}
	if err := json.Unmarshal([]byte(js), &store); err != nil {
		return "unparsed output"
	}
	sum := func(name string) (n float64) {
		for _, m := range store[name] {
			for _, lv := range m.LabelValues {
				n += lv.Value.Value
			}
		}
		return n
	}
	return fmt.Sprintf("%.0f lines, %.0f matched", sum("logtail_lines_total"), sum("logtail_pattern_matches_total"))
}

// vmHWM is a process's peak resident set size in KiB.
func vmHWM(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func warm(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}

func cpuName() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "unknown CPU"
}

// generate writes size bytes of FreePBX-style log (kept if already there):
// mostly Monolog INFO lines, some warnings and errors, legacy pre-Monolog
// lines, stack-trace continuations, and about one line in a thousand that
// a default pattern matches.
func generate(path string, size int64) error {
	if fi, err := os.Stat(path); err == nil && fi.Size() >= size {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := fakelog.Write(w, size); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
