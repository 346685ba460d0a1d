package nspawntest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Mirror returns the first http(s) URI of the machine's apt sources that
// serves suite (deb822 .sources files first, then sources.list), so the
// bootstrap uses whatever mirror the machine is configured for and no host
// name is written anywhere. A "<suite>-security" or "-updates" entry only
// counts when no entry names the suite itself.
func Mirror(suite string) (string, error) { return mirrorIn("/", suite) }

// mirrorIn is Mirror for the apt sources under root (tests).
func mirrorIn(root, suite string) (string, error) {
	var entries []sourceEntry
	files, _ := filepath.Glob(filepath.Join(root, "etc/apt/sources.list.d/*.sources"))
	for _, f := range files {
		e, err := readDeb822(f)
		if err != nil {
			return "", err
		}
		entries = append(entries, e...)
	}
	lists, _ := filepath.Glob(filepath.Join(root, "etc/apt/sources.list.d/*.list"))
	for _, f := range append([]string{filepath.Join(root, "etc/apt/sources.list")}, lists...) {
		e, err := readOneLine(f)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		entries = append(entries, e...)
	}
	for _, exact := range []bool{true, false} {
		for _, e := range entries {
			if !slices.Contains(e.types, "deb") || !e.servesSuite(suite, exact) {
				continue
			}
			for _, u := range e.uris {
				if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
					return strings.TrimRight(u, "/"), nil
				}
			}
		}
	}
	return "", fmt.Errorf("no http(s) Debian mirror in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list")
}

type sourceEntry struct {
	types, uris, suites []string
}

// servesSuite: exact wants "bookworm" itself; otherwise "bookworm-updates"
// also counts (same archive, same mirror), "bookworm-security" does not.
func (e sourceEntry) servesSuite(suite string, exact bool) bool {
	for _, s := range e.suites {
		if s == suite || (!exact && s == suite+"-updates") {
			return true
		}
	}
	return false
}

// readDeb822 reads the stanzas of a deb822 .sources file.
func readDeb822(path string) ([]sourceEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []sourceEntry
	cur := sourceEntry{}
	flush := func() {
		if len(cur.uris) > 0 {
			out = append(out, cur)
		}
		cur = sourceEntry{}
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "types":
			cur.types = fields
		case "uris":
			cur.uris = fields
		case "suites":
			cur.suites = fields
		case "enabled":
			if strings.EqualFold(strings.TrimSpace(val), "no") {
				cur.types = nil
			}
		}
	}
	flush()
	return out, sc.Err()
}

// readOneLine reads "deb [options] URI suite components" lines.
func readOneLine(path string) ([]sourceEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []sourceEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || fields[0] != "deb" {
			continue
		}
		fields = fields[1:]
		if strings.HasPrefix(fields[0], "[") {
			for len(fields) > 0 && !strings.HasSuffix(fields[0], "]") {
				fields = fields[1:]
			}
			if len(fields) > 0 {
				fields = fields[1:]
			}
		}
		if len(fields) < 2 {
			continue
		}
		out = append(out, sourceEntry{types: []string{"deb"}, uris: fields[:1], suites: fields[1:2]})
	}
	return out, sc.Err()
}
