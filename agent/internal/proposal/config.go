package proposal

import (
	"time"

	"gopkg.in/yaml.v3"
)

// The configuration init proposes, as typed values: the agent's own keys
// and, for each plugin it proposes a check of, that plugin's keys — this
// file is the one place init knows them. The agent tests validate every
// rendered proposal, uncommented, through the real plugins
// (agent/init_e2e_test.go), so a renamed key fails there.

// Agent is the agent: block.
type Agent struct {
	StateDir  Noted[string] `yaml:"state_dir"`
	PluginDir Noted[string] `yaml:"plugin_dir"`
}

func defaultAgent() Agent {
	return Agent{
		StateDir:  Noted[string]{"/var/lib/pbxwatch", "the default; systemd's StateDirectory=pbxwatch creates it"},
		PluginDir: Noted[string]{"/usr/libexec/pbxwatch", "the default; where the packages install pbxwatch-plugin-*"},
	}
}

// Check is one entry of checks:, with the comment lines above it.
type Check struct {
	Name     string        `yaml:"name"`
	Plugin   string        `yaml:"plugin"`
	Schedule Quoted        `yaml:"schedule"`
	Timeout  time.Duration `yaml:"timeout"`
	Config   any           `yaml:"config"` // the plugin's config type below

	// Explanation is the comment above the check, one line each.
	Explanation []string `yaml:"-"`
	// CommentedOut: the operator must fill something in first.
	CommentedOut bool `yaml:"-"`
	// Instead is another way to write part of the config, shown as a
	// comment after it.
	Instead *Alternative `yaml:"-"`
}

func (c *Check) explain(lines ...string) { c.Explanation = append(c.Explanation, lines...) }

// Alternative is config keys shown commented out, with a note saying when
// to use them.
type Alternative struct {
	Note   string
	Config any
}

// LogtailConfig is the logtail plugin's config (docs/logtail.md).
type LogtailConfig struct {
	Path    string        `yaml:"path"`
	Format  string        `yaml:"format"`
	StartAt Noted[string] `yaml:"start_at"`
}

// FreePBXConfig is the freepbx plugin's config (docs/freepbx.md).
type FreePBXConfig struct {
	URL              Noted[string]   `yaml:"url"`
	ClientID         string          `yaml:"client_id"`
	ClientSecretFile string          `yaml:"client_secret_file"`
	RequiredScopes   Noted[[]string] `yaml:"required_scopes"`
	FreePBXConf      Noted[string]   `yaml:"freepbx_conf"`
}

// FreePBXDatabaseUser is the freepbx plugin's other way to its database:
// a read-only user instead of freepbx_conf.
type FreePBXDatabaseUser struct {
	DatabaseDSN          string `yaml:"database_dsn"`
	DatabasePasswordFile string `yaml:"database_password_file"`
}

// WHMCSConfig is the whmcs plugin's config (docs/whmcs.md).
type WHMCSConfig struct {
	URL             Noted[string] `yaml:"url"`
	IdentifierFile  string        `yaml:"identifier_file"`
	SecretFile      string        `yaml:"secret_file"`
	RequiredActions []string      `yaml:"required_actions,flow"`
}

// Quoted is a string written in double quotes ("@every 1m", as the docs
// write schedules).
type Quoted string

// MarshalYAML quotes the string.
func (q Quoted) MarshalYAML() (any, error) {
	return &yaml.Node{Kind: yaml.ScalarNode, Style: yaml.DoubleQuotedStyle, Value: string(q)}, nil
}

// Noted is a value with a comment after it on its line.
type Noted[T any] struct {
	Value T
	Note  string
}

// MarshalYAML renders the value with its note as a line comment; a list
// stays on the line, in flow style.
func (n Noted[T]) MarshalYAML() (any, error) {
	var node yaml.Node
	if err := node.Encode(n.Value); err != nil {
		return nil, err
	}
	if node.Kind == yaml.SequenceNode {
		node.Style = yaml.FlowStyle
	}
	node.LineComment = n.Note
	return &node, nil
}
