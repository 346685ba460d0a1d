package tailfile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// Header starts every log plugin's saved state: the format version, the
// path it is about and the reading position. Plugins embed it in their
// state next to their totals; its JSON keys are those the plugins saved
// before it existed, so saved states stay valid.
type Header struct {
	Version int    `json:"version"`
	Path    string `json:"path"`
	Position
}

func (h *Header) header() *Header { return h }

// Saved is a plugin's saved state: any struct embedding Header.
type Saved interface{ header() *Header }

// Plugin says how a log plugin names its diagnoses and what it reads.
type Plugin struct {
	// Name is the plugin's name, in messages.
	Name string
	// Codes are the plugin's codes of the diagnoses made here, written
	// out in the plugin (a code is a literal where it is emitted, so the
	// runbook test finds every code a plugin can put on an alert).
	Codes Codes
	// Unit is what one line is to the plugin ("lines", "requests").
	Unit string
	// Where says where the log usually is, for the remedy of a refused
	// path ("FreePBX writes /var/log/asterisk/freepbx.log").
	Where string
	// FollowSymlinksKey is true when the plugin has the follow_symlinks
	// key that allows a symlink out of the log's directory.
	FollowSymlinksKey bool
}

// Session is one check's reading of its log, the part every log plugin
// shares: the Tailer, the file its state is saved in, and whether the log
// is new to it. The plugin keeps its state (a struct embedding Header) and
// hands it to Load, Poll and Save.
type Session struct {
	Plugin
	Tailer   *Tailer
	path     string
	stateDir string
	file     string
	fresh    bool
	version  int
}

// Codes are a log plugin's diagnosis codes for what Session diagnoses.
type Codes struct {
	FileMissing, PermissionDenied, StateCorrupt, NotARegularFile, SymlinkRefused,
	PreviousFileLost, Behind, UnterminatedLine string
}

// SessionConfig is what a plugin's config says about the log.
type SessionConfig struct {
	Path, StartAt, StateDir string
	MaxLineBytes            int
	FollowSymlinks          bool
	// Version is the plugin's state format version.
	Version int
}

// NewSession returns the reading of cfg.Path for plugin p.
func NewSession(p Plugin, cfg SessionConfig, log *slog.Logger) *Session {
	t := New(cfg.Path, cfg.StartAt, cfg.MaxLineBytes, log)
	t.FollowSymlinksOut(cfg.FollowSymlinks)
	return &Session{Plugin: p, Tailer: t, path: cfg.Path, stateDir: cfg.StateDir,
		file: StateFile(cfg.StateDir, cfg.Path), version: cfg.Version}
}

// StateFile is where this session's state is saved.
func (s *Session) StateFile() string { return s.file }

// Load fills st from the saved state. With none saved, st is left as the
// caller made it (its Version and Path set) and the log is read as new. A
// state that cannot be trusted is an error: the caller reports it with
// StateCorrupt rather than guess, which would count lines twice or skip
// them.
func (s *Session) Load(st Saved) error {
	b, err := os.ReadFile(s.file)
	if errors.Is(err, os.ErrNotExist) {
		h := st.header()
		h.Version, h.Path = s.version, s.path
		s.fresh = true
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, st); err != nil {
		return fmt.Errorf("%s: %w", s.file, err)
	}
	h := st.header()
	if h.Version != s.version {
		return fmt.Errorf("%s: version %d, want %d", s.file, h.Version, s.version)
	}
	if err := h.Position.validate(); err != nil {
		return fmt.Errorf("%s: %w", s.file, err)
	}
	s.fresh = false
	return nil
}

// Poll reads what was written since the last poll into sink, advancing
// st's position and c. A file the service user may not read is not an
// error: Result.Denied says so, and nothing is read.
func (s *Session) Poll(ctx context.Context, st Saved, c *Counters, sink Sink) (Result, error) {
	res, err := s.Tailer.Poll(&st.header().Position, c, s.fresh, sink, Stopper(ctx))
	var perm *PermissionError
	if errors.As(err, &perm) {
		res.Denied = perm
		return res, nil
	}
	return res, err
}

// Save ends a run: it saves st (with the counts that moved with its
// position) unless the file could not be read at all. A refused path comes
// back as the run's result (a diagnosis saying what is there); any other reading error as the run's error,
// after saving the lines read before it.
func (s *Session) Save(st Saved, pr Result, pollErr error) (*sdk.Result, error) {
	var refused *RefusedError
	if errors.As(pollErr, &refused) {
		return s.refusedResult(refused), nil
	}
	if pollErr != nil {
		if err := SaveJSON(s.file, st); err != nil {
			s.Tailer.log.Error("saving position failed", "err", err)
		}
		return nil, fmt.Errorf("reading %s: %w", s.path, pollErr)
	}
	if pr.Denied != nil {
		return nil, nil
	}
	s.fresh = false
	if err := SaveJSON(s.file, st); err != nil {
		return nil, fmt.Errorf("%w (state dir %s must be writable by the service user)", err, s.stateDir)
	}
	return nil, nil
}

// Offset is where reading stands in the file at the path (0 when it is
// missing or new), for the offset gauge.
func (s *Session) Offset(st Saved, pr Result) int64 {
	h := st.header()
	if h.File == nil || pr.Missing {
		return 0
	}
	return h.Offset
}
