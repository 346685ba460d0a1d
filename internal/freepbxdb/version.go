package freepbxdb

import (
	"strconv"
	"strings"

	"github.com/pbxwatch/pbxwatch/internal/freepbxdb/facts"
)

// VersionLess compares FreePBX module versions numerically part by part
// ("17.0.10" > "17.0.8"); a part's trailing letters ("1alpha") are ignored.
func VersionLess(a, b string) bool {
	pa, pb := versionParts(a), versionParts(b)
	for i := range max(len(pa), len(pb)) {
		x, y := 0, 0
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if x != y {
			return x < y
		}
	}
	return false
}

func versionParts(v string) []int {
	var out []int
	for _, p := range strings.Split(strings.TrimSpace(v), ".") {
		n := 0
		for n < len(p) && p[n] >= '0' && p[n] <= '9' {
			n++
		}
		i, _ := strconv.Atoi(p[:n])
		out = append(out, i)
	}
	return out
}

// VersionMajor is the first number of a module version.
func VersionMajor(v string) int {
	if p := versionParts(v); len(p) > 0 {
		return p[0]
	}
	return 0
}

// FixedAPIVersion is the first api module release without CVE-2026-44237.
const FixedAPIVersion = facts.FixedAPIVersion

// AcceptsAnySecret reports whether api module version v has
// CVE-2026-44237: 17.x before 17.0.8 validates no client secret.
func AcceptsAnySecret(v string) bool {
	return VersionMajor(v) == 17 && VersionLess(v, FixedAPIVersion)
}
