// Package bounds keeps text that crosses a process boundary valid UTF-8
// and within documented sizes. Servers and logs a plugin reads are not
// ours: a Latin-1 byte must not make a result unmarshalable (gRPC refuses
// invalid UTF-8 in strings), and a 1 MiB error page must not become a 1 MiB
// alert.
//
// The SDK applies these bounds before a result leaves the plugin; the agent
// applies them again to whatever a plugin sends (plugins in other languages
// included) and counts every cut in pbxwatch_truncations_total{what}.
package bounds

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// The bounds, in bytes of UTF-8 unless they count items. docs/design.md
// lists them; changing one is a documented, visible change.
const (
	Summary          = 1024 // a result's summary
	Message          = 4096 // a diagnosis's message
	Diagnoses        = 64   // diagnoses per result
	RemediationSteps = 20   // steps per diagnosis
	RemediationStep  = 1024 // one step
	DetailEntries    = 32   // evidence entries per diagnosis
	DetailValue      = 8192 // one evidence value (an excerpt of a body; a Nagios plugin's long output, whose own limit is 8 KiB)
	Key              = 128  // a detail or label key, a code, a metric or event name
	Metrics          = 5000 // metrics per result
	LabelsPerSeries  = 32   // labels per metric or event
	LabelValue       = 256  // one label value
	Events           = 500  // events per result
	EventMessage     = 2048 // one event's message
	Annotation       = 8192 // one alert annotation (agent side)
)

// cutMark ends a cut text; Cut recognises its own mark so that text cut
// by the plugin is counted by the agent too.
const cutMarkFormat = " …[cut: %d bytes in all]"

var cutMark = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(` …\[cut: \d+ bytes in all\]$`) })

// Valid returns s with every byte that is not part of valid UTF-8 shown as
// \xNN, so the evidence stays readable and honest about what was there,
// and every Unicode bidirectional control shown as \u202E (its code point):
// one of them in a server's answer would otherwise reorder the text
// around it on the status page, in a terminal or a mail client, making a
// quote say something the server did not.
func Valid(s string) string {
	if utf8.ValidString(s) && !strings.ContainsAny(s, bidiControls) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02X`, s[0])
		case strings.ContainsRune(bidiControls, r):
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
	return b.String()
}

// bidiControls are the characters that change the display order of text
// (Unicode's Bidi_Control property): embeddings, overrides, isolates and
// the implicit marks.
const bidiControls = "\u061C\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069"

// Cut returns s made valid UTF-8 and at most max bytes long, cut at a rune
// boundary and marked with how long it was; cut reports whether it was cut
// here or already carries the mark of a cut made before (by the plugin).
func Cut(s string, max int) (out string, cut bool) {
	s = Valid(s)
	if len(s) <= max {
		return s, cutMark().MatchString(s)
	}
	mark := fmt.Sprintf(cutMarkFormat, len(s))
	keep := max - len(mark)
	if keep <= 0 { // a bound too small for the mark: cut bare
		keep, mark = max, ""
	}
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + mark, true
}

// Counter is told what was cut ("summary", "label_value"...).
type Counter func(what string)

// Text cuts s to max and tells count (which may be nil) when it was cut.
func Text(s string, max int, what string, count Counter) string {
	out, cut := Cut(s, max)
	if cut && count != nil {
		count(what)
	}
	return out
}

// Map bounds a map of strings: at most entries keys (the rest dropped, in
// sorted order so the same ones survive every run), each key to Key bytes
// and each value to value bytes.
func Map(m map[string]string, entries, value int, what string, count Counter) map[string]string {
	if m == nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	if len(keys) > entries {
		sort.Strings(keys)
		keys = keys[:entries]
		if count != nil {
			count(what + "_entries")
		}
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		out[Text(k, Key, what+"_key", count)] = Text(m[k], value, what, count)
	}
	return out
}

// List bounds a list of strings: at most items, each to max bytes.
func List(l []string, items, max int, what string, count Counter) []string {
	if len(l) > items {
		l = l[:items]
		if count != nil {
			count(what + "_entries")
		}
	}
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = Text(s, max, what, count)
	}
	return out
}
