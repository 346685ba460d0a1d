package logtail

import (
	"fmt"
	"regexp"
	"sync"

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
	// Follow reads the file between runs and sends matched lines' events
	// the moment they are written; false reads it at each run only.
	Follow bool `yaml:"follow"`
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

var patternName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9_]+$`) })

// UnmarshalYAML applies defaults and validates, each problem at its key's
// line. The func-style signature keeps sdk.Config.Decode strict about
// unknown keys.
func (c *config) UnmarshalYAML(unmarshal func(any) error) error {
	*c = config{Path: defaultPath, Format: "freepbx", StartAt: "end", MaxLineBytes: defaultMaxLineBytes, Follow: true}
	type plain config
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if c.Patterns == nil {
		c.Patterns = defaultPatterns
	}
	p := sdk.NewProblems(unmarshal)
	c.validate(p)
	return p.Err()
}

// validate adds every problem to p.
func (c *config) validate(p *sdk.Problems) {
	if c.Path == "" {
		p.Add("path", "path is required: the log file to tail, e.g. /var/log/asterisk/freepbx.log")
	}
	if c.Format != "freepbx" && c.Format != "plain" {
		p.Add("format", "format %q: want freepbx (Monolog and legacy FreePBX lines) or plain", c.Format)
	}
	if c.StartAt != "end" && c.StartAt != "beginning" {
		p.Add("start_at", "start_at %q: want end (only lines written from now on) or beginning (the whole file)", c.StartAt)
	}
	if c.MaxLineBytes < 256 || c.MaxLineBytes > maxMaxLineBytes {
		p.Add("max_line_bytes", "max_line_bytes %d: want between 256 and %d; longer lines are counted once and cut", c.MaxLineBytes, maxMaxLineBytes)
	}
	seen := map[string]bool{}
	for i, pat := range c.Patterns {
		validatePattern(p.In("patterns", i), i, pat, seen)
	}
}

// validatePattern adds the problems of patterns[i] to p, that entry's
// Problems.
func validatePattern(p *sdk.Problems, i int, pat patternConfig, seen map[string]bool) {
	where := fmt.Sprintf("patterns[%d]", i)
	if pat.Name != "" {
		where = fmt.Sprintf("patterns[%d] (%s)", i, pat.Name)
	}
	switch {
	case !patternName().MatchString(pat.Name):
		p.Add("name", "%s: name %q must be lower-case letters, digits and _ (it becomes a metric label and event name)", where, pat.Name)
	case seen[pat.Name]:
		p.Add("name", "%s: name %q is used twice: names must be unique", where, pat.Name)
	}
	seen[pat.Name] = true
	if pat.Regex == "" {
		p.Add("regex", "%s: regex is required", where)
	} else if _, err := regexp.Compile(pat.Regex); err != nil {
		p.Add("regex", "%s: regex: %v (Go RE2 syntax: no look-around or back-references)", where, err)
	}
	switch pat.Severity {
	case "info", "warning", "critical":
	case "":
		p.Add("severity", "%s: severity is required: info, warning or critical", where)
	default:
		p.Add("severity", "%s: severity %q: want info, warning or critical", where, pat.Severity)
	}
}

func (c *config) format() format {
	if c.Format == "plain" {
		return formatPlain
	}
	return formatFreePBX
}
