package tailfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// RefusedError marks a log path that is not something to tail: not a
// regular file (a FIFO would block every read until a writer came; a device
// never ends), or a symlink out of the log's directory (which would let a
// log path expose any file the service user can read).
type RefusedError struct {
	Path string
	// What is there, for the diagnosis: "a named pipe (FIFO)", "a symlink
	// to /etc/shadow, outside /var/log/asterisk".
	What string
	// Symlink is true when the refusal is about where a symlink points.
	Symlink bool
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular log file", e.Path, e.What)
}

// FollowSymlinksOut lets the tailer follow a log path that is a symlink
// to a file outside the path's directory (`follow_symlinks: true`).
func (t *Tailer) FollowSymlinksOut(ok bool) { t.symlinksOut = ok }

// openLog opens path for reading without ever blocking (O_NONBLOCK: a
// FIFO would otherwise wait for a writer) and refuses anything but a
// regular file, and a symlink out of the directory unless allowed.
func (t *Tailer) openLog(path string) (*os.File, error) {
	if err := t.checkSymlink(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &RefusedError{Path: path, What: kind(fi.Mode())}
	}
	return f, nil
}

func (t *Tailer) checkSymlink(path string) error {
	li, err := os.Lstat(path)
	if err != nil || li.Mode()&fs.ModeSymlink == 0 || t.symlinksOut {
		return nil // a missing path is handled by the caller's open
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil // dangling: the open reports it missing
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(path))
	if err != nil {
		dir = filepath.Dir(path)
	}
	if filepath.Dir(target) != dir {
		return &RefusedError{Path: path, Symlink: true,
			What: fmt.Sprintf("a symlink to %s, outside %s", target, filepath.Dir(path))}
	}
	return nil
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m.IsDir():
		return "a directory"
	}
	return "not a regular file (" + m.Type().String() + ")"
}
