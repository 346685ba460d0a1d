// Command scripted is a test plugin whose behaviour a test controls: each run
// reads a script file (YAML) saying what to return or how to misbehave. It
// lets the agent's tests cover panics, hangs, crashes and stdout pollution
// through real processes.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pbxwatch/pbxwatch/sdk"
)

type config struct {
	ScriptFile string     `yaml:"script_file"`
	Secret     sdk.Secret `yaml:"secret"`
	// Token is a credential the plugin forgets to register (no
	// sdk.LoadSecret): only the agent's scrubbing keeps it out of outputs.
	Token string `yaml:"token"`
	// Reject makes Configure fail with this message (to test validation).
	Reject string `yaml:"reject"`
	// ConfigureDelay makes Configure take this long, so tests can see
	// what waits for a loaded config (systemd's READY).
	ConfigureDelay time.Duration `yaml:"configure_delay"`
}

type script struct {
	// Behave: ok (default), panic, exit, hang (ignores ctx), hang_child
	// (ignores ctx, with a child process), sleep (honours ctx), stdout,
	// error, leak_secret, leak_token, hostile_text, child_fds (the summary
	// lists the descriptors and TLS variables a child process inherits).
	Behave    string          `yaml:"behave"`
	Sleep     time.Duration   `yaml:"sleep"`
	Status    string          `yaml:"status"`
	Summary   string          `yaml:"summary"`
	Diagnoses []sdk.Diagnosis `yaml:"diagnoses"`
	Metrics   []struct {
		Name    string            `yaml:"name"`
		Help    string            `yaml:"help"`
		Counter bool              `yaml:"counter"`
		Labels  map[string]string `yaml:"labels"`
		Value   float64           `yaml:"value"`
	} `yaml:"metrics"`
	Events []struct {
		Name     string            `yaml:"name"`
		Severity string            `yaml:"severity"`
		Message  string            `yaml:"message"`
		Labels   map[string]string `yaml:"labels"`
	} `yaml:"events"`
	// PIDFile receives the child's pid in hang_child, so tests can check it
	// is gone afterwards.
	PIDFile string `yaml:"pid_file"`
}

type checker struct {
	cfg      config
	stateDir string
	runs     int
}

func (c *checker) Configure(_ context.Context, cfg *sdk.Config) error {
	if err := cfg.Decode(&c.cfg); err != nil {
		return err
	}
	c.stateDir = cfg.StateDir
	time.Sleep(c.cfg.ConfigureDelay)
	if c.cfg.Reject != "" {
		return fmt.Errorf("%s", c.cfg.Reject)
	}
	if c.cfg.Secret != "" {
		if _, err := sdk.LoadSecret("secret", c.cfg.Secret, ""); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) Check(ctx context.Context) (*sdk.Result, error) {
	c.runs++
	if err := c.countInState(); err != nil {
		return nil, err
	}
	var s script
	if c.cfg.ScriptFile != "" {
		b, err := os.ReadFile(c.cfg.ScriptFile)
		if err != nil {
			return nil, fmt.Errorf("read script: %w", err)
		}
		if err := yaml.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("parse script: %w", err)
		}
	}
	switch s.Behave {
	case "panic":
		panic("scripted panic")
	case "exit":
		sdk.Logger().Error("scripted crash")
		os.Exit(7)
	case "hang":
		time.Sleep(time.Hour)
	case "hang_child":
		cmd := exec.Command("sleep", "3600")
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		if s.PIDFile != "" {
			_ = os.WriteFile(s.PIDFile, []byte(fmt.Sprint(cmd.Process.Pid)), 0o644)
		}
		time.Sleep(time.Hour)
	case "sleep":
		select {
		case <-time.After(s.Sleep):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	case "child_fds":
		out, err := exec.CommandContext(ctx, "sh", "-c",
			`ls -l /proc/self/fd/; echo "offer=${PBXWATCH_PLUGIN_TLS_FD-unset} keys=$(env | grep -c 'PRIVATE KEY')"`).Output()
		if err != nil {
			return nil, fmt.Errorf("list a child's descriptors: %w", err)
		}
		return &sdk.Result{Summary: string(out)}, nil
	case "stdout":
		fmt.Println("some garbage on stdout")
	case "error":
		return nil, fmt.Errorf("scripted error")
	case "hostile_text":
		// What a hostile server makes a plugin return: Latin-1 and binary
		// bytes, megabytes of text, a huge label value.
		big := "caf\xe9 \x00\xff " + strings.Repeat("x", 1<<20)
		res := &sdk.Result{Summary: big}
		res.Diagnose(sdk.Diagnosis{Code: "scripted.hostile", Severity: sdk.SeverityCritical, Message: big,
			Remediation: []string{big}, Details: map[string]string{"body": big}})
		res.AddGauge("scripted_info", "", 1, map[string]string{"version": big})
		res.Events = append(res.Events, sdk.Event{Name: "line", Message: big, Labels: map[string]string{"line": big}})
		sdk.Logger().Info("hostile " + big)
		return res, nil
	case "leak_token":
		sdk.Logger().Debug("token in use", "token", c.cfg.Token)
		return nil, fmt.Errorf("server rejected token %s", c.cfg.Token)
	case "leak_secret":
		sdk.Logger().Info("about to leak", "secret", c.cfg.Secret.Reveal())
		return nil, fmt.Errorf("failed with secret %s", c.cfg.Secret.Reveal())
	}
	return c.result(s)
}

// countInState keeps a run counter in the state dir, as a plugin with
// persisted state (a log position) would: tests use it to see whose state a
// run moved.
func (c *checker) countInState() error {
	p := filepath.Join(c.stateDir, "runs")
	n := 0
	if b, err := os.ReadFile(p); err == nil {
		n, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	return os.WriteFile(p, []byte(strconv.Itoa(n+1)), 0o600)
}

func (c *checker) result(s script) (*sdk.Result, error) {
	res := &sdk.Result{Summary: s.Summary}
	if s.Status != "" {
		st, err := sdk.ParseStatus(s.Status)
		if err != nil {
			return nil, err
		}
		res.Status = st
	}
	res.Diagnoses = s.Diagnoses
	for _, m := range s.Metrics {
		if m.Counter {
			res.AddCounter(m.Name, m.Help, m.Value, m.Labels)
		} else {
			res.AddGauge(m.Name, m.Help, m.Value, m.Labels)
		}
	}
	for _, e := range s.Events {
		res.Events = append(res.Events, sdk.Event{Name: e.Name, Severity: sdk.Severity(e.Severity), Message: e.Message, Labels: e.Labels, Time: time.Now()})
	}
	res.AddCounter("scripted_runs_total", "Runs of this plugin process.", float64(c.runs), nil)
	return res, nil
}

func main() { sdk.Serve(&checker{}) }
