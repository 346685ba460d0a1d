package config

import (
	"strings"
	"testing"
)

// TestConfigErrorsSayWhereAndHow: each problem at its own line, with the
// fix in words an operator understands and no Go type names.
func TestConfigErrorsSayWhereAndHow(t *testing.T) {
	dir := pluginDir(t, "p")
	head := "agent: {plugin_dir: " + dir + "}\nchecks:\n  - name: a\n    plugin: p\n"
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"tab", "agent:\n  plugin_dir: " + dir + "\n\tstate_dir: /x\n",
			[]string{"pbxwatch.yml:3: found a tab character in the indentation: use spaces"}},
		{"bad schedule", head + "    timeout: 5s\n    schedule: every minute\n",
			[]string{`pbxwatch.yml:6: check "a": schedule "every minute": expected exactly 5 fields`, "minute hour day-of-month month day-of-week"}},
		{"every 0s", head + "    schedule: '@every 0s'\n",
			[]string{`pbxwatch.yml:5: check "a": schedule "@every 0s": runs more often than every 5s, the shortest interval allowed`}},
		{"every 500ms", head + "    schedule: '@every 500ms'\n",
			[]string{`pbxwatch.yml:5: check "a": schedule "@every 500ms": runs more often than every 5s`, `use "@every 5s" or longer`}},
		{"every 4s", head + "    schedule: '@every 4s'\n", []string{`runs more often than every 5s`}},
		{"timeout without unit", head + "    timeout: 30\n",
			[]string{`pbxwatch.yml:5: timeout must be a duration such as 30s`}},
		{"timeout not a duration", head + "    timeout: soon\n",
			[]string{`pbxwatch.yml:5: timeout must be a duration such as 30s`}},
		{"check key typo", head + "    shedule: '@every 1m'\n",
			[]string{`pbxwatch.yml:5: unknown key "shedule": did you mean "schedule"?`}},
		{"agent key typo", "agent:\n  plugins_dir: /x\n",
			[]string{`pbxwatch.yml:2: unknown key "plugins_dir": did you mean "plugin_dir"?`}},
		{"alerting key typo", "alerting:\n  alertmanagers:\n    - url: http://127.0.0.1:9093\n      timout: 5s\n",
			[]string{`pbxwatch.yml:4: unknown key "timout": did you mean "timeout"?`}},
		{"nothing close", head + "    colour: red\n",
			[]string{`pbxwatch.yml:5: unknown key "colour": not a setting here (valid here: alert, config, isolate, name, plugin, schedule, sha256, timeout`}},
		{"list where a value goes", head + "    sha256: [a, b]\n",
			[]string{`pbxwatch.yml:5: sha256 must be a single value (text)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.body)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("missing %q in:\n%v", w, err)
				}
			}
			for _, bad := range []string{"time.Duration", "unmarshal", "config.plain", "!!"} {
				if strings.Contains(err.Error(), bad) {
					t.Errorf("Go-speak %q in:\n%v", bad, err)
				}
			}
		})
	}
}

func TestSchedulesAtTheFloorAreAccepted(t *testing.T) {
	dir := pluginDir(t, "p")
	for _, s := range []string{"@every 5s", "@every 1m", "* * * * *", "*/5 * * * *", "@hourly"} {
		if _, err := parse(t, "agent: {plugin_dir: "+dir+"}\nchecks:\n  - name: a\n    plugin: p\n    schedule: '"+s+"'\n"); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

// TestFileAndCheckProblemsTogether: the file's problems and every check's
// come in one answer.
func TestFileAndCheckProblemsTogether(t *testing.T) {
	dir := pluginDir(t, "p")
	_, err := parse(t, "agent:\n  plugin_dir: "+dir+"\n  stat_dir: /x\nchecks:\n  - name: a\n    plugin: p\n    timeout: 30\n  - name: b\n    plugin: p\n    schedule: '@every 1s'\n")
	for _, w := range []string{`pbxwatch.yml:3: unknown key "stat_dir": did you mean "state_dir"?`, "pbxwatch.yml:7: timeout must be a duration", `pbxwatch.yml:10: check "b": schedule`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in:\n%v", w, err)
		}
	}
}
