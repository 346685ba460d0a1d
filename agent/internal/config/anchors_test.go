package config

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Anchors shared between check blocks (`config: *common`, `<<: *common`)
// reach each plugin as a plain block, with lines mapped to the anchor.
func TestAnchorsAndMergeKeysBetweenCheckBlocks(t *testing.T) {
	t.Setenv("PBXW_ANCHOR_SECRET", "s3cret-from-env")
	// Lenient: the plugin "x" is not installed, which is the checks' own
	// problem, not the file's.
	cfg, err := ParseLenient("/etc/pbxwatch/pbxwatch.yml", []byte(`checks:
  - name: a
    plugin: x
    config: &common
      url: https://billing.example.com/
      secret: ${PBXW_ANCHOR_SECRET}
  - name: b
    plugin: x
    config: *common
  - name: c
    plugin: x
    config:
      <<: *common
      url: https://other.example.com/
`))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []map[string]string{
		{"url": "https://billing.example.com/", "secret": "s3cret-from-env"},
		{"url": "https://billing.example.com/", "secret": "s3cret-from-env"},
		{"url": "https://other.example.com/", "secret": "s3cret-from-env"},
	} {
		ch := cfg.Checks[i]
		var got map[string]string
		if err := yaml.Unmarshal(ch.ConfigYAML, &got); err != nil {
			t.Fatalf("check %s: %v\n%s", ch.Name, err, ch.ConfigYAML)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("check %s: %s = %q, want %q\n%s", ch.Name, k, got[k], v, ch.ConfigYAML)
			}
		}
		if strings.Contains(string(ch.ConfigYAML), "&") || strings.Contains(string(ch.ConfigYAML), "*common") {
			t.Errorf("check %s: anchor or alias left in the block:\n%s", ch.Name, ch.ConfigYAML)
		}
		if len(ch.Secrets) != 1 || ch.Secrets[0] != "s3cret-from-env" {
			t.Errorf("check %s: secrets %v", ch.Name, ch.Secrets)
		}
	}
	// b's block comes from the anchor's lines: its secret from line 6.
	if got := cfg.Checks[1].LineMap[2]; got != 6 {
		t.Errorf("b's second line maps to %d, want 6 (%v)", got, cfg.Checks[1].LineMap)
	}
}

func TestRecursiveAliasIsAClearError(t *testing.T) {
	cfg, err := ParseLenient("pbxwatch.yml", []byte("checks:\n  - name: a\n    plugin: x\n    config: &r {self: *r}\n"))
	if err == nil && cfg != nil {
		err = cfg.Checks[0].Invalid
	}
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), "re-read config block") {
		t.Fatalf("internal-sounding error: %v", err)
	}
}
