package scrub

import (
	"fmt"
	"math/rand"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// whmcsSecrets are secrets as the whmcs plugin loads them: an API
// identifier, its secret and an access key.
var whmcsSecrets = []string{"Kx8fQ2mWzT4rYp7LbN3vC9hD6sJ1gA5e", "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7cF0hJ", `k3y!with"odd&chars<>é`}

// The regexps of a secret are compiled when text first holds its literal:
// text without it leaves them uncompiled, and text with the secret in any
// form is scrubbed as before.
func TestFormsAreCompiledWhenTheirLiteralTurnsUp(t *testing.T) {
	var s Set
	s.Add(whmcsSecrets...)
	clean := "WHMCS said: Authentication Failed for identifier Kx8fQ2 (abc...)"
	if got := s.String(clean); got != clean {
		t.Fatalf("clean text changed: %q", got)
	}
	for _, m := range s.order {
		if m.encoded.re != nil || m.prefix != nil && m.prefix.re != nil {
			t.Fatalf("a regexp of %d characters was compiled for text that does not hold its literal", len(m.value))
		}
	}
	leak := "result=error&message=bad " + url.QueryEscape(whmcsSecrets[2]) + " and " + whmcsSecrets[0][:9] + "..."
	got := s.String(leak)
	if strings.Contains(got, "odd") || strings.Contains(got, whmcsSecrets[0][:9]) || strings.Count(got, Redacted) != 2 {
		t.Fatalf("scrubbed %q to %q", leak, got)
	}
}

// encodeRune writes r in one of the encodings a secret passes through.
func encodeRune(rng *rand.Rand, r rune) string {
	switch rng.Intn(7) {
	case 0:
		return url.QueryEscape(string(r))
	case 1:
		return fmt.Sprintf(`\u%04x`, r)
	case 2:
		return fmt.Sprintf("&#%d;", r)
	case 3:
		return fmt.Sprintf("&#x%X;", r)
	case 4:
		var b strings.Builder
		for _, c := range []byte(string(r)) {
			fmt.Fprintf(&b, `\x%02x`, c)
		}
		return b.String()
	}
	return string(r)
}

// The test that spares the prefix regexp (mayEndACutPrefix) holds for
// every text the regexp matches: cut-off prefixes in any encoding, cut
// inside an escape, with an ellipsis in any spelling or at the end, and
// text around them; so the Set scrubs exactly what it scrubbed when the
// regexp ran on every text holding the literal.
func TestCutPrefixTestHoldsWhereverThePrefixMatches(t *testing.T) {
	rng := rand.New(rand.NewSource(22))
	values := append([]string{hostile, "pbxwatchSimIdentifier0123456789ab", "ab\\cd\"/x'y z"}, whmcsSecrets...)
	cuts := []string{"", "%", "%E", `\`, `\u00`, `\x`, "&", "&#", "&#x", "&#3", "%C3", `\xc3`}
	ends := append([]string{"", "", " ", "\n", ".", ")", `"`, "x"}, ellipses...)
	matchers := map[string]*matcher{}
	for _, v := range values {
		matchers[v] = compile(v)
	}
	matched, spared := 0, 0
	for i := 0; i < 20000; i++ {
		v := values[rng.Intn(len(values))]
		m := matchers[v]
		if m.prefix == nil {
			continue
		}
		runes := []rune(v)
		var b strings.Builder
		if rng.Intn(2) == 0 {
			b.WriteString("WHMCS said: ")
		}
		for _, r := range runes[:rng.Intn(len(runes)+1)] {
			b.WriteString(encodeRune(rng, r))
		}
		b.WriteString(cuts[rng.Intn(len(cuts))])
		if rng.Intn(2) == 0 {
			b.WriteString(" ")
		}
		b.WriteString(ends[rng.Intn(len(ends))])
		if rng.Intn(4) == 0 {
			b.WriteString(" and more")
		}
		text := b.String()
		if m.prefix.get().MatchString(text) {
			matched++
			if !m.mayEndACutPrefix(text) {
				t.Fatalf("%q holds a cut-off prefix of %q, but the test spares it", text, v)
			}
		} else if !m.mayEndACutPrefix(text) {
			spared++
		}
	}
	t.Logf("%d texts matched, %d spared", matched, spared)
	if matched < 1000 || spared < 1000 {
		t.Fatalf("%d texts matched, %d spared: the cases do not cover both", matched, spared)
	}
	// The demo's secrets begin with "pbxwatch", and its diagnoses say
	// "Run `pbxwatch check ...`": no regexp for that.
	var s Set
	s.Add("pbxwatchSimIdentifier0123456789ab")
	text := "Run `pbxwatch check whmcs_auth` again: it reports the address WHMCS sees."
	if got := s.String(text); got != text || s.order[0].prefix.re != nil {
		t.Fatalf("scrubbed %q to %q, compiled %v", text, got, s.order[0].prefix.re != nil)
	}
}

// Goroutines scrubbing at once, each the first to meet a secret, all get it
// scrubbed (the regexp is compiled once, under the race detector too).
func TestFirstScrubsAtOnceAllScrub(t *testing.T) {
	var s Set
	s.Add(whmcsSecrets...)
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(v string) {
			defer wg.Done()
			text := fmt.Sprintf(`{"message":%q}`, v)
			if got := s.String(text); strings.Contains(got, v[3:9]) {
				errs <- got
			}
		}(whmcsSecrets[i%len(whmcsSecrets)])
	}
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Errorf("not scrubbed: %s", got)
	}
}

// BenchmarkSetMemory reports the live heap of a Set of whmcs's secrets
// (live-B/set): just built, after scrubbing text that holds none of them
// (a plugin's every run), and after one that leaked each.
func BenchmarkSetMemory(b *testing.B) {
	leak := strings.Join(whmcsSecrets, " ") + " " + whmcsSecrets[0][:10] + "..."
	for _, bc := range []struct {
		name string
		text string
	}{{"built", ""}, {"clean-text", "WHMCS said: Authentication Failed (identifier Kx8fQ2)"}, {"leaked", leak}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			sets := make([]*Set, 0, b.N)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for b.Loop() {
				s := &Set{}
				s.Add(whmcsSecrets...)
				if bc.text != "" {
					_ = s.String(bc.text)
				}
				sets = append(sets, s)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(len(sets)), "live-B/set")
			runtime.KeepAlive(sets)
		})
	}
}
