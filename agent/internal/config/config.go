// Package config loads the agent's YAML configuration: strict decoding
// (unknown keys are errors with their line), defaults, `${ENV}` expansion in
// check config blocks, and validation that reports every problem at once,
// each with its file and line.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"

	"github.com/pbxwatch/pbxwatch/agent/internal/alerting"
	"github.com/pbxwatch/pbxwatch/agent/internal/fleet"
	"github.com/pbxwatch/pbxwatch/agent/internal/remotewrite"
	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/scrub"
	"github.com/pbxwatch/pbxwatch/sdk/yamlerr"
)

// Defaults for the `agent:` block and for checks.
const (
	DefaultStateDir  = "/var/lib/pbxwatch"
	DefaultPluginDir = "/usr/libexec/pbxwatch"
	DefaultTimeout   = 30 * time.Second
	DefaultSchedule  = "@every 1m"
	// PluginPrefix is what a plugin binary's name starts with.
	PluginPrefix = "pbxwatch-plugin-"
)

// Config is the whole configuration file.
type Config struct {
	Agent    Agent           `yaml:"agent"`
	Alerting alerting.Config `yaml:"alerting"`
	// RemoteWrite lists the receivers the agent pushes /metrics to.
	RemoteWrite []remotewrite.Config `yaml:"remote_write"`
	// Fleet, when set, turns on the fleet page (every host reporting to
	// that engine).
	Fleet  *fleet.Config `yaml:"fleet"`
	Checks []Check       `yaml:"checks"`

	// File is the path the config was loaded from.
	File string `yaml:"-"`
}

// Agent is the `agent:` block.
type Agent struct {
	StateDir  string `yaml:"state_dir"`
	PluginDir string `yaml:"plugin_dir"`
	// ExternalLabels are the host's identity: on every pushed series and
	// every alert. instance defaults to the host name (docs/fleet.md).
	ExternalLabels map[string]string `yaml:"external_labels"`
}

// Check is one entry of `checks:`.
type Check struct {
	Name     string              `yaml:"name"`
	Plugin   string              `yaml:"plugin"`
	Schedule string              `yaml:"schedule"`
	Timeout  time.Duration       `yaml:"timeout"`
	SHA256   string              `yaml:"sha256"`
	Alert    alerting.CheckAlert `yaml:"alert"`
	Config   yaml.Node           `yaml:"config"`
	// Isolate runs the check in a plugin process of its own instead of
	// the one its plugin's other checks share.
	Isolate bool `yaml:"isolate"`

	// Filled in by Load.
	Line int `yaml:"-"` // where the check starts in File
	// Invalid holds this check's own problems (plugin missing, bad
	// schedule, unknown key in its entry...), each "file:line: msg". The
	// daemon still starts the other checks and reports this one UNKNOWN.
	Invalid    error `yaml:"-"`
	decodeErr  error
	Binary     string      `yaml:"-"` // resolved plugin executable
	ConfigYAML []byte      `yaml:"-"` // Config after ${ENV} expansion, re-encoded
	LineMap    map[int]int `yaml:"-"` // line of ConfigYAML -> line of File
	// Secrets are the values ${ENV} expanded to in Config: the agent
	// scrubs them from everything it outputs.
	Secrets []string `yaml:"-"`
	// EnvNames are the variables Config references; other checks' plugins
	// do not get them in their environment.
	EnvNames []string `yaml:"-"`
}

// UnmarshalYAML applies the agent defaults. The func-style signature keeps
// the outer decoder's strictness (yaml.v3 drops it for Node-style methods).
func (a *Agent) UnmarshalYAML(unmarshal func(any) error) error {
	*a = Agent{StateDir: DefaultStateDir, PluginDir: DefaultPluginDir}
	type plain Agent
	p := sdk.NewProblems(unmarshal)
	if err := p.Nested(unmarshal((*plain)(a))); err != nil {
		return err
	}
	remotewrite.ValidateExternalLabels(a.ExternalLabels, func(format string, args ...any) {
		p.Add("external_labels", format, args...)
	})
	return p.Err()
}

// UnmarshalYAML applies the check defaults. A check's decode problems
// (unknown key, wrong type) stay with the check rather than failing the
// file, so the daemon can run the other checks; yaml.v3 would otherwise
// drop the entry from the list.
func (c *Check) UnmarshalYAML(unmarshal func(any) error) error {
	*c = Check{Schedule: DefaultSchedule, Timeout: DefaultTimeout}
	type plain Check
	err := unmarshal((*plain)(c))
	var te *yaml.TypeError
	if errors.As(err, &te) {
		c.decodeErr = err
		return nil
	}
	return err
}

