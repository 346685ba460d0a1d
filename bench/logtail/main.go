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
	"sort"
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
	fmt.Printf("log: %s, %d bytes (page cache warm); %d runs each, median; %s\n\n", big, fi.Size(), runs, benchproc.CPUName())

	var results []measure
	tools := []struct {
		name string
		f    func() (measure, error)
	}{
		{"pbxwatch logtail", func() (measure, error) { return runPlugin(plugin, big, workdir) }},
		{"grep -cE (LC_ALL=C)", func() (measure, error) {
			m, out, err := benchproc.Time([]string{"LC_ALL=C"}, "grep", "-cE", grepPattern, big)
			return measure{seconds: m.Seconds, rssKiB: m.RSSKiB, note: strings.TrimSpace(out) + " lines matched"}, err
		}},
		{"mtail --one_shot", func() (measure, error) {
			m, out, err := benchproc.Time(nil, "mtail", "--one_shot", "--logtostderr", "--port", "0", "--progs", mtailProg, "--logs", big)
			return measure{seconds: m.Seconds, rssKiB: m.RSSKiB, note: mtailMatches(out)}, err
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
	return measure{seconds: elapsed, rssKiB: benchproc.VmHWM(h.PID()),
		note: fmt.Sprintf("%.0f lines, %.0f matched", lines, matches)}, nil
}

// mtailMatches sums the pattern counter in mtail's one-shot JSON output.
func mtailMatches(js string) string {
	sum, ok := benchproc.MtailSums(js)
	if !ok {
		return "unparsed output"
	}
	return fmt.Sprintf("%.0f lines, %.0f matched", sum("logtail_lines_total"), sum("logtail_pattern_matches_total"))
}
