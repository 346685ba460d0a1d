// Command reload measures memory across reloads: the agent runs N checks
// of each plugin given (sharing one process per plugin, protocol 2), is
// reloaded R times over HTTP (POST /-/reload answers once the reload is
// done), and the PSS of the agent and of each plugin process is printed
// after every E reloads. Two kinds of reload alternate or not (-mode):
// "same" reloads an unchanged config (every check is a new instance in the
// shared process, the old one forgotten), "churn" removes every check and
// adds it back. docs/design.md records its figures; memory must stay flat.
//
//	go run ./bench/reload -agent bin/pbxwatch -plugins bin/pbxwatch-plugin-logtail,bin/pbxwatch-plugin-accesslog
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/pbxwatch/pbxwatch/bench/internal/benchproc"
)

var logLevel *string

func main() {
	agent := flag.String("agent", "bin/pbxwatch", "the pbxwatch binary")
	plugins := flag.String("plugins", "bin/pbxwatch-plugin-logtail,bin/pbxwatch-plugin-accesslog", "comma-separated plugin binaries; each gets -checks checks")
	checks := flag.Int("checks", 100, "checks per plugin")
	reloads := flag.Int("reloads", 1000, "reloads")
	every := flag.Int("every", 100, "print memory after this many reloads")
	mode := flag.String("mode", "same", `"same": reload an unchanged config; "churn": every other reload removes every check`)
	logLevel = flag.String("log.level", "error", "the agent's --log.level (warn shows the plugins' stderr, e.g. GODEBUG=gctrace=1)")
	flag.Parse()
	if err := run(*agent, strings.Split(*plugins, ","), *checks, *reloads, *every, *mode); err != nil {
		log.Fatal(err)
	}
}

func run(agentBin string, pluginBins []string, n, reloads, every int, mode string) error {
	dir, err := os.MkdirTemp("", "pbxwatch-bench-reload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pdir := filepath.Join(dir, "plugins")
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		return err
	}
	var names []string
	for _, b := range pluginBins {
		abs, err := filepath.Abs(b)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(filepath.Base(b), "pbxwatch-plugin-")
		if err := os.Symlink(abs, filepath.Join(pdir, "pbxwatch-plugin-"+name)); err != nil {
			return err
		}
		names = append(names, name)
	}
	logFile := filepath.Join(dir, "access.log")
	if err := os.WriteFile(logFile, nil, 0o644); err != nil {
		return err
	}
	head := fmt.Sprintf("agent: {state_dir: %s, plugin_dir: %s}\n", filepath.Join(dir, "state"), pdir)
	full := head + "checks:\n" + checksFor(names, n, logFile)
	empty := head + "checks: []\n"
	cfgFile := filepath.Join(dir, "pbxwatch.yml")
	if err := os.WriteFile(cfgFile, []byte(full), 0o644); err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	cmd := exec.Command(agentBin, "run", "--config.file="+cfgFile, "--web.listen-address="+addr, "--log.level="+*logLevel, "--web.enable-lifecycle")
	cmd.Stderr = os.Stderr
	cmd.Env = os.Environ()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	base := "http://" + addr
	if err := waitReady(base); err != nil {
		return err
	}
	fmt.Printf("%d checks of each of %s, %d reloads (%s); PSS in MiB\n\n", n, strings.Join(names, ", "), reloads, mode)
	fmt.Printf("| reloads | agent | %s |\n|---:|---:|%s\n", strings.Join(names, " | "), strings.Repeat("---:|", len(names)))
	report(0, cmd.Process.Pid)
	began := time.Now()
	for i := 1; i <= reloads; i++ {
		if mode == "churn" {
			cfg := empty
			if i%2 == 0 {
				cfg = full
			}
			if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
				return err
			}
		}
		if err := reload(base); err != nil {
			return fmt.Errorf("reload %d: %w", i, err)
		}
		if i%every == 0 {
			report(i, cmd.Process.Pid)
		}
	}
	fmt.Printf("\n%d reloads in %s\n", reloads, time.Since(began).Round(time.Second))
	return nil
}

func checksFor(plugins []string, n int, logFile string) string {
	var b strings.Builder
	for _, p := range plugins {
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "  - {name: %s_%d, plugin: %s, schedule: \"@every 1h\", config: {path: %s}}\n", p, i, p, logFile)
		}
	}
	return b.String()
}

// report prints the PSS of the agent and of each plugin process (by the
// binary's name), after a GC settles: settle time is part of "memory
// after", as an operator's `ps` would see it.
func report(reloads, agentPID int) {
	time.Sleep(time.Second)
	byName := map[string]int64{}
	for _, p := range benchproc.Descendants(agentPID) {
		name := strings.TrimPrefix(benchproc.Exe(p), "pbxwatch-plugin-")
		byName[name] += benchproc.PSSKiB(p)
	}
	var names []string
	for k := range byName {
		names = append(names, k)
	}
	sort.Strings(names)
	cols := []string{fmt.Sprintf("%.1f", float64(benchproc.PSSKiB(agentPID))/1024)}
	for _, n := range names {
		cols = append(cols, fmt.Sprintf("%.1f", float64(byName[n])/1024))
	}
	fmt.Printf("| %d | %s |\n", reloads, strings.Join(cols, " | "))
}

func reload(base string) error {
	resp, err := http.Post(base+"/-/reload", "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	return nil
}

func waitReady(base string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("agent not ready")
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