// Load reads, decodes, expands and validates the config at path. Every
// problem found is returned, joined, each prefixed with "path:line:".
func Load(path string) (*Config, error) {
	b, err := readBounded(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	cfg, err := Parse(path, b)
	if err != nil {
		// An error may quote a URL (an Alertmanager's, a plugin's): never
		// with its password.
		return nil, errors.New(scrub.Userinfo(err.Error()))
	}
	return cfg, nil
}

// readBounded reads the file, refusing to read far past MaxFileBytes (a
// config pointed at a huge file or a device must not exhaust memory).
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
}

// Parse is Load for a config already read.
func Parse(path string, b []byte) (*Config, error) {
	cfg, err := ParseLenient(path, b)
	if cfg == nil {
		return nil, err
	}
	errs := []error{err}
	for _, ch := range cfg.Checks {
		if ch.Invalid != nil {
			errs = append(errs, ch.Invalid)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cfg, nil
}

// LoadLenient is Load for the daemon, which starts with every check it can
// run: a check's own problems are left in its Invalid field. The error
// holds the problems of the file as a whole (unparsable YAML, the `agent:`
// or `alerting:` blocks, check names); with it, the returned config is nil
// if the file could not be decoded at all, else decoded as far as it
// could be (for `pbxwatch validate` to go on to the plugins' blocks).
func LoadLenient(path string) (*Config, error) {
	b, err := readBounded(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	cfg, err := ParseLenient(path, b)
	// Errors may quote a URL (an Alertmanager's, a plugin's): never with
	// its password.
	if err != nil {
		err = errors.New(scrub.Userinfo(err.Error()))
	}
	if cfg != nil {
		for i := range cfg.Checks {
			if ch := &cfg.Checks[i]; ch.Invalid != nil {
				ch.Invalid = errors.New(scrub.Userinfo(ch.Invalid.Error()))
			}
		}
	}
	return cfg, err
}

// ParseLenient is LoadLenient for a config already read.
func ParseLenient(path string, b []byte) (*Config, error) {
	if err := checkShape(path, b); err != nil {
		return nil, err
	}
	cfg := &Config{Agent: Agent{StateDir: DefaultStateDir, PluginDir: DefaultPluginDir}, File: path}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var fatal []error
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) { // EOF: an empty file
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, prefixLines(path, yamlerr.SplitIn(err, b, cfg))
		}
		// A TypeError leaves the rest decoded (the checks' own problems
		// are kept in each check): report it with the rest.
		fatal = append(fatal, prefixLines(path, yamlerr.SplitIn(err, b, cfg)))
	}
	cfg.File = path
	fatal = append(fatal, cfg.finish(checkLines(b), b)...)
	if len(fatal) > 0 {
		return cfg, errors.Join(fatal...)
	}
	return cfg, nil
}

// prefixLines turns yaml.v3's problems into "path:N: msg", one problem per
// line.
func prefixLines(path string, problems []yamlerr.Problem) error {
	var out []error
	for _, p := range problems {
		if p.Line > 0 {
			out = append(out, fmt.Errorf("%s:%d: %s", path, p.Line, p.Msg))
		} else {
			out = append(out, fmt.Errorf("%s: %s", path, p.Msg))
		}
	}
	return errors.Join(out...)
}

var (
	checkName  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9_]+$`) })
	pluginName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9_-]+$`) })
)

