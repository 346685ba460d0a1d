package tailfile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// FileID identifies a file across renames, restarts and inode reuse: the
// device and inode say which file it is while it exists; the fingerprint of
// its first bytes tells a truncated and re-written file (copytruncate) or a
// new file that got a freed inode number from the one we read.
type FileID struct {
	Dev   uint64 `json:"dev"`
	Ino   uint64 `json:"ino"`
	FPLen int    `json:"fp_len"`
	FP    string `json:"fp"` // hex SHA-256 of the first FPLen bytes
}

// fpMax is how many leading bytes the fingerprint covers: a few log
// lines, each starting with a timestamp.
const fpMax = 1024

func fingerprint(head []byte) string {
	sum := sha256.Sum256(head)
	return hex.EncodeToString(sum[:16])
}

// Position is where reading stands. Callers embed it in the state they
// save, next to their totals, so both move together: a line is in the
// totals if and only if the saved offset is past it.
type Position struct {
	// File is the file the offset is in, nil when the path has not existed
	// yet (a file appearing later is then read from its start).
	File *FileID `json:"file,omitempty"`
	// Offset is the end of the last complete line read in File.
	Offset int64 `json:"offset"`
	// Scanned is how many bytes after Offset are known to hold no newline,
	// set while an overlong line is still being written, so they are not
	// read again.
	Scanned int64 `json:"scanned,omitempty"`
	// Known fingerprints the rotated files whose content was read (or
	// predates us); SibSig is the listing they were taken from.
	Known  []KnownHead `json:"known,omitempty"`
	SibSig string      `json:"sibling_sig,omitempty"`
	// Rotated are rotated files still being read: a writer keeps writing
	// to a renamed file until it reopens the path, so a rotated file is
	// read until it has not changed for settle.
	Rotated []RotatedFile `json:"rotated,omitempty"`
}

// RotatedFile is a rotated file still being read, and where.
type RotatedFile struct {
	File    FileID `json:"file"`
	Offset  int64  `json:"offset"`
	Scanned int64  `json:"scanned,omitempty"`
	// Unseen counts the polls that did not find it (a listing taken
	// during renames can miss a file); it is given up after maxUnseen.
	Unseen int `json:"unseen,omitempty"`
}

// Counters are what the Tailer counts about the file itself; callers embed
// them in their saved totals.
type Counters struct {
	ReadBytes   uint64 `json:"read_bytes"`
	Rotations   uint64 `json:"rotations"`
	Truncations uint64 `json:"truncations"`
}

// StateFile is where the state of the log at path is kept: one file per
// path, so a config pointing at another log starts afresh.
func StateFile(dir, path string) string {
	sum := sha256.Sum256([]byte(path))
	return filepath.Join(dir, "position-"+hex.EncodeToString(sum[:8])+".json")
}

// SaveJSON writes v as JSON to file so that a crash at any moment leaves
// either the old or the new content: a temporary file, fsync, rename over
// the old, fsync of the directory (which makes the rename itself durable).
func SaveJSON(file string, v any) error {
	b, err := json.Marshal(v)
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

// validate refuses a loaded position no reading could start from: it
// would fail every run (a negative offset is "seek: invalid argument"
// forever) instead of saying the state is damaged.
func (p *Position) validate() error {
	switch {
	case p.Offset < 0:
		return fmt.Errorf("offset %d is negative", p.Offset)
	case p.Scanned < 0:
		return fmt.Errorf("scanned %d is negative", p.Scanned)
	case p.File != nil && (p.File.FPLen < 0 || p.File.FPLen > fpMax):
		return fmt.Errorf("fp_len %d is outside 0..%d", p.File.FPLen, fpMax)
	}
	for _, r := range p.Rotated {
		if r.Offset < 0 || r.Scanned < 0 || r.File.FPLen < 0 || r.File.FPLen > fpMax {
			return fmt.Errorf("rotated file %d: offset %d, scanned %d, fp_len %d out of range", r.File.Ino, r.Offset, r.Scanned, r.File.FPLen)
		}
	}
	for _, k := range p.Known {
		if k.Len < 0 || k.Len > fpMax {
			return fmt.Errorf("known head length %d is outside 0..%d", k.Len, fpMax)
		}
	}
	return nil
}
