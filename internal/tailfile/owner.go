package tailfile

import (
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// Ownership describes who may read path, for permission diagnoses: its
// permission bits and its owner's and group's names (their numbers when the
// names are unknown here). ok is false when path cannot be stat'ed.
func Ownership(path string) (mode, owner, group string, ok bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", "", "", false
	}
	mode = fi.Mode().Perm().String()
	if sys, isUnix := fi.Sys().(*syscall.Stat_t); isUnix {
		owner, group = userName(sys.Uid), groupName(sys.Gid)
	}
	return mode, owner, group, true
}

func userName(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return u.Username
	}
	return id
}

func groupName(gid uint32) string {
	id := strconv.FormatUint(uint64(gid), 10)
	if g, err := user.LookupGroupId(id); err == nil {
		return g.Name
	}
	return id
}