// finish validates the decoded config and derives what the agent needs:
// plugin paths, expanded config blocks and their line maps. It returns the
// problems of the file as a whole; each check's own go to its Invalid.
func (c *Config) finish(lines checkPositions, src []byte) []error {
	var errs []error
	at := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", c.File, line, fmt.Sprintf(format, args...)))
	}
	var checkErrs []error
	atCheck := func(line int, format string, args ...any) {
		checkErrs = append(checkErrs, fmt.Errorf("%s:%d: %s", c.File, line, fmt.Sprintf(format, args...)))
	}
	if c.Agent.StateDir == "" {
		errs = append(errs, fmt.Errorf("%s: agent.state_dir is empty: set a writable directory such as %s", c.File, DefaultStateDir))
	}
	if err := remotewrite.ValidateURLs(c.RemoteWrite); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", c.File, err))
	}
	c.Alerting.ExternalLabels = MergeLabels(c.Agent.ExternalLabels, c.Alerting.ExternalLabels)
	seen := map[string]int{}
	for i := range c.Checks {
		ch := &c.Checks[i]
		ch.Line = lines.of(i)
		checkErrs = nil
		if ch.decodeErr != nil {
			checkErrs = append(checkErrs, prefixLines(c.File, yamlerr.SplitIn(ch.decodeErr, src, c)))
			if undecoded(ch) {
				// yaml left the entry empty (a key given twice): its
				// other "problems" would be false. Its name, from the
				// text, still identifies it.
				ch.Name = lines.name(i)
				ch.Invalid = errors.Join(checkErrs...)
				c.checkName(ch, i, seen, at)
				continue
			}
		}
		c.checkName(ch, i, seen, at)
		keyLine := func(key string) int { return lines.keyLine(i, key, ch.Line) }
		if err := c.resolvePlugin(ch); err != nil {
			atCheck(keyLine("plugin"), "check %q: %v", ch.Name, err)
		}
		if err := validateSchedule(ch.Schedule); err != nil {
			atCheck(keyLine("schedule"), "check %q: schedule %q: %v", ch.Name, ch.Schedule, err)
		}
		if ch.Timeout <= 0 {
			atCheck(keyLine("timeout"), "check %q: timeout must be positive, such as 30s", ch.Name)
		}
		if ch.SHA256 != "" && !sha256Hex().MatchString(ch.SHA256) {
			atCheck(keyLine("sha256"), "check %q: sha256 must be 64 hex digits (sha256sum of the plugin binary)", ch.Name)
		}
		var x expansion
		block, lineMap, err := encodeBlock(&ch.Config, &x)
		if err != nil {
			checkErrs = append(checkErrs, fmt.Errorf("%s:%v", c.File, err))
		} else {
			ch.ConfigYAML, ch.LineMap = block, lineMap
		}
		ch.Invalid = errors.Join(checkErrs...)
		ch.Secrets, ch.EnvNames = x.values, x.names
	}
	return errs
}

// checkName reports a missing, malformed or repeated check name.
func (c *Config) checkName(ch *Check, i int, seen map[string]int, at func(int, string, ...any)) {
	switch {
	case ch.Name == "":
		at(ch.Line, "check #%d has no name: add `name:` ([a-z0-9_], unique)", i+1)
	case !checkName().MatchString(ch.Name):
		at(ch.Line, "check name %q may only hold a-z, 0-9 and _ (it becomes a metric label and a directory name)", ch.Name)
	case seen[ch.Name] != 0:
		at(ch.Line, "check name %q is used twice (first at line %d): names must be unique", ch.Name, seen[ch.Name])
	default:
		seen[ch.Name] = ch.Line
	}
}

// undecoded reports whether yaml gave up on the entry altogether (it does
// on a key given twice), leaving only the defaults.
func undecoded(ch *Check) bool {
	return ch.Name == "" && ch.Plugin == "" && ch.Config.Kind == 0
}

