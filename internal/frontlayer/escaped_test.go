package frontlayer

import (
	"fmt"
	"math/rand"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf16"
)

// anyEscapingRegexp is how Scrub found a secret in any escaping before
// replaceEscaped (a regexp compiled and kept per secret): the reference
// replaceEscaped is held to. It matches v with each character written as itself or in any
// JSON (\uXXXX, \/, \"), HTML (&amp;, &#34;, &#x22;) or URL (%XX, +)
// escape.
func anyEscapingRegexp(v string) *regexp.Regexp {
	var b strings.Builder
	for _, r := range v {
		alts := []string{regexp.QuoteMeta(string(r))}
		var units, pct []string
		for _, u := range utf16.Encode([]rune{r}) {
			units = append(units, fmt.Sprintf(`\\u(?i:%04x)`, u))
		}
		for _, c := range []byte(string(r)) {
			pct = append(pct, fmt.Sprintf(`%%(?i:%02x)`, c))
		}
		alts = append(alts, strings.Join(units, ""), strings.Join(pct, ""), fmt.Sprintf(`&#0*%d;`, r), fmt.Sprintf(`&#(?i:x0*%x);`, r))
		if r >= 0x80 && r <= 0xFF {
			// Latin-1: one byte, percent-encoded or shown as \xNN.
			alts = append(alts, fmt.Sprintf(`%%(?i:%02x)`, r), fmt.Sprintf(`\\x(?i:%02x)`, r))
		}
		switch r {
		case '/', '"', '\\':
			alts = append(alts, `\\`+regexp.QuoteMeta(string(r)))
		case ' ':
			alts = append(alts, `\+`)
		case '&':
			alts = append(alts, `&amp;`)
		case '<':
			alts = append(alts, `&lt;`)
		case '>':
			alts = append(alts, `&gt;`)
		case '\'':
			alts = append(alts, `&apos;`)
		}
		if r == '"' {
			alts = append(alts, `&quot;`)
		}
		b.WriteString("(?:" + strings.Join(alts, "|") + ")")
	}
	return regexp.MustCompile(b.String())
}

// writeEscaped writes r in one of the forms a page may show it in, hex in
// either case, references with leading zeros, some of them wrong (a
// different digit, upper-case escapes the regexp does not fold).
func writeEscaped(rng *rand.Rand, b *strings.Builder, r rune, wrong bool) {
	hexCase := func(s string) string {
		if rng.Intn(2) == 0 {
			return strings.ToUpper(s)
		}
		return s
	}
	form := rng.Intn(12)
	if !wrong && (form == 5 || form == 6) {
		form = 7
	}
	switch form {
	case 0:
		b.WriteString(hexCase(url.QueryEscape(string(r))))
	case 1:
		for _, u := range utf16.Encode([]rune{r}) {
			b.WriteString(`\u` + hexCase(fmt.Sprintf("%04x", u)))
		}
	case 2:
		fmt.Fprintf(b, "&#%s%d;", strings.Repeat("0", rng.Intn(3)), r)
	case 3:
		fmt.Fprintf(b, "&#%s%s%s;", []string{"x", "X"}[rng.Intn(2)], strings.Repeat("0", rng.Intn(3)), hexCase(fmt.Sprintf("%x", r)))
	case 4:
		if r < 256 {
			fmt.Fprintf(b, `\x%s`, hexCase(fmt.Sprintf("%02x", r)))
		} else {
			b.WriteRune(r)
		}
	case 5:
		b.WriteString([]string{`\"`, `\/`, `\\`, "+", "&amp;", "&lt;", "&gt;", "&apos;", "&quot;", "&AMP;", `\U0061`, "%", "&#", "\xff", "\xef\xbf\xbd"}[rng.Intn(15)])
	case 6:
		fmt.Fprintf(b, "&#%d;", r+1)
	default:
		b.WriteRune(r)
	}
}

