package logtail

import (
	"fmt"
	"math/rand"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
)

func TestRequiredLiterals(t *testing.T) {
	cases := []struct {
		re   string
		want []string
	}{
		{`ajaxRequest declined`, []string{"ajaxRequest declined"}},
		{`Authentication failure for \S* from \S+`, []string{"Authentication failure for "}},
		{`SQLSTATE\[[0-9A-Z]{5}\]`, []string{"SQLSTATE["}},
		{`(?:Unable|Failed) to connect to (?:the )?(?:Asterisk )?[Mm]anager|Asterisk Manager unreachable`, []string{" to connect to ", "Asterisk Manager unreachable"}},
		{`^foo.*barbaz$`, []string{"barbaz"}},
		{`(abc)+x`, []string{"abc"}},
		{`(?i)declined`, nil}, // case-folded: no literal prefilter
		{`a|bcd`, nil},        // one branch too short
		{`(?:xyz)?`, nil},     // may match without it
		{`\d+ errors`, []string{" errors"}},
		{`ab`, nil},       // too short to be worth it
		{`foo\nbar`, nil}, // holds a newline: left to the regexp (never matches a line)
	}
	for _, c := range cases {
		tree, err := syntax.Parse(c.re, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		got := requiredLiterals(tree.Simplify())
		if !slices.Equal(got, c.want) {
			t.Errorf("requiredLiterals(%q) = %q, want %q", c.re, got, c.want)
		}
	}
}

// The prefiltered buffer scan must find exactly the lines a plain per-line
// regexp finds, cut at max bytes, each once per pattern.
func TestScanAgreesWithPerLineRegexp(t *testing.T) {
	pats := append(slices.Clone(defaultPatterns),
		patternConfig{Name: "anchored", Regex: `^\[2024-05-01 10:00:0[0-4]\] \[freepbx\.ERROR\]`, Severity: "warning"},
		patternConfig{Name: "no_literal", Regex: `\d{3} [a-z]+$`, Severity: "info"},
		patternConfig{Name: "multi", Regex: `needle|haystack`, Severity: "info"},
		patternConfig{Name: "folded", Regex: `(?i)SQLSTATE`, Severity: "info"},
	)
	plain, err := newMatcher(pats)
	if err != nil {
		t.Fatal(err)
	}
	// Calibrated on a FreePBX log, the matcher picks other literals (and
	// anchors) where the regexp leaves a choice; it must find the same.
	calibrated, err := newMatcher(pats)
	if err != nil {
		t.Fatal(err)
	}
	calibrated.calibrate(freepbxLog(1 << 20))
	for _, m := range []*matcher{plain, calibrated} {
		agreesWithPerLineRegexp(t, m, pats)
	}
}

func agreesWithPerLineRegexp(t *testing.T, m *matcher, pats []patternConfig) {
	t.Helper()
	fragments := []string{"ajaxRequest declined", "Authentication failure for admin from 10.0.0.1", "SQLSTATE[HY000] [2002]",
		"Unable to connect to Asterisk Manager", "Asterisk Manager unreachable", "needle", "haystack", "sqlstate", "123 abc", "x"}
	rng := rand.New(rand.NewSource(1))
	const max = 80
	for round := 0; round < 200; round++ {
		var b strings.Builder
		for i := 0; i < 30; i++ {
			fmt.Fprintf(&b, "[2024-05-01 10:00:0%d] [freepbx.ERROR]: ", rng.Intn(10))
			for j := rng.Intn(4); j > 0; j-- {
				b.WriteString(strings.Repeat(" ", rng.Intn(40)))
				b.WriteString(fragments[rng.Intn(len(fragments))])
			}
			b.WriteByte('\n')
		}
		buf := []byte(b.String())
		got := map[string]int{}
		m.scan(buf, max, func(i int, line []byte) { got[fmt.Sprintf("%s|%s", pats[i].Name, line)]++ })
		want := map[string]int{}
		for _, line := range strings.SplitAfter(b.String(), "\n") {
			line = strings.TrimSuffix(line, "\n")
			if line == "" {
				continue
			}
			if len(line) > max {
				line = line[:max]
			}
			for _, p := range pats {
				if regexp.MustCompile(p.Regex).MatchString(line) {
					want[p.Name+"|"+line]++
				}
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("round %d: scan found\n%v\nper-line regexp found\n%v", round, got, want)
		}
		// matchLine, used for single lines, agrees as well.
		for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
			if len(line) > max {
				line = line[:max]
			}
			m.matchLine([]byte(line), func(i int, l []byte) {
				if want[pats[i].Name+"|"+string(l)] == 0 {
					t.Fatalf("matchLine: %s matched %q, the regexp does not", pats[i].Name, l)
				}
			})
		}
	}
}

func TestRedact(t *testing.T) {
	cases := []struct{ in, secret string }{
		{`[2024-05-01 10:00:00] [freepbx.INFO]: login secret=Sup3rS3cret! ok`, "Sup3rS3cret!"},
		{`POST /admin/api/api/token grant_type=client_credentials&client_id=abc&client_secret=c0ffee1234567890&scope=gql`, "c0ffee1234567890"},
		{`{"username":"admin","password":"hunter2hunter2"}`, "hunter2hunter2"},
		{`Array ( [password] => pa55word [user] => x )`, "pa55word"},
		{`Authorization: Bearer abcdefghijklmnop.qrstuv`, "abcdefghijklmnop.qrstuv"},
		{`token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature-1`, "eyJzdWIiOiIxIn0"},
		{`connect mysql://freepbxuser:dbpa55@localhost/asterisk failed`, "dbpa55"},
		{`AMPMGRPASS: amp111secret`, "amp111secret"},
		{`access_token=tok_123456789 refresh_token: r3fr3sh`, "tok_123456789"},
		{`access_token=tok_123456789 refresh_token: r3fr3sh`, "r3fr3sh"},
		{`passwd='quoted value'`, "quoted"},
		// '&' inside a secret, and after it the next parameter still seen.
		{`login password=p&ss:w0rd! user=admin`, "ss:w0rd"},
		{`POST client_secret=ab&cd&ef&scope=gql&access_token=tk&more`, "cd&ef"},
		{`POST client_secret=ab&cd&ef&scope=gql&access_token=tk&more`, "tk&more"},
		// URL-encoded key and value.
		{`GET /cb?q=client_secret%3Dp%40ss%26w0rd%26scope%3Dgql`, "p%40ss"},
		{`body: "password%22%3A%22hunter2hunter2%22"`, "hunter2hunter2"},
		// A bearer token holding characters outside base64.
		{`Authorization: Bearer abc!def:ghi%jkl~mno`, "def:ghi"},
		{`Authorization: Digest username="admin", response="6629fae49393a05397450978507c4ef1"`, "6629fae4"},
	}
	for _, c := range cases {
		got := redact([]byte(c.in))
		if strings.Contains(got, c.secret) {
			t.Errorf("redact(%q) = %q still holds %q", c.in, got, c.secret)
		}
		if !strings.Contains(got, "<redacted>") {
			t.Errorf("redact(%q) = %q: no <redacted> marker", c.in, got)
		}
	}
	plain := `[2024-05-01 10:00:00] [freepbx.WARNING]: ajaxRequest declined [] []`
	if got := redact([]byte(plain)); got != plain {
		t.Errorf("redact changed a line without secrets: %q", got)
	}
	if got := redact([]byte("bad \xff utf-8 caf\xe9")); got != `bad \xFF utf-8 caf\xE9` {
		t.Errorf("invalid UTF-8 not shown as \\xNN: %q", got)
	}
	if got := redact([]byte(strings.Repeat("x", 5000))); len(got) != maxSampleBytes {
		t.Errorf("sample not cut: %d bytes", len(got))
	}
}

// Calibration chooses, among the literal sets a regexp allows, the one whose
// anchors are rarest in the data: for ami_unreachable "Unable" and "Failed"
// rather than " to connect to " (its rarest byte, 'c', is everywhere).
func TestCalibrateChoosesRareLiterals(t *testing.T) {
	m, err := newMatcher(defaultPatterns)
	if err != nil {
		t.Fatal(err)
	}
	lits := func() []string {
		var got []string
		for _, l := range m.pats[1].lits {
			got = append(got, string(l.b))
		}
		return got
	}
	if got := lits(); !slices.Equal(got, []string{" to connect to ", "Asterisk Manager unreachable"}) {
		t.Fatalf("before calibration: %q", got)
	}
	m.calibrate(freepbxLog(1 << 20))
	if got, want := lits(), []string{"Unable", "Failed", "Asterisk Manager unreachable"}; !slices.Equal(got, want) {
		t.Errorf("after calibration: %q, want %q", got, want)
	}
}

// A pass finds, in every line holding the literal, its first occurrence,
// whatever byte anchors the search and whatever byte is checked first.
func TestSearchFindsFirstOccurrenceAnyAnchor(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for round := 0; round < 2000; round++ {
		lit := []byte(randomText(rng, 1+rng.Intn(5)))
		var lines []string
		for n := rng.Intn(4); n >= 0; n-- {
			lines = append(lines, randomText(rng, rng.Intn(30)))
		}
		buf := []byte(strings.Join(lines, "\n") + "\n")
		var want []int
		start := 0
		for _, l := range lines {
			if i := strings.Index(l, string(lit)); i >= 0 {
				want = append(want, start+i+len(lit))
			}
			start += len(l) + 1
		}
		for at := range lit {
			for check := range lit {
				m := &matcher{pats: []pattern{{}}, hits: make([][]int, 1), lineEnd: make([]int, 1)}
				m.search(&pass{anchor: lit[at], lits: []anchored{{b: lit, at: at, check: check, pats: []int{0}}}}, buf)
				if !slices.Equal(m.hits[0], want) {
					t.Fatalf("%q in %q (anchor %d, check %d): hits %v, want %v", lit, buf, at, check, m.hits[0], want)
				}
			}
		}
	}
}

func randomText(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = "abc"[rng.Intn(3)]
	}
	return string(b)
}
