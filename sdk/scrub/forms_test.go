package scrub

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

// latin1 writes s with each rune below 256 as its one byte.
func latin1(s string) string {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r))
	}
	return string(b)
}

// The forms issue 23 found getting out, each over a secret made of what
// encoders treat specially.
func TestFaultSecretFormsThatGotOut(t *testing.T) {
	const secret = `p@ss:w/rd+%&"<>'\!#$()*[]=é x`
	const short = `p@s:é!` // six characters
	var set Set
	set.Add(secret, short, "client-id@example")
	for name, text := range map[string]string{
		"Latin-1 echo, raw":             "you sent " + latin1(secret) + " which is wrong",
		"Latin-1 echo, percent-encoded": "secret=" + url.QueryEscape(latin1(secret)) + "&x=1",
		"client_secret_basic": "Authorization: Basic " + base64.StdEncoding.EncodeToString(
			[]byte(url.QueryEscape("client-id@example")+":"+url.QueryEscape(secret))),
		"short secret, Latin-1": "pw=" + latin1(short) + ";",
	} {
		out := set.String(text)
		if !strings.Contains(out, Redacted) || strings.Contains(out, "rd+%") || strings.Contains(out, `rd%2B%25`) || strings.Contains(out, `s:\xE9`) {
			t.Errorf("%s: %q -> %q", name, text, out)
		}
	}

	// A short secret in base64 and in Basic credentials, at every offset.
	for i := 0; i < 6; i++ {
		for _, text := range []string{
			"Basic " + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("u", i)+":"+short)),
			base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("x", i) + short + strings.Repeat("y", i))),
		} {
			if out := set.String(text); !strings.Contains(out, Redacted) {
				t.Errorf("offset %d: %q kept", i, text)
			}
		}
	}

	// An excerpt cut anywhere inside the URL-encoded secret, with an
	// ellipsis, the SDK's cut mark or at the end: at most six characters
	// of it stay.
	q := url.QueryEscape(secret)
	seven := len(url.QueryEscape(string([]rune(secret)[:7])))
	for k := seven; k <= len(q); k++ {
		for _, tail := range []string{"…", " …[cut: 9000 bytes in all]", ""} {
			text := "client_secret=" + q[:k] + tail
			if out := set.String(text); strings.Contains(out, q[:seven]) {
				t.Errorf("cut at %d%q: %q", k, tail, out)
			}
		}
	}
}

// What may be shown of a secret as a cut-off prefix: at most six
// characters, and never more than half of a short secret.
func TestPrefixShownLeavesMoreUnknownThanItReveals(t *testing.T) {
	for n := MinLen; n <= 64; n++ {
		shown := prefixLen(n) - 1
		if shown > 6 || shown*2 > n {
			t.Errorf("a secret of %d characters may show %d", n, shown)
		}
	}
	var set Set
	set.Add("abcdefghijklmnopqrstuvwxyz0123456789")
	if out := set.String("key abcdefg…"); out != "key "+Redacted {
		t.Errorf("7 of 36: %q", out)
	}
	if out := set.String("key abcdef…"); out != "key abcdef…" {
		t.Errorf("6 of 36 (shown on purpose): %q", out)
	}
}

// Go's URL parse error quotes what it took for a port: a piece of the
// password a ${ENV} reference put into the URL.
func TestFaultPiecesOfASecretInAnErrorAreHidden(t *testing.T) {
	const pw = `Zq7vX9kL/m2#x`
	var set Set
	set.Add(pw)
	_, err := url.Parse("https://admin:" + pw + "@pbx.example.com/")
	if err == nil {
		t.Fatal("parsed")
	}
	out := set.Pieces("url: " + err.Error())
	for i := 0; i+4 <= len(pw); i++ {
		if strings.Contains(out, pw[i:i+4]) {
			t.Fatalf("%q shows %q", out, pw[i:i+4])
		}
	}
	if !strings.Contains(out, Redacted) {
		t.Fatalf("%q", out)
	}
}
