package tailfile

import (
	"fmt"
	"os/user"
	"path/filepath"
	"strconv"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// The diagnoses every log plugin makes about its file, under the plugin's
// own codes. What differs between plugins (where their log usually
// is, how its readers are set up) the plugin passes in.

// StateCorrupt is the result of a run whose saved state cannot be trusted:
// reading is paused rather than guessed.
func (s *Session) StateCorrupt(err error) *sdk.Result {
	res := &sdk.Result{Summary: "cannot read the saved position " + s.file}
	res.Diagnose(sdk.Diagnosis{
		Code: s.Codes.StateCorrupt, Severity: sdk.SeverityCritical,
		Message: fmt.Sprintf("The saved position %s cannot be read (%v); reading is paused rather than guessing, which would count %s twice or skip them.", s.file, err, s.Unit),
		Remediation: []string{
			"Look at the file; if it cannot be repaired, delete it: the next run starts the log afresh (at start_at) and the counters restart from zero.",
		},
		Details: map[string]string{"state_file": s.file},
	})
	return res
}

// refusedResult diagnoses a log path that is not a regular file, or a
// symlink out of its directory: the run reads nothing and says what is
// there.
func (s *Session) refusedResult(e *RefusedError) *sdk.Result {
	res := &sdk.Result{Summary: "refusing to read " + e.Path + ": it is " + e.What}
	d := sdk.Diagnosis{Code: s.Codes.NotARegularFile, Severity: sdk.SeverityCritical,
		Message: e.Error() + "; " + s.Name + " reads regular files only (a FIFO would block every run, a device never ends).",
		Remediation: []string{
			"Point `path:` at the log file itself (" + s.Where + ").",
			"If something replaced the log with " + e.What + ", find out what (`ls -l " + e.Path + "`) and restore a plain file.",
		},
		Details: map[string]string{"file": e.Path, "found": e.What}}
	if e.Symlink {
		d.Code = s.Codes.SymlinkRefused
		d.Message = e.Error() + "; following it would let a log path expose any file the service user can read."
		d.Remediation = []string{"Point `path:` at the real log file, or move the link's target into the log's directory."}
		if s.FollowSymlinksKey {
			d.Remediation = append(d.Remediation, "If the link is intended, set `follow_symlinks: true` in the check's config.")
		}
	}
	res.Diagnose(d)
	return res
}

// FileMissing diagnoses a path that does not exist; steps say where the
// plugin's log is written and why it may not be.
func (s *Session) FileMissing(steps []string) sdk.Diagnosis {
	return sdk.Diagnosis{
		Code: s.Codes.FileMissing, Severity: sdk.SeverityWarning,
		Message:     fmt.Sprintf("%s does not exist.", s.path),
		Remediation: steps,
		Details:     map[string]string{"file": s.path},
	}
}

// PermissionDenied diagnoses a log the service user may not read: who
// that user is and the file's mode, owner and group (and its directory's
// with dirDetails) as evidence; why and steps come from the plugin, which
// knows how its log's readers are set up.
func (s *Session) PermissionDenied(perm *PermissionError, why string, steps []string, dirDetails bool) sdk.Diagnosis {
	details := map[string]string{"file": s.path, "error": perm.Error()}
	who := "the pbxwatch service user"
	if u, err := user.Current(); err == nil {
		who = fmt.Sprintf("user %s (uid %s)", u.Username, u.Uid)
		details["user"] = u.Username
	}
	paths := map[string]string{"": s.path}
	if dirDetails {
		paths["dir_"] = filepath.Dir(s.path)
	}
	for key, p := range paths {
		if mode, owner, group, ok := Ownership(p); ok {
			details[key+"mode"], details[key+"owner"], details[key+"group"] = mode, owner, group
		}
	}
	msg := fmt.Sprintf("%s cannot read %s: permission denied.", who, s.path)
	if why != "" {
		msg += " " + why
	}
	return sdk.Diagnosis{Code: s.Codes.PermissionDenied, Severity: sdk.SeverityCritical,
		Message: msg, Remediation: steps, Details: details}
}

// ServiceUser is the name of the user the plugin runs as, for remedies
// that name it ("pbxwatch" when it cannot be told).
func ServiceUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "pbxwatch"
}

// PreviousFileLost turns each note of a poll into an info diagnosis with
// the plugin's advice on rotation settings.
func (s *Session) PreviousFileLost(res *sdk.Result, pr Result, advice string) {
	for _, n := range pr.Notes {
		res.Diagnose(sdk.Diagnosis{Code: s.Codes.PreviousFileLost, Severity: sdk.SeverityInfo, Message: n,
			Remediation: []string{advice},
			Details:     map[string]string{"file": s.path}})
	}
}

// Behind diagnoses a run that stopped at its deadline before the end of
// the file, lag bytes short of it.
func (s *Session) Behind(res *sdk.Result, pr Result, lag int64) {
	if !pr.Stopped {
		return
	}
	res.Diagnose(sdk.Diagnosis{Code: s.Codes.Behind, Severity: sdk.SeverityInfo,
		Message:     fmt.Sprintf("The run ended before reaching the end of %s; the next runs read the rest (%d bytes behind).", s.path, lag),
		Remediation: []string{"Nothing to do if it catches up; otherwise raise the check's timeout or run it more often."},
		Details:     map[string]string{"file": s.path, "lag_bytes": strconv.FormatInt(lag, 10)}})
}

// Unterminated diagnoses a file at the path that ends in an overlong line
// still without its newline: it is neither counted yet nor read again,
// and the summary would otherwise say "0 new lines" for a file that grows.
// It returns the phrase for the summary ("" when there is none).
func (s *Session) Unterminated(res *sdk.Result, pr Result) string {
	if pr.Unterminated == 0 {
		return ""
	}
	size := humanBytes(pr.Unterminated)
	res.Diagnose(sdk.Diagnosis{Code: s.Codes.UnterminatedLine, Severity: sdk.SeverityInfo,
		Message: fmt.Sprintf("%s ends in a line of %s without a newline, longer than max_line_bytes, and still growing: it is counted once, cut, when its newline comes; what was scanned of it is not read again.", s.path, size),
		Remediation: []string{
			"Nothing to do if the writer ends the line; a log that never writes a newline is not a line-based log: point `path:` at the right file.",
		},
		Details: map[string]string{"file": s.path, "unterminated_bytes": strconv.FormatInt(pr.Unterminated, 10)}})
	return "an unterminated line of " + size + " is growing"
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
