package logtail

import (
	"bytes"
	"testing"
)

func TestParseLine(t *testing.T) {
	cases := []struct {
		line  string
		level level
		msg   string
	}{
		{"[2024-05-01 10:00:00] [freepbx.INFO]: hello [] []", levelInfo, "hello [] []"},
		{"[2024-05-01 10:00:05] [freepbx.WARNING]: w", levelWarning, "w"},
		{"[2024-05-01 10:00:06] [freepbx.ERROR]: e {\"key\":\"value\"} []", levelError, "e {\"key\":\"value\"} []"},
		{"[2024-05-01 10:00:00] [freepbx_security.NOTICE]: Authentication failure for admin from 203.0.113.7 [] []", levelNotice, "Authentication failure for admin from 203.0.113.7 [] []"},
		{"[2024-05-01 10:00:00] [my.dotted.chan.CRITICAL]: c", levelCritical, "c"},
		{"[2019-Jul-25 14:28:32] [freepbx.INFO]: Deprecated way to add Console commands [] []", levelInfo, "Deprecated way to add Console commands [] []"},
		{"[2019-Jul-25 14:28:31] [INFO] (libraries/modulefunctions.class.php:2083) - Generating CSS...Done", levelInfo, "Generating CSS...Done"},
		{"[2019-Jul-25 14:28:31] [ERROR] (a.php:1) - x", levelError, "x"},
		{"[2019-Jul-25 14:28:31] [FATAL] (a.php:1) - x", levelFatal, "x"},
		{"[2019-Jul-25 14:28:31] [SECURITY] no location", levelSecurity, "no location"},
		{"[2024-05-01 10:00:00] [freepbx.EMERGENCY]: ", levelEmergency, ""},
		{"[2024-05-01 10:00:00] [freepbx.DEBUG]: d", levelDebug, "d"},
		{"[2024-05-01 10:00:00] [freepbx.ALERT]: a", levelAlert, "a"},
		// Not (or not quite) FreePBX lines: unknown, whole line as message.
		{"[2019-07-25 14:28:31] Authentication failure for admin from 203.0.113.7", levelUnknown, ""},
		{"[2024-05-01 10:00:00] [freepbx.VERBOSE]: v", levelUnknown, ""},
		{"[2024-05-01 10:00:00] [freepbx.info]: lower", levelUnknown, ""},
		{"[2024-05-01 10:00:00] [freepbx.INFO] no colon", levelUnknown, ""},
		{"[2024-05-01 10:00:00] [.INFO]: empty channel", levelUnknown, ""},
		{"[2024-5-01 10:00:00] [freepbx.INFO]: bad date", levelUnknown, ""},
		{"[2024-May-01 10:00] [freepbx.INFO]: bad time", levelUnknown, ""},
		{"[2024-05-01 10:00:00] [INFO]", levelUnknown, ""},
		{"    at stack frame", levelUnknown, ""},
		{"", levelUnknown, ""},
		{"[", levelUnknown, ""},
		{"[2024-05-01 10:00:00] [freepbx.INFO]: \xff\xfe invalid utf-8", levelInfo, "\xff\xfe invalid utf-8"},
	}
	for _, c := range cases {
		lv, msg := parseLine([]byte(c.line), formatFreePBX)
		want := c.msg
		if c.level == levelUnknown {
			want = c.line
		}
		if lv != c.level || string(msg) != want {
			t.Errorf("parseLine(%q) = %v, %q; want %v, %q", c.line, lv, msg, c.level, want)
		}
		if lv, _ := parseLine([]byte(c.line), formatPlain); lv != levelUnknown {
			t.Errorf("plain format gave level %v for %q", lv, c.line)
		}
	}
}

func TestParseLineDoesNotAllocate(t *testing.T) {
	line := []byte("[2024-05-01 10:00:00] [freepbx.WARNING]: something [] []")
	if n := testing.AllocsPerRun(100, func() { parseLine(line, formatFreePBX) }); n != 0 {
		t.Fatalf("parseLine allocates %v times per call", n)
	}
}

// FuzzParseLine: any bytes parse without panicking; the message is a tail
// of the line; a level is only claimed for a line with a timestamp.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		"[2024-05-01 10:00:00] [freepbx.INFO]: hello [] []",
		"[2019-Jul-25 14:28:32] [freepbx.INFO]: x [] []",
		"[2019-Jul-25 14:28:31] [INFO] (libraries/modulefunctions.class.php:2083) - Generating CSS...Done",
		"[2019-07-25 14:28:31] Authentication failure for admin from 203.0.113.7",
		"[2024-05-01 10:00:00] [a.b.c.ERROR]: ",
		"[2024-05-01 10:00:00] [WARNING] (",
		"[2024-05-01 10:00:00] [",
		"[9999-Zzz-99 99:99:99]",
		"\xff\xfe\xfd",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		lv, msg := parseLine(line, formatFreePBX)
		if lv >= numLevels {
			t.Fatalf("level %d out of range", lv)
		}
		if !bytes.HasSuffix(line, msg) {
			t.Fatalf("message %q is not a tail of %q", msg, line)
		}
		if lv != levelUnknown {
			if _, ok := skipTimestamp(line); !ok {
				t.Fatalf("level %v without a timestamp in %q", lv, line)
			}
			if len(msg) >= len(line) {
				t.Fatalf("message %q not shorter than line %q", msg, line)
			}
		} else if !bytes.Equal(msg, line) {
			t.Fatalf("unknown level but message %q != line %q", msg, line)
		}
	})
}
