package accesslog

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClassify(t *testing.T) {
	for target, want := range map[string]string{
		"/admin/api/api/token":                     "token",
		"/admin/api/api/token/":                    "token",
		"/admin/api/api/gql":                       "gql",
		"/admin/api/api/gql?x=1":                   "gql",
		"/admin/api/api/rest":                      "rest",
		"/admin/api/api/rest/core/extensions/1001": "rest",
		"/admin/api/api/graphql":                   "ajax", // declined by ajax.php: not a command of the api module
		"/admin/api/api/tokenx":                    "ajax",
		"/admin/api/api/authorize?client_id=abc":   "ajax",
		"/admin/api/api/resource":                  "ajax",
		"/admin/api/userman/x":                     "ajax",
		"/admin/ajax.php?module=core&command=x":    "ajax",
		"//admin/ajax.php":                         "ajax",
		"/ucp/ajax.php?module=home":                "ucp",
		"http://pbx/admin/api/api/gql":             "gql",
		"/admin/config.php":                        "other",
		"/admin/ajax.phpx":                         "other",
		"/ucp/index.php":                           "other",
		"/":                                        "other",
		"":                                         "other",
		`\x16\x03\x01`:                             "other",
	} {
		if got := classify([]byte(target)).String(); got != want {
			t.Errorf("classify(%q) = %s, want %s", target, got, want)
		}
	}
}

func TestClientIDOf(t *testing.T) {
	for target, want := range map[string]string{
		"/admin/api/api/authorize?response_type=code&client_id=9f86d081884c7d65&state=x": "9f86d081884c7d65",
		"/admin/api/api/authorize?client_id=":                                            "",
		"/admin/api/api/authorize?client_id=a%20b":                                       "",
		"/admin/api/api/token":                                                           "",
		"/admin/api/api/gql?my_client_id=abc":                                            "",
	} {
		if got := clientIDOf([]byte(target)); got != want {
			t.Errorf("clientIDOf(%q) = %q, want %q", target, got, want)
		}
	}
}

// A client address from the log becomes a label value: valid UTF-8 and
// at most 64 bytes, whatever the log holds.
func TestClientLabelIsBoundedUTF8(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.10":                   "192.0.2.10",
		"2001:db8::1":                  "2001:db8::1",
		"host\xffname":                 "host\uFFFDname",
		strings.Repeat("a", 100):       strings.Repeat("a", 64),
		"pbx.example.com":              "pbx.example.com",
		"\xe2\x82" + "cut mid-rune ok": "\uFFFDcut mid-rune ok",
	} {
		if got := clientLabel([]byte(in)); got != want || !utf8.ValidString(got) || len(got) > 64*3 {
			t.Errorf("clientLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
