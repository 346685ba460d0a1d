package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"
)

// child is a process the demo started.
type child struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startChild(name string, args ...string) (*child, error) {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(c.done) }()
	return c, nil
}

// stop sends SIGTERM and waits, then SIGKILL.
func (c *child) stop(grace time.Duration) {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

func startAgent(ctx context.Context, bin, config string) (*child, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s missing: run `make build` first (make demo does)", bin)
	}
	c, err := startChild(bin, "run", "--config.file="+config, "--web.listen-address="+agentAddr)
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, "http://"+agentAddr+"/-/ready", c.done); err != nil {
		return nil, fmt.Errorf("agent did not become ready: %w", err)
	}
	return c, nil
}

// startAlertmanager runs Debian's Alertmanager on loopback with a config
// that only collects alerts, or returns nil when it is not installed.
func startAlertmanager(ctx context.Context, dataDir string, log *slog.Logger) (*child, error) {
	bin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		if bin, err = exec.LookPath("alertmanager"); err != nil {
			log.Info("no Alertmanager installed; alerts will not be shown (apt-get install prometheus-alertmanager)")
			return nil, nil
		}
	}
	dir := filepath.Join(dataDir, "alertmanager")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte(`route:
  receiver: demo
  group_by: [alertname, check]
  group_wait: 5s
receivers:
  - name: demo
`), 0o644); err != nil {
		return nil, err
	}
	c, err := startChild(bin, "--config.file="+cfg, "--storage.path="+dir, "--web.listen-address="+alertmanagerAddr, "--cluster.listen-address=", "--log.level=warn")
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, "http://"+alertmanagerAddr+"/-/ready", c.done); err != nil {
		c.stop(time.Second)
		log.Warn("Alertmanager did not start; continuing without it", "err", err)
		return nil, nil
	}
	return c, nil
}

func waitHTTP(ctx context.Context, url string, exited <-chan struct{}) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("process exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready after 30s", url)
}

// withoutAlerting writes a copy of the config without its `alerting:`
// block into dataDir and returns its path.
func withoutAlerting(config, dataDir string) (string, error) {
	b, err := os.ReadFile(config)
	if err != nil {
		return "", err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return "", fmt.Errorf("%s: %w", config, err)
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "alerting" {
			root.Content = append(root.Content[:i], root.Content[i+2:]...)
			break
		}
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dataDir, "demo-without-alerting.yaml")
	return path, os.WriteFile(path, out, 0o644)
}
