package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// fileID identifies a file across renames, restarts and inode reuse: the
// device and inode say which file it is while it exists; the fingerprint of
// its first bytes tells a truncated and re-written file (copytruncate) or a
// new file that got a freed inode number from the one we read.
type fileID struct {
	Dev   uint64 `json:"dev"`
	Ino   uint64 `json:"ino"`
	FPLen int    `json:"fp_len"`
	FP    string `json:"fp"` // hex SHA-256 of the first FPLen bytes
}

// fpMax is how many leading bytes the fingerprint covers: a few FreePBX
// lines, each starting with a timestamp.
const fpMax = 1024

func fingerprint(head []byte) string {
	sum := sha256.Sum256(head)
	return hex.EncodeToString(sum[:16])
}

// totals are the plugin's cumulative counters. They are saved in the same
// file as the position, so they move together: a line is in the totals if
// and only if the saved offset is past it.
type totals struct {
	Lines       map[string]uint64 `json:"lines"`   // by level
	Matches     map[string]uint64 `json:"matches"` // by pattern
	ReadBytes   uint64            `json:"read_bytes"`
	Rotations   uint64            `json:"rotations"`
	Truncations uint64            `json:"truncations"`
	Oversized   uint64            `json:"oversized"`
}

// state is what survives a restart of the plugin or the host.
type state struct {
	Version int    `json:"version"`
	Path    string `json:"path"`
	// File is the file the offset is in, nil when the path has not existed
	// yet (a file appearing later is then read from its start).
	File *fileID `json:"file,omitempty"`
	// Offset is the end of the last complete line read in File.
	Offset int64 `json:"offset"`
	// Scanned is how many bytes after Offset are known to hold no newline,
	// set while an overlong line is still being written, so they are not
	// read again.
	Scanned int64 `json:"scanned,omitempty"`
	// Known fingerprints the rotated files whose content was read (or
	// predates us); SibSig is the listing they were taken from.
	Known  []knownHead `json:"known,omitempty"`
	SibSig string      `json:"sibling_sig,omitempty"`
	Totals totals      `json:"totals"`
}

const stateVersion = 1

// stateFile is where the state of the log at path is kept: one file per
// path, so a config pointing at another log starts afresh.
func stateFile(dir, path string) string {
	sum := sha256.Sum256([]byte(path))
	return filepath.Join(dir, "position-"+hex.EncodeToString(sum[:8])+".json")
}

// loadState returns the saved state, or nil when there is none.
func loadState(file string) (*state, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("%s: version %d, want %d", file, st.Version, stateVersion)
	}
	st.Totals.init()
	return &st, nil
}

func (t *totals) init() {
	if t.Lines == nil {
		t.Lines = map[string]uint64{}
	}
	if t.Matches == nil {
		t.Matches = map[string]uint64{}
	}
}

// saveState writes the state so that a crash at any moment leaves either
// the old or the new one: a temporary file, fsync, rename over the old,
// fsync of the directory (which makes the rename itself durable).
func saveState(file string, st *state) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	dir := filepath.Dir(file)
	tmp, err := os.CreateTemp(dir, ".position-*")
	if err != nil {
		return fmt.Errorf("save position: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("save position: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save position: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save position: %w", err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("save position: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("save position: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("save position: %w", err)
	}
	return nil
}
