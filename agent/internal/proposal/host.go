package proposal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/freepbxdb/facts"
)

// Paths on a FreePBX host, as FreePBX installs itself.
const (
	defaultFPBXLog = "/var/log/asterisk/freepbx.log"
	defaultWebRoot = "/var/www/html"
)

// Bounds on what the freepbx plugin's detect mode may answer and take.
const (
	maxFactsBytes = 1 << 20
	detectTimeout = 45 * time.Second
)

// Host is what init found on the host: FreePBX's database facts (read by
// the freepbx plugin), FreePBX's version, its log file, the asterisk group.
type Host struct {
	FreePBX     facts.Facts
	Version     string // FreePBX's (framework module's) version
	VersionFrom string
	LogFile     string
	LogFrom     string
	Group       *UnixGroup // nil: no asterisk group
}

// UnixGroup is a line of /etc/group.
type UnixGroup struct {
	Name, GID string
	Members   []string
}

// Detect looks at the host whose filesystem is under root, read-only.
// FreePBX's database is read by the freepbx plugin's detect mode (found in
// pluginDir), so that the agent links no database driver.
func Detect(ctx context.Context, root, pluginDir string) *Host {
	h := &Host{}
	h.FreePBX = freepbxFacts(ctx, root, pluginDir)
	if h.FreePBX.Framework.Installed {
		h.Version, h.VersionFrom = h.FreePBX.Framework.Version, "the framework module's version in the modules table"
	}
	if h.Version == "" {
		h.versionFromModuleXML(root)
	}
	h.LogFile, h.LogFrom = defaultFPBXLog, "FreePBX's default"
	if v := h.FreePBX.Settings["FPBX_LOG_FILE"]; v != "" {
		h.LogFile, h.LogFrom = v, "Advanced Setting FPBX_LOG_FILE"
	}
	h.Group = readGroup(filepath.Join(root, "/etc/group"), "asterisk")
	return h
}

// freepbxFacts asks the freepbx plugin. Without a freepbx.conf there is
// nothing to ask; a plugin that cannot answer leaves the database unread,
// and says why.
func freepbxFacts(ctx context.Context, root, pluginDir string) facts.Facts {
	if _, err := os.Stat(filepath.Join(root, facts.ConfPath)); errors.Is(err, fs.ErrNotExist) {
		return facts.Facts{ConfMissing: true, ConfError: err.Error()}
	}
	f, err := askPlugin(ctx, root, filepath.Join(pluginDir, "pbxwatch-plugin-freepbx"))
	if err != nil {
		return facts.Facts{DatabaseError: err.Error()}
	}
	return f
}

func askPlugin(ctx context.Context, root, bin string) (facts.Facts, error) {
	var f facts.Facts
	ctx, cancel := context.WithTimeout(ctx, detectTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "detect", "--root="+root)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &limitedWriter{w: &stdout, n: maxFactsBytes}, &limitedWriter{w: &stderr, n: 4 << 10}
	if err := cmd.Run(); err != nil {
		msg := strings.ToValidUTF8(strings.TrimSpace(stderr.String()), "?")
		if errors.Is(err, fs.ErrNotExist) {
			return f, fmt.Errorf("not read: pbxwatch init asks the freepbx plugin to read it, and there is none at %s (install the plugins, or pass --plugin.dir)", bin)
		}
		return f, fmt.Errorf("not read: %s detect: %v %s", bin, err, msg)
	}
	if err := json.Unmarshal(stdout.Bytes(), &f); err != nil {
		return f, fmt.Errorf("not read: %s detect answered no facts (%v); is it the same version as pbxwatch?", bin, err)
	}
	return f, nil
}

// limitedWriter keeps the first n bytes and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	keep := min(len(p), l.n)
	if keep > 0 {
		if _, err := l.w.Write(p[:keep]); err != nil {
			return 0, err
		}
		l.n -= keep
	}
	return len(p), nil
}

// versionFromModuleXML reads the framework's module.xml when the database
// could not tell.
func (h *Host) versionFromModuleXML(root string) {
	web := h.FreePBX.Settings["AMPWEBROOT"]
	if web == "" {
		web = defaultWebRoot
	}
	p := path.Join(web, "admin/modules/framework/module.xml")
	f, err := os.Open(filepath.Join(root, p))
	if err != nil {
		return
	}
	defer f.Close()
	var m struct {
		Version string `xml:"version"`
	}
	if xml.NewDecoder(io.LimitReader(f, 1<<20)).Decode(&m) == nil && m.Version != "" {
		h.Version, h.VersionFrom = strings.TrimSpace(m.Version), p
	}
}

func readGroup(file, name string) *UnixGroup {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		parts := strings.Split(sc.Text(), ":")
		if len(parts) >= 4 && parts[0] == name {
			g := &UnixGroup{Name: name, GID: parts[2]}
			for _, m := range strings.Split(parts[3], ",") {
				if m = strings.TrimSpace(m); m != "" {
					g.Members = append(g.Members, m)
				}
			}
			return g
		}
	}
	return nil
}

// Major is FreePBX's major version ("" if unknown).
func (h *Host) Major() string {
	if h.Version == "" {
		return ""
	}
	major, _, _ := strings.Cut(h.Version, ".")
	return major
}
