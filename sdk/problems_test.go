package sdk

import (
	"strings"
	"testing"
)

type probeItem struct {
	Name  string `yaml:"name"`
	Level int    `yaml:"level"`
}

type probeConfig struct {
	URL   string      `yaml:"url"`
	Port  int         `yaml:"port"`
	Items []probeItem `yaml:"items"`
}

func (c *probeConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = probeConfig{Port: 443}
	type plain probeConfig
	p := NewProblems(unmarshal)
	if err := p.Nested(unmarshal((*plain)(c))); err != nil {
		return err
	}
	if c.URL == "" {
		p.Add("url", "url is required")
	}
	if c.Port <= 0 {
		p.Add("port", "port %d: want a positive port", c.Port)
	}
	for i, it := range c.Items {
		if it.Name == "" {
			p.In("items", i).Add("name", "items[%d]: name is required", i)
		}
		if it.Level > 3 {
			p.In("items", i).Add("level", "items[%d]: level %d: want 0 to 3", i, it.Level)
		}
	}
	return p.Err()
}

// decodeAt decodes block as if it sat at line 20 of pbxwatch.yml.
func decodeAt(t *testing.T, block string) error {
	t.Helper()
	lines := map[int]int{}
	for i := 1; i <= strings.Count(block, "\n")+1; i++ {
		lines[i] = i + 19
	}
	var c probeConfig
	return NewConfig("c", t.TempDir(), "pbxwatch.yml", []byte(block), lines).Decode(&c)
}

func wantProblems(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want %q", want)
	}
	got := strings.Split(err.Error(), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

func TestProblemsNameTheKeysLine(t *testing.T) {
	wantProblems(t, decodeAt(t, "url: https://pbx\nport: -1\n"),
		"pbxwatch.yml:21: port -1: want a positive port")
	// A missing key: the mapping's first line, where it belongs.
	wantProblems(t, decodeAt(t, "port: 0\n"),
		"pbxwatch.yml:20: url is required",
		"pbxwatch.yml:20: port 0: want a positive port")
}

func TestProblemsOfSequenceEntries(t *testing.T) {
	block := "url: https://pbx\nitems:\n  - name: a\n    level: 9\n  - level: 1\n  - {name: c, level: 7}\n"
	wantProblems(t, decodeAt(t, block),
		"pbxwatch.yml:23: items[0]: level 9: want 0 to 3",
		"pbxwatch.yml:24: items[1]: name is required", // the entry's line: it has no name
		"pbxwatch.yml:25: items[2]: level 7: want 0 to 3")
}

// yaml's own problems (a wrong type) and the validation's come together.
func TestProblemsBesideYAMLsOwn(t *testing.T) {
	wantProblems(t, decodeAt(t, "port: many\nitems: [{name: a, level: 5}]\n"),
		"pbxwatch.yml:20: port must be a whole number",
		"pbxwatch.yml:20: url is required",
		"pbxwatch.yml:21: items[0]: level 5: want 0 to 3")
}

// No block at all: no line of the config file to name.
func TestProblemsOfAnEmptyBlockNameNoLine(t *testing.T) {
	wantProblems(t, decodeAt(t, ""), "url is required")
}

func TestProblemsOfAValueBuiltInGo(t *testing.T) {
	var p Problems
	if p.Err() != nil {
		t.Fatal("no problems, yet an error")
	}
	p.Add("url", "url is required")
	p.In("items", 0).Add("name", "items[0]: name is required")
	wantProblems(t, p.Err(), "url is required", "items[0]: name is required")
	if p.Has("url") || p.Line("url") != 0 {
		t.Fatal("a value built in Go has no keys or lines")
	}
}
