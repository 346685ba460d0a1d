// Command logtail-bench times reading a FreePBX-style log from its start
// through the real logtail plugin (a separate process over the plugin
// transport, as the agent runs it), mtail --one_shot with an equivalent
// program, and grep -cE on the same patterns. scripts/bench-logtail.sh runs
// it; see docs/logtail.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pbxwatch/pbxwatch/bench/internal/benchproc"
	"github.com/pbxwatch/pbxwatch/internal/testutil/fakelog"
	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/pluginhost"
)

func main() {
	workdir := flag.String("workdir", "bench-logtail", "directory for the generated logs and state")
	plugin := flag.String("plugin", "bin/pbxwatch-plugin-logtail", "the logtail plugin binary")
	sizeMiB := flag.Int("size", 256, "size of the big log, MiB")
	smallMiB := flag.Int("small", 32, "size of the small log (memory comparison), MiB")
	runs := flag.Int("runs", 3, "rounds; each runs every tool once, and the median is reported beside each round's ratio")
	mtailProg := flag.String("mtail-prog", "bench/logtail/freepbx.mtail", "mtail program equivalent to the default patterns")
	noMtail := flag.Bool("no-mtail", false, "skip mtail (about 18 s a round)")
	flag.Parse()
	if err := run(*workdir, *plugin, *mtailProg, *sizeMiB, *smallMiB, *runs, !*noMtail); err != nil {
		fmt.Fprintln(os.Stderr, "logtail-bench:", err)
		os.Exit(1)
	}
}

// grepPattern is the default pattern set in POSIX ERE (no (?:)).
const grepPattern = `Authentication failure for \S* from \S+|(Unable|Failed) to connect to (the )?(Asterisk )?[Mm]anager|Asterisk Manager unreachable|SQLSTATE\[[0-9A-Z]{5}\]`

func run(workdir, plugin, mtailProg string, sizeMiB, smallMiB, runs int, withMtail bool) error {
	if err := os.MkdirAll(workdir, 0o755); err != nil {
		return err
	}
	big := filepath.Join(workdir, fmt.Sprintf("freepbx-%dMiB.log", sizeMiB))
	small := filepath.Join(workdir, fmt.Sprintf("freepbx-%dMiB.log", smallMiB))
	for _, f := range []struct {
		path string
		mib  int
	}{{big, sizeMiB}, {small, smallMiB}} {
		if err := benchproc.Generate(f.path, int64(f.mib)<<20, fakelog.Write); err != nil {
			return err
		}
		if err := benchproc.Warm(f.path); err != nil {
			return err
		}
	}
	fi, err := os.Stat(big)
	if err != nil {
		return err
	}
	size := float64(fi.Size())
	fmt.Printf("log: %s, %d bytes (page cache warm); %d rounds after a warm-up one, each running every tool once, back to back in alternating order; %s\n\n", big, fi.Size(), runs, benchproc.CPUName())

	tools := []benchproc.Tool{
		{Name: "pbxwatch logtail", Run: func() (benchproc.Measure, error) { return runPlugin(plugin, big, workdir) }},
		{Name: "grep -cE (LC_ALL=C)", Run: func() (benchproc.Measure, error) {
			m, out, err := benchproc.Time([]string{"LC_ALL=C"}, "grep", "-cE", grepPattern, big)
			m.Note = strings.TrimSpace(out) + " lines matched"
			return m, err
		}},
	}
	if withMtail {
		tools = append(tools, benchproc.Tool{Name: "mtail --one_shot", Run: func() (benchproc.Measure, error) {
			m, out, err := benchproc.Time(nil, "mtail", "--one_shot", "--logtostderr", "--port", "0", "--progs", mtailProg, "--logs", big)
			m.Note = mtailMatches(out)
			return m, err
		}})
	}
	rounds, err := benchproc.Interleave(runs, tools)
	if err != nil {
		return err
	}
	smallM, err := runPlugin(plugin, small, workdir)
	if err != nil {
		return err
	}

	fmt.Printf("%-22s %10s %10s %12s  %s\n", "tool (median)", "seconds", "MB/s", "peak RSS", "result")
	var results []benchproc.Measure
	for i := range tools {
		m := benchproc.Median(benchproc.Column(rounds, i))
		results = append(results, m)
		fmt.Printf("%-22s %10.3f %10.1f %9.1f MiB  %s\n", m.Name, m.Seconds, size/1e6/m.Seconds, float64(m.RSSKiB)/1024, m.Note)
	}
	plug, grep := results[0], results[1]
	if withMtail {
		fmt.Printf("\nlogtail / mtail throughput: %.1fx (target >= 20x)\n", results[2].Seconds/plug.Seconds)
	}
	fmt.Printf("\nlogtail / grep -cE, each round (target >= 1.0x in every round):\n")
	least, leastCPU := benchproc.PrintRatios(rounds, 0, 1, size)
	fmt.Printf("logtail / grep -cE throughput: median %.2fx, smallest %.2fx (by CPU time: smallest %.2fx)\n", grep.Seconds/plug.Seconds, least, leastCPU)
	fmt.Printf("logtail peak RSS: %.1f MiB on %d MiB, %.1f MiB on %d MiB (memory flat in file size)\n",
		float64(smallM.RSSKiB)/1024, smallMiB, float64(plug.RSSKiB)/1024, sizeMiB)
	return nil
}

// runPlugin starts the plugin as the agent does, reads the whole file in
// one Check (fresh state, start_at: beginning) and reports the Check's
// time and the plugin process's peak RSS.
func runPlugin(bin, log, workdir string) (benchproc.Measure, error) {
	abs, err := filepath.Abs(bin)
	if err != nil {
		return benchproc.Measure{}, err
	}
	stateDir, err := os.MkdirTemp(workdir, "state-")
	if err != nil {
		return benchproc.Measure{}, err
	}
	defer os.RemoveAll(stateDir)
	cfg := fmt.Sprintf("path: %s\nstart_at: beginning\n", log)
	h, err := pluginhost.Start(context.Background(), pluginhost.Spec{
		Check: "bench", Plugin: "logtail", Binary: abs, StateDir: stateDir,
		ConfigYAML: []byte(cfg), SourceFile: "bench", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return benchproc.Measure{}, err
	}
	defer h.Close()
	cpu, start := benchproc.CPUTime(h.PID()), time.Now()
	res := h.Run(context.Background(), 10*time.Minute)
	elapsed, cpu := time.Since(start).Seconds(), benchproc.CPUTime(h.PID())-cpu
	if res.Status == sdk.StatusUnknown {
		return benchproc.Measure{}, fmt.Errorf("check failed: %s", res.Summary)
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
	return benchproc.Measure{Seconds: elapsed, CPUSeconds: cpu.Seconds(), RSSKiB: benchproc.VmHWM(h.PID()),
		Note: fmt.Sprintf("%.0f lines, %.0f matched", lines, matches)}, nil
}

// mtailMatches sums the pattern counter in mtail's one-shot JSON output.
func mtailMatches(js string) string {
	sum, ok := benchproc.MtailSums(js)
	if !ok {
		return "unparsed output"
	}
	return fmt.Sprintf("%.0f lines, %.0f matched", sum("logtail_lines_total"), sum("logtail_pattern_matches_total"))
}
