package main

// `pbxwatch init`: look at the FreePBX host (read-only) and propose a
// starting configuration, explaining each choice and what the operator
// must still fill in.

import (
	"bufio"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"gopkg.in/yaml.v3"

	"github.com/pbxwatch/pbxwatch/internal/freepbxdb"
)

// Paths on a FreePBX host, as FreePBX installs itself.
const (
	initDefaultOutput = "/etc/pbxwatch/pbxwatch.yaml"
	freepbxConfPath   = "/etc/freepbx.conf"
	defaultFPBXLog    = "/var/log/asterisk/freepbx.log"
	defaultWebRoot    = "/var/www/html"
	// Secrets go in credentials/ beside the config, named by file name only
	// (docs/install.md, "Secrets").
	credentialsDir = "/etc/pbxwatch/credentials/"
	secretFileName = "freepbx.secret"
	initCheckScope = "gql:core:read"
)

// registerInit adds `pbxwatch init` to app and returns its command name and
// what runs it.
func registerInit(app *kingpin.Application) (string, func() int) {
	cmd := app.Command("init", "Detect FreePBX on this host (read-only) and write a starting "+initDefaultOutput+"; an existing file is never overwritten (the proposal is printed instead).")
	root := cmd.Flag("root", "Treat DIR as the filesystem root (to prepare a config from a copy of a host, or in tests).").Default("/").PlaceHolder("DIR").String()
	output := cmd.Flag("output", "Where to write the proposal; - prints it. Default: "+initDefaultOutput+" under --root.").PlaceHolder("FILE").String()
	return cmd.FullCommand(), func() int { return runInit(*root, *output, os.Stdout, os.Stderr) }
}