// replaceEscaped finds what the regexp found, at the same places and of
// the same length, in text made of secrets' characters in every form,
// pieces of secrets, near-misses, other characters and invalid bytes.
func TestReplaceEscapedFindsWhatTheRegexpFound(t *testing.T) {
	rng := rand.New(rand.NewSource(22))
	secrets := []string{"s3cr3t-Pa55", `p@ss:w/rd+%&"<>'\!#é x`, "aaaa", "\\\\", "&&&&", "abab", "0000", "\uFFFD\uFFFDab", "é€😀z", "a b+c", "0b6c3f2e9d8a47c1b5e4f3a2d1c0b9a8", "\x00\x01ab"}
	alphabet := []rune("aAbB0123456789fFxXuU%&#;+\\/\"'<>é€😀 .\uFFFD")
	matched := 0
	for i := 0; i < 20000; i++ {
		v := secrets[rng.Intn(len(secrets))]
		if i%3 == 0 {
			var b strings.Builder
			for n := 4 + rng.Intn(6); n > 0; n-- {
				b.WriteRune(alphabet[rng.Intn(len(alphabet))])
			}
			v = b.String()
		}
		runes := []rune(v)
		var b strings.Builder
		for n := rng.Intn(5); n > 0; n-- {
			switch rng.Intn(4) {
			case 0: // the whole secret
				for _, r := range runes {
					writeEscaped(rng, &b, r, false)
				}
			case 1: // a piece of it
				for _, r := range runes[:rng.Intn(len(runes))] {
					writeEscaped(rng, &b, r, true)
				}
			case 2:
				b.WriteString("\xff\xc3")
			default:
				for m := rng.Intn(6); m > 0; m-- {
					writeEscaped(rng, &b, alphabet[rng.Intn(len(alphabet))], true)
				}
			}
		}
		text := b.String()
		want := anyEscapingRegexp(v).ReplaceAllLiteralString(text, "<secret>")
		if got := replaceEscaped(text, v); got != want {
			t.Fatalf("secret %q in %q:\ngot  %q\nwant %q", v, text, got, want)
		}
		if want != text {
			matched++
		}
	}
	t.Logf("%d of 20000 texts held the secret", matched)
	if matched < 5000 {
		t.Fatalf("only %d texts held the secret: the cases do not test the matcher", matched)
	}
}

// A text made to make a backtracking matcher try every split (a page of
// backslashes, a secret of backslashes that does not end there: each can
// be matched as one character or as half of the escape \\) is scrubbed in
// len(text) × len(secret) steps, not 2^len(secret) a start.
func TestReplaceEscapedIsLinearOnHostileText(t *testing.T) {
	secret := strings.Repeat(`\`, 40) + "Z"
	text := strings.Repeat(`\`, 20000) + "x"
	want := anyEscapingRegexp(secret).ReplaceAllLiteralString(text, "<secret>")
	if got := replaceEscaped(text, secret); got != want || got != text {
		t.Fatalf("got %d bytes, want %d", len(got), len(want))
	}
}

// BenchmarkReplaceEscaped: a 4 KiB error page holding no secret, through
// the matcher and through the regexp Scrub kept per secret before.
func BenchmarkReplaceEscaped(b *testing.B) {
	secret := "pbxwatchSimSecret9f8e7d6c5b4a3210"
	page := strings.Repeat(`<p class="error">Authentication Failed &amp; logged (id=42%2C ref=&#x41;)</p>`+"\n", 52)
	b.Run("matcher", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		b.ReportAllocs()
		for b.Loop() {
			_ = replaceEscaped(page, secret)
		}
	})
	b.Run("regexp", func(b *testing.B) {
		re := anyEscapingRegexp(secret)
		b.SetBytes(int64(len(page)))
		b.ReportAllocs()
		for b.Loop() {
			_ = re.ReplaceAllLiteralString(page, "<secret>")
		}
	})
}
