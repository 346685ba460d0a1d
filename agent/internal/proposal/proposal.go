// Package proposal is `pbxwatch init`: it looks at a FreePBX host
// (read-only) and proposes a starting configuration, explaining each
// choice and what the operator must still fill in. The proposal is data,
// typed config values for each plugin (config.go), rendered once as YAML
// (render.go).
package proposal

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/freepbxdb/facts"
)

// DefaultOutput is where init writes the proposal.
const DefaultOutput = "/etc/pbxwatch/pbxwatch.yaml"

const (
	// Secrets go in credentials/ beside the config, named by file name
	// only (docs/install.md, "Secrets").
	credentialsDir = "/etc/pbxwatch/credentials/"
	secretFileName = "freepbx.secret"
	// apiCheckScope is what reading extensions through the API needs.
	apiCheckScope = "gql:core:read"
)

// Proposal is a starting configuration with its explanations.
type Proposal struct {
	// Hostname and At are the header's "on HOST at TIME".
	Hostname string
	At       time.Time
	// Findings say what init detected, one line each.
	Findings []string
	Agent    Agent
	Checks   []Check
}

// Build proposes a configuration for h.
func Build(h *Host, hostname string, now time.Time) *Proposal {
	p := &Proposal{Hostname: hostname, At: now, Findings: h.findings(), Agent: defaultAgent()}
	p.Checks = append(p.Checks, h.logCheck())
	if c, ok := h.apiCheck(); ok {
		p.Checks = append(p.Checks, c)
	}
	p.Checks = append(p.Checks, whmcsCheck())
	return p
}

// Warnings are what the operator must read now, on standard error.
func (h *Host) Warnings() []string {
	if api := h.FreePBX.API; api.AcceptsAnySecret {
		return []string{fmt.Sprintf("the FreePBX API module %s accepts any client secret (CVE-2026-44237): upgrade it now with `fwconsole ma upgrade api && fwconsole reload`", api.Version)}
	}
	return nil
}

// findings says what init detected, one line each.
func (h *Host) findings() []string {
	f := h.FreePBX
	var out []string
	switch {
	case f.ConfMissing:
		out = append(out, fmt.Sprintf("No %s: FreePBX does not seem to be installed here; only the log check is proposed.", facts.ConfPath))
	case f.ConfError != "":
		out = append(out, "Could not read "+facts.ConfPath+": "+comment(f.ConfError))
	case f.DatabaseError != "":
		out = append(out, fmt.Sprintf("Database from %s: %s", facts.ConfPath, comment(f.DatabaseError)))
	default:
		out = append(out, fmt.Sprintf("Database: %s on %s (from %s).", comment(f.Database.Name), comment(f.Database.Where()), facts.ConfPath))
	}
	if h.Version != "" {
		out = append(out, fmt.Sprintf("FreePBX %s (version %s, from %s).", comment(h.Major()), comment(h.Version), comment(h.VersionFrom)))
	} else if f.ConfError == "" {
		out = append(out, "FreePBX version: unknown (neither the database nor the framework's module.xml could be read).")
	}
	switch {
	case !f.DatabaseRead:
	case !f.API.Installed:
		out = append(out, "API module: not installed (Admin → Module Admin → API), so the API check is left out.")
	case !f.API.Enabled:
		out = append(out, fmt.Sprintf("API module %s: installed but DISABLED; enable it in Admin → Module Admin before using the API check.", comment(f.API.Version)))
	default:
		out = append(out, fmt.Sprintf("API module %s, enabled; %d API application(s).", comment(f.API.Version), len(f.Applications)))
	}
	if f.API.AcceptsAnySecret {
		out = append(out, fmt.Sprintf("SECURITY: API module %s accepts ANY client secret (CVE-2026-44237, fixed in %s): run `fwconsole ma upgrade api && fwconsole reload` now.", comment(f.API.Version), facts.FixedAPIVersion))
	}
	return append(out, h.groupFinding())
}

func (h *Host) groupFinding() string {
	if h.Group == nil {
		return "No asterisk group in /etc/group: find the group that owns FreePBX's logs and give the pbxwatch service that group (SupplementaryGroups=)."
	}
	member := "pbxwatch is not in it yet: the packaged unit adds it with SupplementaryGroups=asterisk"
	if slices.Contains(h.Group.Members, "pbxwatch") {
		member = "pbxwatch is a member"
	}
	return fmt.Sprintf("Group asterisk (gid %s) exists: it can read FreePBX's logs and %s; %s.", comment(h.Group.GID), facts.ConfPath, member)
}

func (h *Host) logCheck() Check {
	c := Check{Name: "freepbx_log", Plugin: "logtail", Schedule: "@every 10s", Timeout: 30 * time.Second,
		Config: LogtailConfig{Path: comment(h.LogFile), Format: "freepbx", StartAt: Noted[string]{"end", "a file never seen before is read from its end"}},
		Explanation: []string{
			fmt.Sprintf("FreePBX's own log, %s (%s): counts its lines and raises", comment(h.LogFile), comment(h.LogFrom)),
			"the status on known failures (docs/logtail.md). It needs read access:",
			"the file belongs to the asterisk group.",
		}}
	if level := strings.ToUpper(h.FreePBX.Settings["AMPSYSLOGLEVEL"]); level != "" && level != "FILE" {
		c.Explanation = append(c.Explanation,
			fmt.Sprintf("Advanced Setting AMPSYSLOGLEVEL is %s: FreePBX logs to syslog, not to this", comment(level)),
			"file, so the check is commented out. Set AMPSYSLOGLEVEL to FILE to use it.")
		c.CommentedOut = true
	}
	return c
}

