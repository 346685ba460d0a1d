package nspawntest

import (
	"os"
	"path/filepath"
	"testing"
)

func writeSources(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, "etc/apt", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestMirrorFromDeb822SkipsSecurityAndDisabled(t *testing.T) {
	root := writeSources(t, map[string]string{
		"sources.list.d/a.sources": `Types: deb
URIs: http://security.mirror.invalid/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: http://off.mirror.invalid/debian
Suites: bookworm
Enabled: no

Types: deb-src deb
# a comment
URIs: cdrom:/x http://main.mirror.invalid/debian/
Suites: bookworm bookworm-updates
Components: main
`,
	})
	got, err := mirrorIn(root, "bookworm")
	if err != nil || got != "http://main.mirror.invalid/debian" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestMirrorFromOneLineSources(t *testing.T) {
	root := writeSources(t, map[string]string{
		"sources.list": "# deb http://commented.invalid/debian bookworm main\n" +
			"deb-src http://src.mirror.invalid/debian bookworm main\n" +
			"deb [arch=amd64 signed-by=/k.gpg] https://one.mirror.invalid/debian bookworm main\n",
	})
	got, err := mirrorIn(root, "bookworm")
	if err != nil || got != "https://one.mirror.invalid/debian" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestMirrorNoneIsAnError(t *testing.T) {
	root := writeSources(t, map[string]string{"sources.list": "deb cdrom:/media bookworm main\n"})
	if got, err := mirrorIn(root, "bookworm"); err == nil {
		t.Fatalf("want an error, got %q", got)
	}
}
