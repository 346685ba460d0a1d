package logtail

import (
	"bytes"
	"fmt"
	"math/rand"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// scanAgrees checks that m.scan over buf (whole lines, the last ending in
// a newline) finds exactly the lines a plain per-line regexp finds, cut at
// max, once per pattern, in pattern order and each pattern's lines in
// order.
func scanAgrees(t *testing.T, m *matcher, pats []patternConfig, buf []byte, max int) {
	t.Helper()
	var got []string
	m.scan(buf, max, func(i int, line []byte) { got = append(got, fmt.Sprintf("%d|%s", i, line)) })
	var want []string
	lines := bytes.Split(bytes.TrimSuffix(buf, []byte("\n")), []byte("\n"))
	for i, p := range pats {
		re := regexp.MustCompile(p.Regex)
		for _, line := range lines {
			if len(line) > max {
				line = line[:max]
			}
			if re.Match(line) {
				want = append(want, fmt.Sprintf("%d|%s", i, line))
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("max %d, patterns %q, buffer %q:\nscan found %q\nper-line regexp found %q", max, regexes(pats), buf, got, want)
	}
}

func regexes(pats []patternConfig) []string {
	var rs []string
	for _, p := range pats {
		rs = append(rs, p.Regex)
	}
	return rs
}

// randomRegex builds a regexp over a small alphabet whose required
// literals overlap, share bytes and repeat: alternations, optional and
// repeated parts, literals of one byte repeated ("aaa").
func randomRegex(rng *rand.Rand, depth int) string {
	lit := func() string { return randomText(rng, 1+rng.Intn(5)) }
	if depth == 0 {
		return regexp.QuoteMeta(lit())
	}
	switch rng.Intn(6) {
	case 0:
		return randomRegex(rng, depth-1) + "|" + randomRegex(rng, depth-1)
	case 1:
		return "(?:" + randomRegex(rng, depth-1) + ")?" + lit()
	case 2:
		return "(?:" + randomRegex(rng, depth-1) + ")+" + randomRegex(rng, depth-1)
	case 3:
		return lit() + "[ab]" + lit()
	case 4:
		return "^" + lit() + ".*" + randomRegex(rng, depth-1)
	default:
		return randomRegex(rng, depth-1) + randomRegex(rng, depth-1) + "$"
	}
}

// The literal search, whatever literals and anchors the data leads the
// matcher to choose, finds exactly what a per-line regexp finds: random
// patterns with overlapping literals over random lines, the matcher
// calibrated on data with other byte frequencies, lines cut at random.
func TestScanAgreesOnRandomPatterns(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for round := 0; round < 3000; round++ {
		var pats []patternConfig
		for i := rng.Intn(4); i >= 0; i-- {
			pats = append(pats, patternConfig{Name: fmt.Sprintf("p%d", i), Regex: randomRegex(rng, rng.Intn(3)), Severity: "info"})
		}
		m, err := newMatcher(pats)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i := rng.Intn(20); i >= 0; i-- {
			b.WriteString(randomText(rng, rng.Intn(25)))
			b.WriteByte('\n')
		}
		buf := []byte(b.String())
		if rng.Intn(2) == 0 {
			m.calibrate([]byte(randomText(rng, 200) + b.String()))
		}
		scanAgrees(t, m, pats, buf, 3+rng.Intn(25))
		// The same matcher again: what one buffer left behind must not
		// change the next.
		scanAgrees(t, m, pats, buf, 3+rng.Intn(25))
	}
}

// FuzzScanAgreesWithPerLineRegexp: on any lines, calibrated on them, the
// default patterns and some with overlapping literals find exactly what a
// per-line regexp finds.
func FuzzScanAgreesWithPerLineRegexp(f *testing.F) {
	f.Add([]byte("[2024-05-01 10:00:00] [freepbx.WARNING]: Unable to connect to Asterisk Manager\nFailed to connect to the manager\n"), uint8(40))
	f.Add([]byte("SQLSTATE[HY000] x SQLSTATE[42S02]\naaaa aab ab\nAuthentication failure for  from x\n"), uint8(12))
	f.Add([]byte("needle haystack\nhaystackneedle\n"), uint8(8))
	pats := append(slices.Clone(defaultPatterns),
		patternConfig{Name: "overlap", Regex: `aab|aaa|ab(?:c|d)`, Severity: "info"},
		patternConfig{Name: "multi", Regex: `needle|haystack`, Severity: "info"},
		patternConfig{Name: "pure", Regex: `ack`, Severity: "info"},
	)
	f.Fuzz(func(t *testing.T, data []byte, max uint8) {
		if len(data) > 4096 {
			data = data[:4096]
		}
		if len(data) == 0 || data[len(data)-1] != '\n' {
			data = append(data, '\n')
		}
		for _, calibrated := range []bool{false, true} {
			m, err := newMatcher(pats)
			if err != nil {
				t.Fatal(err)
			}
			if calibrated {
				m.calibrate(data)
			}
			scanAgrees(t, m, pats, data, 1+int(max))
		}
	})
}

// Two literals of one pattern found in one pass: the stop at 'q' finds
// "qabbqaa" (ending at 7) before "bbq" (ending at 5). Cut at 5 bytes,
// the line holds only the second, and the regexp matches the cut line.
func TestScanKeepsALinesEarliestEndingOccurrence(t *testing.T) {
	pats := []patternConfig{{Name: "p", Regex: `qabbqaa|bbq`, Severity: "info"}}
	m, err := newMatcher(pats)
	if err != nil {
		t.Fatal(err)
	}
	m.calibrate([]byte(strings.Repeat("ab", 1000) + "q"))
	if len(m.passes) != 1 || m.passes[0].anchor != 'q' {
		t.Fatalf("passes %+v, want one for 'q'", m.passes)
	}
	scanAgrees(t, m, pats, []byte("x\nqabbqaa\n"), 5)
}
