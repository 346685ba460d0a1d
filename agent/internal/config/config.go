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
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"

	"github.com/pbxwatch/pbxwatch/agent/internal/alerting"
	"github.com/pbxwatch/pbxwatch/internal/yamlerr"
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
	Checks   []Check         `yaml:"checks"`

	// File is the path the config was loaded from.
	File string `yaml:"-"`
}

// Agent is the `agent:` block.
type Agent struct {
	StateDir  string `yaml:"state_dir"`
	PluginDir string `yaml:"plugin_dir"`
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

	// Filled in by Load.
	Line       int         `yaml:"-"` // where the check starts in File
	Binary     string      `yaml:"-"` // resolved plugin executable
	ConfigYAML []byte      `yaml:"-"` // Config after ${ENV} expansion, re-encoded
	LineMap    map[int]int `yaml:"-"` // line of ConfigYAML -> line of File
}

// UnmarshalYAML applies the agent defaults. The func-style signature keeps
// the outer decoder's strictness (yaml.v3 drops it for Node-style methods).
func (a *Agent) UnmarshalYAML(unmarshal func(any) error) error {
	*a = Agent{StateDir: DefaultStateDir, PluginDir: DefaultPluginDir}
	type plain Agent
	return unmarshal((*plain)(a))
}

// UnmarshalYAML applies the check defaults.
func (c *Check) UnmarshalYAML(unmarshal func(any) error) error {
	*c = Check{Schedule: DefaultSchedule, Timeout: DefaultTimeout}
	type plain Check
	return unmarshal((*plain)(c))
}

// Load reads, decodes, expands and validates the config at path. Every
// problem found is returned, joined, each prefixed with "path:line:".
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	return Parse(path, b)
}

// Parse is Load for a config already read.
func Parse(path string, b []byte) (*Config, error) {
	cfg := &Config{Agent: Agent{StateDir: DefaultStateDir, PluginDir: DefaultPluginDir}, File: path}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) { // EOF: an empty file
		return nil, prefixLines(path, err)
	}
	cfg.File = path
	if errs := cfg.finish(checkLines(b)); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

// prefixLines turns yaml.v3's errors into "path:N: msg", one problem per
// line.
func prefixLines(path string, err error) error {
	var out []error
	for _, p := range yamlerr.Split(err) {
		if p.Line > 0 {
			out = append(out, fmt.Errorf("%s:%d: %s", path, p.Line, p.Msg))
		} else {
			out = append(out, fmt.Errorf("%s: %s", path, p.Msg))
		}
	}
	return errors.Join(out...)
}

var (
	checkName  = regexp.MustCompile(`^[a-z0-9_]+$`)
	pluginName = regexp.MustCompile(`^[a-z0-9_-]+$`)
)

// finish validates the decoded config and derives what the agent needs:
// plugin paths, expanded config blocks and their line maps.
func (c *Config) finish(lines checkPositions) []error {
	var errs []error
	at := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", c.File, line, fmt.Sprintf(format, args...)))
	}
	if c.Agent.StateDir == "" {
		errs = append(errs, fmt.Errorf("%s: agent.state_dir is empty: set a writable directory such as %s", c.File, DefaultStateDir))
	}
	seen := map[string]int{}
	for i := range c.Checks {
		ch := &c.Checks[i]
		ch.Line = lines.of(i)
		switch {
		case ch.Name == "":
			at(ch.Line, "check #%d has no name: add `name:` ([a-z0-9_], unique)", i+1)
		case !checkName.MatchString(ch.Name):
			at(ch.Line, "check name %q may only hold a-z, 0-9 and _ (it becomes a metric label and a directory name)", ch.Name)
		case seen[ch.Name] != 0:
			at(ch.Line, "check name %q is used twice (first at line %d): names must be unique", ch.Name, seen[ch.Name])
		default:
			seen[ch.Name] = ch.Line
		}
		if err := c.resolvePlugin(ch); err != nil {
			at(ch.Line, "check %q: %v", ch.Name, err)
		}
		if _, err := ParseSchedule(ch.Schedule); err != nil {
			at(ch.Line, "check %q: schedule %q: %v (use 5 cron fields such as \"*/5 * * * *\" or a descriptor such as \"@every 1m\")", ch.Name, ch.Schedule, err)
		}
		if ch.Timeout <= 0 {
			at(ch.Line, "check %q: timeout must be positive, such as 30s", ch.Name)
		}
		if ch.SHA256 != "" && !sha256Hex.MatchString(ch.SHA256) {
			at(ch.Line, "check %q: sha256 must be 64 hex digits (sha256sum of the plugin binary)", ch.Name)
		}
		block, lineMap, err := encodeBlock(&ch.Config)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%v", c.File, err))
			continue
		}
		ch.ConfigYAML, ch.LineMap = block, lineMap
	}
	return errs
}

var sha256Hex = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// ParseSchedule parses a check's schedule the way the scheduler does.
func ParseSchedule(spec string) (cron.Schedule, error) {
	return cron.ParseStandard(spec)
}

// resolvePlugin finds the check's plugin binary: in plugin_dir, else next to
// the running pbxwatch binary (how `make build` lays out bin/).
func (c *Config) resolvePlugin(ch *Check) error {
	if ch.Plugin == "" {
		return fmt.Errorf("no plugin: set `plugin:` to the name after %q in the binary's name", PluginPrefix)
	}
	if !pluginName.MatchString(ch.Plugin) {
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

// StateDir is the check's private state directory.
func (c *Config) StateDir(check string) string {
	return filepath.Join(c.Agent.StateDir, "checks", check)
}
