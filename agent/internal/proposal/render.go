package proposal

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Render is the proposal as the file init writes: a header of findings,
// then the YAML, checks to fill in first commented out.
func (p *Proposal) Render() (string, error) {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# pbxwatch configuration proposed by `pbxwatch init` on %s at %s.", comment(p.Hostname), p.At.UTC().Format(time.RFC3339))
	w("# It is a start: read every comment, fill in what they ask, then check it with")
	w("#   pbxwatch validate --config.file=%s", DefaultOutput)
	w("# pbxwatch init read FreePBX's files and database and changed nothing.")
	w("#")
	for _, line := range p.Findings {
		w("# %s", line)
	}
	w("")
	agent, err := marshal(struct {
		Agent Agent `yaml:"agent"`
	}{p.Agent})
	if err != nil {
		return "", err
	}
	b.WriteString(agent)
	w("")
	w("checks:")
	for i, c := range p.Checks {
		if i > 0 {
			w("")
		}
		if err := c.render(&b); err != nil {
			return "", fmt.Errorf("check %s: %w", c.Name, err)
		}
	}
	return b.String(), nil
}

// render writes the check as an item of checks:, its explanation above.
func (c Check) render(b *strings.Builder) error {
	item, err := marshal([]Check{c})
	if err != nil {
		return err
	}
	if c.Instead != nil {
		alt, err := marshal(c.Instead.Config)
		if err != nil {
			return err
		}
		item += "    # " + c.Instead.Note + "\n" + prefixLines(alt, "    # ")
	}
	for _, line := range c.Explanation {
		b.WriteString("  # " + line + "\n")
	}
	prefix := "  "
	if c.CommentedOut {
		prefix = "  # "
	}
	b.WriteString(prefixLines(item, prefix))
	return nil
}

func marshal(v any) (string, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}

func prefixLines(s, prefix string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line != "" {
			b.WriteString(prefix + line)
		}
	}
	return b.String()
}