func runInit(root, output string, stdout, stderr io.Writer) int {
	d := detect(context.Background(), root)
	proposal := d.render(time.Now())
	for _, w := range d.warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if output == "-" {
		fmt.Fprint(stdout, proposal)
		return 0
	}
	if output == "" {
		output = filepath.Join(root, initDefaultOutput)
	}
	if err := writeNew(output, proposal); err != nil {
		if errors.Is(err, fs.ErrExist) {
			fmt.Fprintf(stderr, "%s exists and is left as it is; the proposal follows on standard output (compare, then merge what you want by hand).\n", output)
			fmt.Fprint(stdout, proposal)
			return 0
		}
		fmt.Fprintf(stderr, "pbxwatch init: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "wrote %s: read its comments, fill in what they ask, then run\n  pbxwatch validate --config.file=%s\n", output, output)
	return 0
}

// writeNew creates path (and its directory) only if it does not exist.
func writeNew(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// detected is what init found; notes explain each finding in the config.
type detected struct {
	root     string
	confErr  error
	conf     *freepbxdb.Conf
	dbErr    error
	dbRead   bool
	version  string // FreePBX's (framework module's) version
	verFrom  string
	api      freepbxdb.Module
	apps     []freepbxdb.Application
	settings map[string]string
	logFile  string
	logFrom  string
	group    *unixGroup
	warnings []string
}

type unixGroup struct {
	name, gid string
	members   []string
}

func detect(ctx context.Context, root string) *detected {
	d := &detected{root: root, settings: map[string]string{}}
	d.conf, d.confErr = freepbxdb.ReadConf(filepath.Join(root, freepbxConfPath))
	if d.confErr == nil {
		d.readDatabase(ctx)
	}
	if d.version == "" {
		d.versionFromModuleXML()
	}
	d.logFile, d.logFrom = defaultFPBXLog, "FreePBX's default"
	if v := d.settings["FPBX_LOG_FILE"]; v != "" {
		d.logFile, d.logFrom = v, "Advanced Setting FPBX_LOG_FILE"
	}
	d.group = readGroup(filepath.Join(root, "/etc/group"), "asterisk")
	if freepbxdb.AcceptsAnySecret(d.api.Version) {
		d.warnings = append(d.warnings, fmt.Sprintf("the FreePBX API module %s accepts any client secret (CVE-2026-44237): upgrade it now with `fwconsole ma upgrade api && fwconsole reload`", d.api.Version))
	}
	return d
}

// readDatabase reads FreePBX's database with SELECTs only.
func (d *detected) readDatabase(ctx context.Context) {
	db, err := freepbxdb.Source{ConfPath: freepbxConfPath, Root: d.root}.Open(ctx)
	if err != nil {
		d.dbErr = err
		return
	}
	defer db.Close()
	fw, err := db.Module(ctx, "framework")
	if err != nil {
		d.dbErr = err
		return
	}
	if fw.Installed {
		d.version, d.verFrom = fw.Version, "the framework module's version in the modules table"
	}
	if d.settings, err = db.Settings(ctx, "FPBX_LOG_FILE", "AMPSYSLOGLEVEL", "AMPWEBROOT", "AMPASTERISKWEBUSER"); err != nil {
		d.dbErr = err
		return
	}
	if d.api, err = db.Module(ctx, "api"); err != nil {
		d.dbErr = err
		return
	}
	d.dbRead = true
	if d.api.Installed {
		if d.apps, err = db.Applications(ctx); err != nil {
			d.dbErr = err
		}
	}
}

// versionFromModuleXML reads the framework's module.xml when the database
// could not tell.
func (d *detected) versionFromModuleXML() {
	web := d.settings["AMPWEBROOT"]
	if web == "" {
		web = defaultWebRoot
	}
	p := path.Join(web, "admin/modules/framework/module.xml")
	b, err := os.ReadFile(filepath.Join(d.root, p))
	if err != nil {
		return
	}
	var m struct {
		Version string `xml:"version"`
	}
	if xml.Unmarshal(b, &m) == nil && m.Version != "" {
		d.version, d.verFrom = strings.TrimSpace(m.Version), p
	}
}

func readGroup(file, name string) *unixGroup {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		parts := strings.Split(sc.Text(), ":")
		if len(parts) >= 4 && parts[0] == name {
			g := &unixGroup{name: name, gid: parts[2]}
			for _, m := range strings.Split(parts[3], ",") {
				if m = strings.TrimSpace(m); m != "" {
					g.members = append(g.members, m)
				}
			}
			return g
		}
	}
	return nil
}

func (d *detected) major() string {
	if d.version == "" {
		return ""
	}
	major, _, _ := strings.Cut(d.version, ".")
	return major
}

// render writes the proposed config with its explanations.
func (d *detected) render(now time.Time) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	host, _ := os.Hostname()
	w("# pbxwatch configuration proposed by `pbxwatch init` on %s at %s.", comment(host), now.UTC().Format(time.RFC3339))
	w("# It is a start: read every comment, fill in what they ask, then check it with")
	w("#   pbxwatch validate --config.file=%s", initDefaultOutput)
	w("# pbxwatch init read FreePBX's files and database and changed nothing.")
	w("#")
	for _, line := range d.findings() {
		w("# %s", line)
	}
	w("")
	w("agent:")
	w("  state_dir: /var/lib/pbxwatch       # the default; systemd's StateDirectory=pbxwatch creates it")
	w("  plugin_dir: /usr/libexec/pbxwatch  # the default; where the packages install pbxwatch-plugin-*")
	w("")
	w("checks:")
	d.renderLogCheck(w)
	d.renderAPICheck(w)
	renderWHMCSCheck(w)
	return b.String()
}

// findings says what init detected, one line each.
func (d *detected) findings() []string {
	var out []string
	switch {
	case d.confErr != nil && errors.Is(d.confErr, fs.ErrNotExist):
		out = append(out, fmt.Sprintf("No %s: FreePBX does not seem to be installed here; only the log check is proposed.", freepbxConfPath))
	case d.confErr != nil:
		out = append(out, "Could not read "+freepbxConfPath+": "+comment(d.confErr.Error()))
	case d.dbErr != nil:
		out = append(out, fmt.Sprintf("Database from %s: %s", freepbxConfPath, comment(d.dbErr.Error())))
	default:
		out = append(out, fmt.Sprintf("Database: %s on %s (from %s).", comment(d.conf.Name), comment(d.where()), freepbxConfPath))
	}
	if d.version != "" {
		out = append(out, fmt.Sprintf("FreePBX %s (version %s, from %s).", comment(d.major()), comment(d.version), comment(d.verFrom)))
	} else if d.confErr == nil {
		out = append(out, "FreePBX version: unknown (neither the database nor the framework's module.xml could be read).")
	}
	switch {
	case !d.dbRead:
	case !d.api.Installed:
		out = append(out, "API module: not installed (Admin → Module Admin → API), so the API check is left out.")
	case !d.api.Enabled:
		out = append(out, fmt.Sprintf("API module %s: installed but DISABLED; enable it in Admin → Module Admin before using the API check.", comment(d.api.Version)))
	default:
		out = append(out, fmt.Sprintf("API module %s, enabled; %d API application(s).", comment(d.api.Version), len(d.apps)))
	}
	if freepbxdb.AcceptsAnySecret(d.api.Version) {
		out = append(out, fmt.Sprintf("SECURITY: API module %s accepts ANY client secret (CVE-2026-44237, fixed in 17.0.8): run `fwconsole ma upgrade api && fwconsole reload` now.", comment(d.api.Version)))
	}
	if d.group != nil {
		member := "pbxwatch is not in it yet: the packaged unit adds it with SupplementaryGroups=asterisk"
		if slices.Contains(d.group.members, "pbxwatch") {
			member = "pbxwatch is a member"
		}
		out = append(out, fmt.Sprintf("Group asterisk (gid %s) exists: it can read FreePBX's logs and %s; %s.", comment(d.group.gid), freepbxConfPath, member))
	} else {
		out = append(out, "No asterisk group in /etc/group: find the group that owns FreePBX's logs and give the pbxwatch service that group (SupplementaryGroups=).")
	}
	return out
}

func (d *detected) where() string {
	if d.conf.Socket != "" {
		return "socket " + d.conf.Socket
	}
	if d.conf.Port != "" {
		return d.conf.Host + ":" + d.conf.Port
	}
	return d.conf.Host
}

func (d *detected) renderLogCheck(w func(string, ...any)) {
	w("  # FreePBX's own log, %s (%s): counts its lines and raises", comment(d.logFile), comment(d.logFrom))
	w("  # the status on known failures (docs/logtail.md). It needs read access:")
	w("  # the file belongs to the asterisk group.")
	level := strings.ToUpper(d.settings["AMPSYSLOGLEVEL"])
	prefix := ""
	if level != "" && level != "FILE" {
		w("  # Advanced Setting AMPSYSLOGLEVEL is %s: FreePBX logs to syslog, not to this", comment(level))
		w("  # file, so the check is commented out. Set AMPSYSLOGLEVEL to FILE to use it.")
		prefix = "# "
	}
	w("  %s- name: freepbx_log", prefix)
	w("  %s  plugin: logtail", prefix)
	w("  %s  schedule: \"@every 10s\"", prefix)
	w("  %s  timeout: 30s", prefix)
	w("  %s  config:", prefix)
	w("  %s    path: %s", prefix, yamlString(d.logFile))
	w("  %s    format: freepbx", prefix)
	w("  %s    start_at: end        # a file never seen before is read from its end", prefix)
	w("")
}

// apiApplication picks the application for the API check: a
// Machine-to-Machine one, preferring one whose scopes cover what reading
// extensions needs.
func (d *detected) apiApplication() (*freepbxdb.Application, []freepbxdb.Application) {
	var m2m []freepbxdb.Application
	for _, a := range d.apps {
		if a.GrantType == "client_credentials" {
			m2m = append(m2m, a)
		}
	}
	for i, a := range m2m {
		for _, s := range a.EffectiveScopes() {
			if initCheckScope == s || strings.HasPrefix(initCheckScope, s+":") {
				return &m2m[i], m2m
			}
		}
	}
	if len(m2m) > 0 {
		return &m2m[0], m2m
	}
	return nil, nil
}

func (d *detected) renderAPICheck(w func(string, ...any)) {
	if d.confErr != nil || (d.dbRead && !d.api.Installed) {
		return
	}
	app, m2m := d.apiApplication()
	w("  # FreePBX API (docs/freepbx.md): a token from a Machine-to-Machine application,")
	w("  # its scopes, a GraphQL probe, and, through freepbx_conf, FreePBX's own database")
	w("  # (why invalid_client: unknown id, wrong type, wrong secret; scopes; key files;")
	w("  # the API module's version). Commented out until you fill in the secret:")
	clientID := "FILL-IN-the-Client-ID"
	switch {
	case app != nil:
		clientID = app.ClientID
		w("  # the Client ID is application %s (allowed scopes: %s).", comment(fmt.Sprintf("%q", app.Name)), comment(strings.Join(app.EffectiveScopes(), " ")))
		for _, o := range m2m {
			if o.ID != app.ID {
				w("  #   Other Machine-to-Machine application: %s, Client ID %s", comment(fmt.Sprintf("%q", o.Name)), comment(o.ClientID))
			}
		}
	case d.dbRead:
		w("  # FreePBX has no Machine-to-Machine application: add one in Connectivity → API →")
		w("  # Applications (Add Application → Machine-to-Machine app, scope %s),", initCheckScope)
		w("  # and put its Client ID below.")
	default:
		w("  # The database could not be read: copy the Client ID of the integration's")
		w("  # Machine-to-Machine application from Connectivity → API → Applications.")
	}
	w("  # FILL IN: FreePBX shows a Client Secret only once, when the application is")
	w("  # created; write the one the integration uses into %s%s", credentialsDir, secretFileName)
	w("  # (root:pbxwatch, mode 0640), then remove the leading '# ' of the lines below.")
	w("  # - name: freepbx_api")
	w("  #   plugin: freepbx")
	w("  #   schedule: \"@every 5m\"")
	w("  #   timeout: 20s")
	w("  #   config:")
	w("  #     url: http://127.0.0.1             # this host's web server")
	w("  #     client_id: %s", yamlString(clientID))
	w("  #     client_secret_file: %s", secretFileName)
	w("  #     required_scopes: [%s]   # what the integration needs; reading extensions needs %s", initCheckScope, initCheckScope)
	w("  #     freepbx_conf: %s      # read FreePBX's database (SELECT only) to name causes", freepbxConfPath)
	w("  #     # or, with a read-only database user (docs/freepbx.md gives the GRANTs), instead of freepbx_conf:")
	w("  #     # database_dsn: 'pbxwatch@unix(/run/mysqld/mysqld.sock)/asterisk'")
	w("  #     # database_password_file: freepbx-db.pass")
	w("")
}

func renderWHMCSCheck(w func(string, ...any)) {
	w("  # WHMCS API (docs/whmcs.md), if this PBX is provisioned from WHMCS. pbxwatch")
	w("  # cannot detect it: FILL IN the WHMCS address and the API credentials")
	w("  # (WHMCS Admin → System Settings → API Credentials), store identifier and")
	w("  # secret in %s, in the files named below (root:pbxwatch,", credentialsDir)
	w("  # mode 0640), then uncomment.")
	w("  # - name: whmcs_auth")
	w("  #   plugin: whmcs")
	w("  #   schedule: \"@every 1m\"")
	w("  #   timeout: 30s")
	w("  #   config:")
	w("  #     url: https://billing.example.com/           # FILL IN: your WHMCS")
	w("  #     identifier_file: whmcs.identifier")
	w("  #     secret_file: whmcs.secret")
	w("  #     required_actions: [GetClients, GetClientsProducts, GetProducts]")
}

// comment makes s safe inside a YAML comment: one line, printable.
func comment(s string) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, s)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// yamlString renders s as a YAML scalar (quoted when needed).
func yamlString(s string) string {
	b, err := yaml.Marshal(comment(s))
	if err != nil {
		return `""`
	}
	return strings.TrimSuffix(string(b), "\n")
}
