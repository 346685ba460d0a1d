package accesslog

import (
	"os"
	"path/filepath"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// config is the check's `config:` block.
type config struct {
	// Path is the access log. Empty: the first that exists of Debian's
	// (FreePBX 17) and Sangoma Linux's (FreePBX 16) default.
	Path         string `yaml:"path"`
	Format       string `yaml:"format"`
	StartAt      string `yaml:"start_at"`
	MaxLineBytes int    `yaml:"max_line_bytes"`
	// Window is how long after its last failure a client still counts as
	// failing (and a 5xx episode as going on).
	Window time.Duration `yaml:"window"`
	// A token failure burst: TokenFailureThreshold failed token requests
	// from one address within TokenFailureWindow.
	TokenFailureThreshold int           `yaml:"token_failure_threshold"`
	TokenFailureWindow    time.Duration `yaml:"token_failure_window"`
	// MaxClients bounds the client label of accesslog_failed_requests_total.
	MaxClients int `yaml:"max_clients"`
	// The FreePBX database look-up that names the application of a client
	// id seen in the log: freepbx_conf on the FreePBX host, or a Go MySQL
	// DSN (password in the DSN or database_password_file).
	FreePBXConf          string     `yaml:"freepbx_conf"`
	DatabaseDSN          sdk.Secret `yaml:"database_dsn"`
	DatabasePasswordFile string     `yaml:"database_password_file"`
	// Follow reads the log between runs and sends failing API calls'
	// events the moment they are written; false reads it at each run only.
	Follow bool `yaml:"follow"`
}

// defaultPaths are where FreePBX's Apache writes its access log: FreePBX 17
// on Debian 12, then FreePBX 16 on Sangoma Linux 7.
var defaultPaths = []string{"/var/log/apache2/access.log", "/var/log/httpd/access_log"}

const (
	defaultMaxLineBytes = 16 << 10
	maxMaxLineBytes     = 1 << 20
	maxThreshold        = 1000
	maxMaxClients       = 200
)

func defaultConfig() config {
	return config{Format: "combined", StartAt: "end", MaxLineBytes: defaultMaxLineBytes,
		Window: 15 * time.Minute, TokenFailureThreshold: 5, TokenFailureWindow: 5 * time.Minute, MaxClients: 20, Follow: true}
}

// UnmarshalYAML applies the defaults and validates, each problem at its
// key's line. The func-style signature keeps sdk.Config.Decode strict
// about unknown keys.
func (c *config) UnmarshalYAML(unmarshal func(any) error) error {
	*c = defaultConfig()
	type plain config
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	p := sdk.NewProblems(unmarshal)
	c.validate(p)
	return p.Err()
}

// resolvePath fills an empty path with the first default that exists.
func (c *config) resolvePath(exists func(string) bool) {
	if c.Path != "" {
		return
	}
	c.Path = defaultPaths[0]
	for _, p := range defaultPaths {
		if exists(p) {
			c.Path = p
			return
		}
	}
}

// validate adds every problem to p (absent keys have their defaults, which
// are valid).
func (c *config) validate(p *sdk.Problems) {
	if c.format() < 0 {
		p.Add("format", "format %q: want combined (Apache's and nginx's default), common, or vhost_combined (Debian's other_vhosts_access.log)", c.Format)
	}
	if c.StartAt != "end" && c.StartAt != "beginning" {
		p.Add("start_at", "start_at %q: want end (only requests from now on) or beginning (the whole file)", c.StartAt)
	}
	if c.MaxLineBytes < 256 || c.MaxLineBytes > maxMaxLineBytes {
		p.Add("max_line_bytes", "max_line_bytes %d: want between 256 and %d; longer lines are counted as unparsed", c.MaxLineBytes, maxMaxLineBytes)
	}
	if c.Window < time.Minute || c.Window > 7*24*time.Hour {
		p.Add("window", "window %v: want between 1m and 168h", c.Window)
	}
	if c.TokenFailureThreshold < 1 || c.TokenFailureThreshold > maxThreshold {
		p.Add("token_failure_threshold", "token_failure_threshold %d: want between 1 and %d failed token requests", c.TokenFailureThreshold, maxThreshold)
	}
	if c.TokenFailureWindow < time.Second || c.TokenFailureWindow > 24*time.Hour {
		p.Add("token_failure_window", "token_failure_window %v: want between 1s and 24h", c.TokenFailureWindow)
	}
	if c.MaxClients < 1 || c.MaxClients > maxMaxClients {
		p.Add("max_clients", "max_clients %d: want between 1 and %d (each is a series of accesslog_failed_requests_total; the rest are client=\"other\")", c.MaxClients, maxMaxClients)
	}
	c.validateLookup(p.Add)
}

func (c *config) format() format {
	switch c.Format {
	case "combined":
		return formatCombined
	case "common":
		return formatCommon
	case "vhost_combined":
		return formatVhostCombined
	}
	return -1
}

// decodeConfig decodes and validates cfg, every error naming the config
// file and line.
func decodeConfig(cfg *sdk.Config) (config, error) {
	var c config
	if err := cfg.Decode(&c); err != nil {
		return c, err
	}
	// The directory decides: /var/log/httpd is 0700 root on Sangoma Linux,
	// so its file cannot even be stat'ed before the ACL is set.
	c.resolvePath(func(p string) bool { _, err := os.Stat(filepath.Dir(p)); return err == nil })
	return c, nil
}