var sha256Hex = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-fA-F]{64}$`) })

// ParseSchedule parses a check's schedule the way the scheduler does.
func ParseSchedule(spec string) (cron.Schedule, error) {
	return cron.ParseStandard(spec)
}

// MinInterval is the shortest time between two runs of a check a schedule
// may ask for: 5s. Every run is a plugin round trip and, for most plugins,
// a request to a server the operator does not want hammered; and below a
// few seconds a run's own duration makes ticks overlap and be skipped.
// Tests lower it with pbxwatch's hidden --schedule.min-interval flag.
var MinInterval = DefaultMinInterval

// DefaultMinInterval is MinInterval's documented value.
const DefaultMinInterval = 5 * time.Second

// validateSchedule parses spec and refuses schedules more frequent than
// MinInterval, explaining either problem in the operator's words.
func validateSchedule(spec string) error {
	s, err := ParseSchedule(spec)
	if err != nil {
		return fmt.Errorf("%v: use 5 cron fields (minute hour day-of-month month day-of-week, such as \"*/5 * * * *\") or a descriptor such as \"@every 1m\" or \"@hourly\"", err)
	}
	if strings.HasPrefix(strings.TrimSpace(spec), "@every") {
		d, err := time.ParseDuration(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(spec), "@every")))
		if err == nil && d < MinInterval {
			return fmt.Errorf("runs more often than every %s, the shortest interval allowed (each run starts the check against its server); use \"@every %s\" or longer", MinInterval, MinInterval)
		}
	}
	// Cron fields step by minutes; two consecutive ticks tell the rest.
	first := s.Next(time.Now())
	if first.IsZero() {
		// robfig/cron gives up after five years without a match.
		return fmt.Errorf("never fires: no date matches it (such as day 31 of February); check the day-of-month and month fields")
	}
	if gap := s.Next(first).Sub(first); gap < MinInterval {
		return fmt.Errorf("runs every %s, more often than every %s, the shortest interval allowed; use \"@every %s\" or longer", gap, MinInterval, MinInterval)
	}
	return nil
}

// resolvePlugin finds the check's plugin binary: in plugin_dir, else next to
// the running pbxwatch binary (how `make build` lays out bin/).
func (c *Config) resolvePlugin(ch *Check) error {
	if ch.Plugin == "" {
		return fmt.Errorf("no plugin: set `plugin:` to the name after %q in the binary's name", PluginPrefix)
	}
	if !pluginName().MatchString(ch.Plugin) {
		return fmt.Errorf("plugin %q: a plugin name holds a-z, 0-9, _ and - only", ch.Plugin)
	}
	name := PluginPrefix + ch.Plugin
	var tried []string
	for _, dir := range pluginDirs(c.Agent.PluginDir) {
		p := filepath.Join(dir, name)
		tried = append(tried, p)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			if st.Mode()&0o111 == 0 {
				return fmt.Errorf("plugin %s is not executable (chmod 755 it)", p)
			}
			ch.Binary = p
			return nil
		}
	}
	return fmt.Errorf("plugin %q not found: no executable %s (looked at %v); install it or fix `plugin:`/agent.plugin_dir", ch.Plugin, name, tried)
}

func pluginDirs(pluginDir string) []string {
	dirs := []string{pluginDir}
	if exe, err := os.Executable(); err == nil {
		if d := filepath.Dir(exe); d != pluginDir {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// AlertInfo is what alerting knows of the check.
func (ch Check) AlertInfo() alerting.CheckInfo {
	return alerting.CheckInfo{Name: ch.Name, Plugin: ch.Plugin, Alert: ch.Alert}
}

// AlertInfos is every check's AlertInfo, in config order.
func (c *Config) AlertInfos() []alerting.CheckInfo {
	infos := make([]alerting.CheckInfo, len(c.Checks))
	for i, ch := range c.Checks {
		infos[i] = ch.AlertInfo()
	}
	return infos
}

// CredentialsDir is the directory of relative `*_file` secrets: credentials/
// beside the config file (/etc/pbxwatch/credentials), absolute, so plugins
// find it whatever their working directory.
func (c *Config) CredentialsDir() string {
	dir, err := filepath.Abs(filepath.Dir(c.File))
	if err != nil {
		dir = filepath.Dir(c.File)
	}
	return filepath.Join(dir, "credentials")
}

// Secrets returns every value ${ENV} expanded to, in every check.
func (c *Config) Secrets() []string {
	var out []string
	for _, ch := range c.Checks {
		out = append(out, ch.Secrets...)
	}
	return out
}

// ForeignEnv returns the variables other checks' blocks reference and ch's
// does not: ch's plugin must not inherit them.
func (c *Config) ForeignEnv(ch Check) []string {
	own := map[string]bool{}
	for _, n := range ch.EnvNames {
		own[n] = true
	}
	var out []string
	for _, other := range c.Checks {
		for _, n := range other.EnvNames {
			if !own[n] {
				out = append(out, n)
			}
		}
	}
	return out
}

// StateDir is the check's private state directory.
func (c *Config) StateDir(check string) string {
	return filepath.Join(c.Agent.StateDir, "checks", check)
}

// MergeLabels is agent.external_labels overlaid with alerting.external_labels:
// an alert carries the host's identity, and the alerting block, the more
// specific one, wins where both name a label (docs/design.md).
func MergeLabels(agent, alerting map[string]string) map[string]string {
	if len(agent) == 0 {
		return alerting
	}
	out := make(map[string]string, len(agent)+len(alerting))
	for k, v := range agent {
		out[k] = v
	}
	for k, v := range alerting {
		out[k] = v
	}
	return out
}
