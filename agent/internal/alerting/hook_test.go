package alerting

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestHookStartsTheManagerAtTheFirstApply(t *testing.T) {
	stateDir := t.TempDir()
	h := NewHook(nil, prometheus.NewRegistry(), "http://pbx1.example:9851/")
	h.Observe(whmcs, critical("whmcs.invalid_ip", "refused"), t0) // before any config: dropped
	if h.Manager() != nil {
		t.Fatal("a manager before the first Apply")
	}
	h.Stop() // nothing to stop: returns

	if err := h.Apply(Config{}, stateDir, []CheckInfo{whmcs}); err != nil {
		t.Fatal(err)
	}
	m := h.Manager()
	if m == nil {
		t.Fatal("no manager after Apply")
	}
	h.Observe(whmcs, critical("whmcs.invalid_ip", "refused"), t0)
	held := m.Held("whmcs_auth")
	if len(held) != 1 || held[0].Labels["code"] != "whmcs.invalid_ip" {
		t.Fatalf("held %+v", held)
	}
	if err := h.Apply(Config{ExternalLabels: map[string]string{"site": "a"}}, t.TempDir(), []CheckInfo{whmcs}); err != nil {
		t.Fatal(err)
	}
	if h.Manager() != m {
		t.Error("a reload made a new manager (its state dir and held alerts would be lost)")
	}
	h.Stop()
	if _, err := os.Stat(filepath.Join(stateDir, "alerting")); err != nil {
		t.Errorf("the manager's state is not under state_dir/alerting: %v", err)
	}
}
