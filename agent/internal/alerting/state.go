package alerting

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// stateFileName is the file in the state dir that holds the alerts.
const stateFileName = "alerts.json"

const stateVersion = 1

type stateFile struct {
	Version int      `json:"version"`
	Alerts  []*alert `json:"alerts"`
}

// loadState reads the saved alerts; a missing file is an empty state.
func loadState(path string) ([]*alert, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read alert state: %w", err)
	}
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("alert state %s is corrupt: %w", path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("alert state %s has version %d, want %d", path, st.Version, stateVersion)
	}
	var out []*alert
	for _, a := range st.Alerts {
		if a == nil || len(a.Labels) == 0 || a.ActiveAt.IsZero() {
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

// saveState writes the alerts atomically: a temp file in the same
// directory, synced, renamed over the old one, and the directory synced,
// so a crash leaves either the old state or the new, never half of one.
// When the file already holds exactly this state it is left alone: no
// write, no fsync.
func saveState(path string, alerts []*alert) error {
	b, err := json.MarshalIndent(stateFile{Version: stateVersion, Alerts: alerts}, "", " ")
	if err != nil {
		return fmt.Errorf("encode alert state: %w", err)
	}
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+stateFileName+".*")
	if err != nil {
		return fmt.Errorf("save alert state: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("save alert state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save alert state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save alert state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save alert state: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
