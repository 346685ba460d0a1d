package pluginhost

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// staleAge is how old a socket directory with no live socket must be before
// it is taken as left behind: a plugin starting right now has made its
// directory but not yet its socket.
const staleAge = time.Minute

// CleanStaleSocketDirs removes the socket directories (os.TempDir()/
// pbxwatch-plugin-*) that plugins of an agent killed with SIGKILL left
// behind: ours (same uid), older than a minute, and holding no socket that
// still accepts a connection, so the directories of a running agent or
// `pbxwatch check` are kept. It returns how many it removed.
func CleanStaleSocketDirs(log *slog.Logger) int {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), socketDirPrefix+"*"))
	removed := 0
	for _, dir := range dirs {
		if !stale(dir) {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			log.Warn("cannot remove a stale plugin socket directory", "dir", dir, "err", err)
			continue
		}
		removed++
	}
	if removed > 0 {
		log.Info("removed plugin socket directories left by an agent that was killed", "count", removed)
	}
	return removed
}

func stale(dir string) bool {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() || time.Since(fi.ModTime()) < staleAge {
		return false
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != os.Getuid() {
		return false
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.Type()&os.ModeSocket == 0 {
			continue
		}
		c, err := net.DialTimeout("unix", filepath.Join(dir, e.Name()), time.Second)
		if err == nil {
			c.Close()
			return false // a live plugin
		}
	}
	return true
}
