package web

import (
	"os"
	"testing"

	toolkitweb "github.com/prometheus/exporter-toolkit/web"
)

func TestExternalURL(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	listen := []string{":9851", ":9999"}
	for flag, want := range map[string]string{
		"":                                    "http://" + host + ":9851/",
		"https://pbx.example.com":             "https://pbx.example.com/",
		"https://pbx.example.com/pbxwatch":    "https://pbx.example.com/pbxwatch/",
		"http://pbx.example.com//a/b//?x=1#y": "http://pbx.example.com/a/b/",
	} {
		u, err := ExternalURL(flag, &toolkitweb.FlagConfig{WebListenAddresses: &listen})
		if err != nil || u.String() != want {
			t.Errorf("ExternalURL(%q) = %v, %v; want %s", flag, u, err, want)
		}
	}
	for _, bad := range []string{"ftp://pbx.example.com/", "http:///nohost", "://"} {
		if u, err := ExternalURL(bad, nil); err == nil {
			t.Errorf("ExternalURL(%q) = %v, want an error", bad, u)
		}
	}
}
