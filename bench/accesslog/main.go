// Command accesslog-bench times reading a FreePBX host's Apache access log
// (combined format) from its start through the real accesslog plugin (a
// separate process over the plugin transport, as the agent runs it),
// goaccess (its JSON report) and mtail --one_shot with an equivalent
// program. scripts/bench-accesslog.sh runs it; see docs/accesslog.md.
package main

import (
	"context"
	"encoding/json"
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
	workdir := flag.String("workdir", "bench-accesslog", "directory for the generated log and state")
	plugin := flag.String("plugin", "bin/pbxwatch-plugin-accesslog", "the accesslog plugin binary")
	sizeMiB := flag.Int("size", 256, "size of the log, MiB")
	runs := flag.Int("runs", 3, "rounds; each runs every tool once, and the median is reported beside each round's ratio")
	mtailProg := flag.String("mtail-prog", "bench/accesslog/accesslog.mtail", "mtail program equivalent to the plugin's counting")
	noMtail := flag.Bool("no-mtail", false, "skip mtail")
	noGoaccess := flag.Bool("no-goaccess", false, "skip goaccess")
	flag.Parse()
	if err := run(*workdir, *plugin, *mtailProg, *sizeMiB, *runs, !*noMtail, !*noGoaccess); err != nil {
		fmt.Fprintln(os.Stderr, "accesslog-bench:", err)
		os.Exit(1)
	}
}

func run(workdir, plugin, mtailProg string, sizeMiB, runs int, withMtail, withGoaccess bool) error {
	if err := os.MkdirAll(workdir, 0o755); err != nil {
		return err
	}
	log := filepath.Join(workdir, fmt.Sprintf("access-%dMiB.log", sizeMiB))
	if err := benchproc.Generate(log, int64(sizeMiB)<<20, fakelog.WriteAccess); err != nil {
		return err
	}
	if err := benchproc.Warm(log); err != nil {
		return err
	}
	fi, err := os.Stat(log)
	if err != nil {
		return err
	}
	size := float64(fi.Size())
	lines, err := countLines(log)
	if err != nil {
		return err
	}
	fmt.Printf("log: %s, %d bytes, %d lines (page cache warm); %d rounds after a warm-up one, each running every tool once, back to back in alternating order; %s\n\n", log, fi.Size(), lines, runs, benchproc.CPUName())

	report := filepath.Join(workdir, "goaccess.json")
	tools := []benchproc.Tool{
		{Name: "pbxwatch accesslog", Run: func() (benchproc.Measure, error) { return runPlugin(plugin, log, workdir) }},
		{Name: "grep -cE (LC_ALL=C)", Run: func() (benchproc.Measure, error) {
			m, out, err := benchproc.Time([]string{"LC_ALL=C"}, "grep", "-cE", grepFailedAPI, log)
			m.Note = strings.TrimSpace(out) + " failed API requests"
			return m, err
		}},
	}
	if withGoaccess {
		tools = append(tools, benchproc.Tool{Name: "goaccess (JSON report)", Run: func() (benchproc.Measure, error) {
			m, _, err := benchproc.Time(nil, "goaccess", log, "--log-format=COMBINED", "--no-global-config", "--no-progress", "-o", report)
			if err == nil {
				m.Note = goaccessTotal(report)
			}
			return m, err
		}})
	}
	if withMtail {
		tools = append(tools, benchproc.Tool{Name: "mtail --one_shot", Run: func() (benchproc.Measure, error) {
			m, out, err := benchproc.Time(nil, "mtail", "--one_shot", "--logtostderr", "--port", "0", "--progs", mtailProg, "--logs", log)
			if err == nil {
				m.Note = mtailTotal(out)
			}
			return m, err
		}})
	}
	rounds, err := benchproc.Interleave(runs, tools)
	if err != nil {
		return err
	}
	var results []benchproc.Measure
	for i := range tools {
		m := benchproc.Median(benchproc.Column(rounds, i))
		results = append(results, m)
	}
	fmt.Printf("%-24s %9s %9s %12s %10s  %s\n", "tool (median)", "seconds", "MB/s", "lines/s", "peak RSS", "result")
	for _, m := range results {
		fmt.Printf("%-24s %9.3f %9.1f %12.0f %6.1f MiB  %s\n", m.Name, m.Seconds, size/1e6/m.Seconds, float64(lines)/m.Seconds, float64(m.RSSKiB)/1024, m.Note)
	}
	for _, m := range results[2:] {
		fmt.Printf("\naccesslog / %s throughput: %.1fx", m.Name, m.Seconds/results[0].Seconds)
	}
	fmt.Printf("\n\naccesslog / grep -cE (the failed API requests alone), each round (target >= 1.0x in every round):\n")
	least, leastCPU := benchproc.PrintRatios(rounds, 0, 1, size)
	fmt.Printf("accesslog / grep -cE throughput: median %.2fx, smallest %.2fx (by CPU time: smallest %.2fx)\n", results[1].Seconds/results[0].Seconds, least, leastCPU)
	return nil
}

// grepFailedAPI selects the lines the plugin counts in
// accesslog_failed_requests_total: a request to the FreePBX API (a path
// under /admin/api/, or /admin/ajax.php or /ucp/ajax.php, with any query)
// answered 400 or more. grep does only this; the plugin also parses every
// field of every line, counts every request by endpoint and status, and
// follows each client's streaks.
const grepFailedAPI = `"[A-Z]+ /+(admin/api/[^ "]*|(admin|ucp)/ajax\.php([?#][^ "]*)?) HTTP/[0-9.]+" [45][0-9][0-9] `

func countLines(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	var n int64
	for {
		k, err := f.Read(buf)
		for _, c := range buf[:k] {
			if c == '\n' {
				n++
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
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
		Check: "bench", Plugin: "accesslog", Binary: abs, StateDir: stateDir,
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
	var requests, failed float64
	for _, m := range res.Metrics {
		switch m.Name {
		case "accesslog_requests_total":
			requests += m.Value
		case "accesslog_failed_requests_total":
			failed += m.Value
		}
	}
	return benchproc.Measure{Seconds: elapsed, CPUSeconds: cpu.Seconds(), RSSKiB: benchproc.VmHWM(h.PID()),
		Note: fmt.Sprintf("%.0f requests, %.0f failed API requests", requests, failed)}, nil
}

func goaccessTotal(report string) string {
	b, err := os.ReadFile(report)
	if err != nil {
		return "no report"
	}
	var r struct {
		General struct {
			Total  float64 `json:"total_requests"`
			Failed float64 `json:"failed_requests"`
		} `json:"general"`
	}
	if json.Unmarshal(b, &r) != nil {
		return "unparsed report"
	}
	return fmt.Sprintf("%.0f requests, %.0f unparsed", r.General.Total, r.General.Failed)
}

// mtailTotal sums the counters in mtail's one-shot JSON output.
func mtailTotal(js string) string {
	sum, ok := benchproc.MtailSums(js)
	if !ok {
		return "unparsed output"
	}
	return fmt.Sprintf("%.0f requests, %.0f failed API requests", sum("accesslog_requests_total"), sum("accesslog_failed_requests_total"))
}