// apiApplication picks the application for the API check: a
// Machine-to-Machine one, preferring one whose scopes cover what reading
// extensions needs. m2m are all the Machine-to-Machine ones.
func (h *Host) apiApplication() (app *facts.Application, m2m []facts.Application) {
	for _, a := range h.FreePBX.Applications {
		if a.MachineToMachine() {
			m2m = append(m2m, a)
		}
	}
	for i, a := range m2m {
		for _, s := range a.Scopes {
			if apiCheckScope == s || strings.HasPrefix(apiCheckScope, s+":") {
				return &m2m[i], m2m
			}
		}
	}
	if len(m2m) > 0 {
		return &m2m[0], m2m
	}
	return nil, nil
}

// apiCheck is the freepbx plugin's check, commented out until the secret
// is in place; none without FreePBX or without its API module.
func (h *Host) apiCheck() (Check, bool) {
	f := h.FreePBX
	if f.ConfError != "" || (f.DatabaseRead && !f.API.Installed) {
		return Check{}, false
	}
	app, m2m := h.apiApplication()
	c := Check{Name: "freepbx_api", Plugin: "freepbx", Schedule: "@every 5m", Timeout: 20 * time.Second, CommentedOut: true,
		Explanation: []string{
			"FreePBX API (docs/freepbx.md): a token from a Machine-to-Machine application,",
			"its scopes, a GraphQL probe, and, through freepbx_conf, FreePBX's own database",
			"(why invalid_client: unknown id, wrong type, wrong secret; scopes; key files;",
			"the API module's version). Commented out until you fill in the secret:",
		}}
	clientID := "FILL-IN-the-Client-ID"
	switch {
	case app != nil:
		clientID = app.ClientID
		c.explain(fmt.Sprintf("the Client ID is application %s (allowed scopes: %s).", comment(fmt.Sprintf("%q", app.Name)), comment(strings.Join(app.Scopes, " "))))
		for _, o := range m2m {
			if o.ID != app.ID {
				c.explain(fmt.Sprintf("  Other Machine-to-Machine application: %s, Client ID %s", comment(fmt.Sprintf("%q", o.Name)), comment(o.ClientID)))
			}
		}
	case f.DatabaseRead:
		c.explain("FreePBX has no Machine-to-Machine application: add one in Connectivity → API →",
			fmt.Sprintf("Applications (Add Application → Machine-to-Machine app, scope %s),", apiCheckScope),
			"and put its Client ID below.")
	default:
		c.explain("The database could not be read: copy the Client ID of the integration's",
			"Machine-to-Machine application from Connectivity → API → Applications.")
	}
	c.explain("FILL IN: FreePBX shows a Client Secret only once, when the application is",
		fmt.Sprintf("created; write the one the integration uses into %s%s", credentialsDir, secretFileName),
		"(root:pbxwatch, mode 0640), then remove the leading '# ' of the lines below.")
	c.Config = FreePBXConfig{
		URL:              Noted[string]{"http://127.0.0.1", "this host's web server"},
		ClientID:         comment(clientID),
		ClientSecretFile: secretFileName,
		RequiredScopes:   Noted[[]string]{[]string{apiCheckScope}, "what the integration needs; reading extensions needs " + apiCheckScope},
		FreePBXConf:      Noted[string]{facts.ConfPath, "read FreePBX's database (SELECT only) to name causes"},
	}
	c.Instead = &Alternative{
		Note: "or, with a read-only database user (docs/freepbx.md gives the GRANTs), instead of freepbx_conf:",
		Config: FreePBXDatabaseUser{
			DatabaseDSN:          "pbxwatch@unix(/run/mysqld/mysqld.sock)/asterisk",
			DatabasePasswordFile: "freepbx-db.pass",
		},
	}
	return c, true
}

func whmcsCheck() Check {
	return Check{Name: "whmcs_auth", Plugin: "whmcs", Schedule: "@every 1m", Timeout: 30 * time.Second, CommentedOut: true,
		Explanation: []string{
			"WHMCS API (docs/whmcs.md), if this PBX is provisioned from WHMCS. pbxwatch",
			"cannot detect it: FILL IN the WHMCS address and the API credentials",
			"(WHMCS Admin → System Settings → API Credentials), store identifier and",
			fmt.Sprintf("secret in %s, in the files named below (root:pbxwatch,", credentialsDir),
			"mode 0640), then uncomment.",
		},
		Config: WHMCSConfig{
			URL:             Noted[string]{"https://billing.example.com/", "FILL IN: your WHMCS"},
			IdentifierFile:  "whmcs.identifier",
			SecretFile:      "whmcs.secret",
			RequiredActions: []string{"GetClients", "GetClientsProducts", "GetProducts"},
		}}
}

// comment makes s safe inside a YAML comment or a one-line value: one
// line, printable, bounded.
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
