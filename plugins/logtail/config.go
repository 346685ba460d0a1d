package main

import (
	"errors"
	"fmt"
	"regexp"

	"gopkg.in/yaml.v3"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// config is the check's `config:` block.
type config struct {
	Path         string          `yaml:"path"`
	Format       string          `yaml:"format"`
	StartAt      string          `yaml:"start_at"`
	MaxLineBytes int             `yaml:"max_line_bytes"`
	Patterns     []patternConfig `yaml:"patterns"`
	// FollowSymlinks allows path to be a symlink to a file outside its
	// directory; by default that is refused, so a log path cannot be made
	// to expose any file the service user can read.
	FollowSymlinks bool `yaml:"follow_symlinks"`
}

// patternConfig is one entry of `patterns:`.
type patternConfig struct {
	Name        string   `yaml:"name"`
	Regex       string   `yaml:"regex"`
	Severity    string   `yaml:"severity"`
	Event       bool     `yaml:"event"`
	Remediation []string `yaml:"remediation"`
}

const (
	defaultPath         = "/var/log/asterisk/freepbx.log"
	defaultMaxLineBytes = 64 << 10
	// maxMaxLineBytes bounds the per-line buffer, and so the plugin's memory.
	maxMaxLineBytes = 16 << 20
)

// defaultPatterns is the FreePBX set used when `patterns:` is not given.
// Every regex has a literal the prefilter can look for first, and every
// one waits for a line FreePBX really writes to a log file. There is no
// pattern for "ajaxRequest declined", 401 or invalid_client: the framework's
// ajaxError() and the API module answer those without logging anything;
// only the web server's access log shows them (the accesslog plugin).
var defaultPatterns = []patternConfig{
	{
		Name: "auth_failure", Regex: `Authentication failure for \S* from \S+`, Severity: "warning", Event: true,
		Remediation: []string{
			"Someone failed to log in to the FreePBX GUI or UCP; the sample names the user and source address.",
			"If the address is not yours, block it (FreePBX Firewall / fail2ban) and check the account's password.",
		},
	},
	{
		Name: "ami_unreachable", Regex: `(?:Unable|Failed) to connect to (?:the )?(?:Asterisk )?[Mm]anager|Asterisk Manager unreachable`, Severity: "critical", Event: true,
		Remediation: []string{
			"FreePBX could not reach the Asterisk Manager Interface: check that Asterisk runs (`systemctl status asterisk`, `asterisk -rx 'core show version'`).",
			"Check that the AMI user and secret in /etc/asterisk/manager.conf match AMPMGRUSER/AMPMGRPASS in /etc/freepbx.conf, then `fwconsole reload`.",
		},
	},
	{
		Name: "sql_error", Regex: `SQLSTATE\[[0-9A-Z]{5}\]`, Severity: "critical", Event: true,
		Remediation: []string{
			"A database query failed; the SQLSTATE code in the sample says why (HY000 [2002]: MariaDB is down or its socket moved; 42S02: a missing table from an incomplete module install).",
			"Check `systemctl status mariadb`, free disk space, and `fwconsole ma list` for modules in a broken state.",
		},
	},
}

var patternName = regexp.MustCompile(`^[a-z0-9_]+$`)

// UnmarshalYAML applies defaults and validates. The func-style signature
// keeps sdk.Config.Decode strict about unknown keys.
func (c *config) UnmarshalYAML(unmarshal func(any) error) error {
	*c = config{Path: defaultPath, Format: "freepbx", StartAt: "end", MaxLineBytes: defaultMaxLineBytes}
	type plain config
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if c.Patterns == nil {
		c.Patterns = defaultPatterns
	}
	return nil
}

// fieldError is a validation problem of one config key, which Configure
// locates in the config file.
type fieldError struct {
	key   string // "start_at", "patterns[1].regex"
	index int    // pattern index, -1 for a top-level key
	msg   string
}

func (e *fieldError) Error() string { return e.msg }

func topErr(key, format string, args ...any) error {
	return &fieldError{key: key, index: -1, msg: fmt.Sprintf(format, args...)}
}

func patErr(i int, key, format string, args ...any) error {
	return &fieldError{key: key, index: i, msg: fmt.Sprintf(format, args...)}
}

// validate returns every problem, each a *fieldError.
func (c *config) validate() []error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, topErr("path", "path is required: the log file to tail, e.g. /var/log/asterisk/freepbx.log"))
	}
	if c.Format != "freepbx" && c.Format != "plain" {
		errs = append(errs, topErr("format", "format %q: want freepbx (Monolog and legacy FreePBX lines) or plain", c.Format))
	}
	if c.StartAt != "end" && c.StartAt != "beginning" {
		errs = append(errs, topErr("start_at", "start_at %q: want end (only lines written from now on) or beginning (the whole file)", c.StartAt))
	}
	if c.MaxLineBytes < 256 || c.MaxLineBytes > maxMaxLineBytes {
		errs = append(errs, topErr("max_line_bytes", "max_line_bytes %d: want between 256 and %d; longer lines are counted once and cut", c.MaxLineBytes, maxMaxLineBytes))
	}
	seen := map[string]bool{}
	for i, p := range c.Patterns {
		where := fmt.Sprintf("patterns[%d]", i)
		if p.Name != "" {
			where = fmt.Sprintf("patterns[%d] (%s)", i, p.Name)
		}
		switch {
		case !patternName.MatchString(p.Name):
			errs = append(errs, patErr(i, "name", "%s: name %q must be lower-case letters, digits and _ (it becomes a metric label and event name)", where, p.Name))
		case seen[p.Name]:
			errs = append(errs, patErr(i, "name", "%s: name %q is used twice: names must be unique", where, p.Name))
		}
		seen[p.Name] = true
		if p.Regex == "" {
			errs = append(errs, patErr(i, "regex", "%s: regex is required", where))
		} else if _, err := regexp.Compile(p.Regex); err != nil {
			errs = append(errs, patErr(i, "regex", "%s: regex: %v (Go RE2 syntax: no look-around or back-references)", where, err))
		}
		switch p.Severity {
		case "info", "warning", "critical":
		case "":
			errs = append(errs, patErr(i, "severity", "%s: severity is required: info, warning or critical", where))
		default:
			errs = append(errs, patErr(i, "severity", "%s: severity %q: want info, warning or critical", where, p.Severity))
		}
	}
	return errs
}

// locate prefixes each validation error with the config file and line of
// its key (or of the entry or block holding it, when the key is absent).
func locate(cfg *sdk.Config, errs []error) error {
	var root yaml.Node
	_ = yaml.Unmarshal(cfg.Raw(), &root)
	out := make([]error, 0, len(errs))
	for _, err := range errs {
		var fe *fieldError
		if !errors.As(err, &fe) {
			out = append(out, err)
			continue
		}
		line := 1
		if len(root.Content) > 0 {
			line = keyLine(root.Content[0], fe)
		}
		out = append(out, fmt.Errorf("%s: %s", cfg.Position(line), fe.msg))
	}
	return errors.Join(out...)
}

func keyLine(top *yaml.Node, fe *fieldError) int {
	m := top
	if fe.index >= 0 {
		pats := mapValue(top, "patterns")
		if pats == nil || pats.Kind != yaml.SequenceNode || fe.index >= len(pats.Content) {
			return top.Line
		}
		m = pats.Content[fe.index]
	}
	if v := mapValue(m, fe.key); v != nil {
		return v.Line
	}
	return m.Line
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func (c *config) format() format {
	if c.Format == "plain" {
		return formatPlain
	}
	return formatFreePBX
}
