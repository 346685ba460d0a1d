package nagios

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// config is the check's `config:` block.
type config struct {
	// Command is the plugin and its arguments, run without a shell:
	// [/usr/lib/nagios/plugins/check_disk, -w, "10%", -c, "5%", -p, /].
	// With shell: true it is one string run by /bin/sh -c.
	Command commandLine `yaml:"command"`
	Shell   bool        `yaml:"shell"`
	// Env is added to the plugin's environment (the agent's, with
	// LC_ALL=C so numbers print with a decimal point).
	Env map[string]string `yaml:"env"`
	// SecretEnv is added to the environment like Env, but its values are
	// credentials: they are scrubbed from everything the check reports.
	// A plugin that takes a password only as an argument gets it through
	// the shell: shell: true, command: 'check_x -a "user:$PASS"'.
	SecretEnv map[string]sdk.Secret `yaml:"secret_env"`
	// MaxOutputBytes bounds the stdout kept; the rest is discarded.
	MaxOutputBytes int `yaml:"max_output_bytes"`
}

// commandLine is `command:` as written: a list of arguments or one string.
type commandLine struct {
	args   []string
	isText bool
}

// UnmarshalYAML takes one string or a list of strings.
func (c *commandLine) UnmarshalYAML(unmarshal func(any) error) error {
	var text string
	if unmarshal(&text) == nil {
		c.isText, c.args = true, []string{text}
		return nil
	}
	if unmarshal(&c.args) == nil {
		return nil
	}
	p := sdk.NewProblems(unmarshal)
	p.Add("", "command must be a list such as [/usr/lib/nagios/plugins/check_disk, -w, \"10%%\", -p, /]")
	return p.Err()
}

const (
	defaultMaxOutput = 64 << 10
	maxMaxOutput     = 4 << 20
	shellPath        = "/bin/sh"
)

// UnmarshalYAML applies defaults and validates, each problem at its key's
// line. The func-style signature keeps sdk.Config.Decode strict about
// unknown keys.
func (c *config) UnmarshalYAML(unmarshal func(any) error) error {
	*c = config{MaxOutputBytes: defaultMaxOutput}
	type plain config
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	p := sdk.NewProblems(unmarshal)
	c.validate(p)
	return p.Err()
}

// validate adds every problem to p.
func (c *config) validate(p *sdk.Problems) {
	switch {
	case len(c.Command.args) == 0 || c.Command.args[0] == "":
		p.Add("command", "command is required: the Nagios plugin and its arguments, e.g. command: [/usr/lib/nagios/plugins/check_disk, -w, \"10%%\", -c, \"5%%\", -p, /]")
	case c.Shell && !c.Command.isText:
		p.Add("command", "shell: true needs command as one string for /bin/sh -c, e.g. command: \"check_procs -C asterisk | head -1\"")
	case !c.Shell && c.Command.isText:
		p.Add("command", "command is a string: write it as a list ([/usr/lib/nagios/plugins/check_disk, -p, /]) to run it without a shell, or set shell: true to run it with /bin/sh -c")
	case !c.Shell:
		if err := checkExecutable(c.Command.args[0]); err != nil {
			p.Add("command", "command: %v", err)
		}
	}
	for k := range c.Env {
		if k == "" || strings.ContainsAny(k, "= \x00") {
			p.Add("env", "env: %q is not a valid variable name", k)
		}
	}
	for k, v := range c.SecretEnv {
		if k == "" || strings.ContainsAny(k, "= \x00") {
			p.Add("secret_env", "secret_env: %q is not a valid variable name", k)
		}
		if _, dup := c.Env[k]; dup {
			p.Add("secret_env", "%s is in both env and secret_env: keep one", k)
		}
		sdk.RegisterSecret(v.Reveal())
	}
	if c.MaxOutputBytes <= 0 || c.MaxOutputBytes > maxMaxOutput {
		p.Add("max_output_bytes", "max_output_bytes must be between 1 and %d", maxMaxOutput)
	}
}

// checkExecutable says why path cannot be run, if it cannot.
func checkExecutable(path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("%q is not an absolute path; Nagios plugins live in /usr/lib/nagios/plugins", path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s: %w (install the plugin, e.g. Debian's monitoring-plugins-basic)", path, err)
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}

// command is what Run executes.
func (c *config) command() Command {
	env := append(os.Environ(), "LC_ALL=C")
	keys := make([]string, 0, len(c.Env))
	for k := range c.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+c.Env[k])
	}
	for k, v := range c.SecretEnv {
		env = append(env, k+"="+v.Reveal())
	}
	cmd := Command{Env: env, MaxOutput: c.MaxOutputBytes}
	if c.Shell {
		cmd.Path, cmd.Args = shellPath, []string{"-c", c.Command.args[0]}
	} else {
		cmd.Path, cmd.Args = c.Command.args[0], c.Command.args[1:]
	}
	return cmd
}

// display is the command as shown to people.
func (c *config) display() string {
	if c.Shell {
		return c.Command.args[0]
	}
	return strings.Join(c.Command.args, " ")
}
