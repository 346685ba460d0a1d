package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBundledPluginIsChosenByTheNameItWasStartedUnder(t *testing.T) {
	for _, argv0 := range []string{"/usr/libexec/pbxwatch/pbxwatch-plugin-whmcs", "pbxwatch-plugin-logtail", "./bin/pbxwatch-plugin-nagios"} {
		main, err := bundledPlugin(argv0)
		if err != nil || main == nil {
			t.Errorf("%s: want a bundled plugin, got %v", argv0, err)
		}
	}
	for _, argv0 := range []string{"/usr/bin/pbxwatch", "pbxwatch", "./pbxwatch-whmcs", "pbxwatch.plugin-whmcs"} {
		if main, err := bundledPlugin(argv0); main != nil || err != nil {
			t.Errorf("%s: want the agent, got a plugin (%v)", argv0, err)
		}
	}
}

// A link under a name pbxwatch does not bundle says so, and how to fix it,
// where the agent shows a plugin's last words (stderr).
func TestBundledPluginUnknownNameIsAnError(t *testing.T) {
	main, err := bundledPlugin("/usr/libexec/pbxwatch/pbxwatch-plugin-whmsc")
	if main != nil || err == nil {
		t.Fatalf("want an error, got main=%v err=%v", main != nil, err)
	}
	for _, want := range []string{"pbxwatch-plugin-whmsc", "pbxwatch-plugin-whmcs", "pbxwatch-plugin-accesslog", "a binary of its own"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// Every plugins/<name> is in the table, and nothing else: `make build`
// links one name per plugins/*/main.go.
func TestBundledTableListsEveryPluginDirectory(t *testing.T) {
	mains, err := filepath.Glob(filepath.Join("..", "plugins", "*", "main.go"))
	if err != nil || len(mains) == 0 {
		t.Fatalf("no plugins found: %v", err)
	}
	dirs := map[string]bool{}
	for _, m := range mains {
		dirs[filepath.Base(filepath.Dir(m))] = true
	}
	for name := range dirs {
		if bundled[name] == nil {
			t.Errorf("plugins/%s is not in bundled: `make build` would link a name the binary does not serve", name)
		}
	}
	for name := range bundled {
		if !dirs[name] {
			t.Errorf("bundled lists %s, which has no plugins/%s/main.go", name, name)
		}
	}
	if _, err := os.Stat(filepath.Join("..", "plugins")); err != nil {
		t.Fatal(err)
	}
}
