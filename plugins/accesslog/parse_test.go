package accesslog

import (
	"testing"
	"time"
)

func TestParseLineFormats(t *testing.T) {
	cases := []struct {
		name, line string
		f          format
		client     string
		method     string
		target     string
		status     int
		time       string
	}{
		{"combined", `192.0.2.10 - - [29/Nov/2026:22:01:05 +0000] "POST /admin/api/api/token HTTP/1.1" 401 120 "-" "curl/8.5.0"`,
			formatCombined, "192.0.2.10", "POST", "/admin/api/api/token", 401, "2026-11-29T22:01:05Z"},
		{"common", `192.0.2.10 - admin [29/Nov/2026:23:01:05 +0100] "GET /admin/config.php?display=extensions HTTP/1.1" 200 5120`,
			formatCommon, "192.0.2.10", "GET", "/admin/config.php?display=extensions", 200, "2026-11-29T22:01:05Z"},
		{"ipv6 client and negative zone", `2001:db8::1 - - [29/Nov/2026:17:01:05 -0500] "POST /admin/api/api/gql HTTP/2.0" 403 - "-" "glue/1.0"`,
			formatCombined, "2001:db8::1", "POST", "/admin/api/api/gql", 403, "2026-11-29T22:01:05Z"},
		{"escaped quotes in request and agent", `198.51.100.7 - - [29/Nov/2026:22:01:05 +0000] "GET /admin/ajax.php?x=\"a b\"\\ HTTP/1.1" 500 0 "http://h/\"r\"" "ua \"quoted\" \\"`,
			formatCombined, "198.51.100.7", "GET", `/admin/ajax.php?x=\"a b\"\\`, 500, "2026-11-29T22:01:05Z"},
		{"user with a space", `192.0.2.10 - john smith [29/Nov/2026:22:01:05 +0000] "GET /ucp/ajax.php HTTP/1.1" 401 30 "-" "-"`,
			formatCombined, "192.0.2.10", "GET", "/ucp/ajax.php", 401, "2026-11-29T22:01:05Z"},
		{"garbage request (TLS on the plain port)", `203.0.113.9 - - [29/Nov/2026:22:01:05 +0000] "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" 400 226 "-" "-"`,
			formatCombined, "203.0.113.9", `\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03`, "", 400, "2026-11-29T22:01:05Z"},
		{"empty request", `203.0.113.9 - - [29/Nov/2026:22:01:05 +0000] "-" 408 - "-" "-"`,
			formatCombined, "203.0.113.9", "-", "", 408, "2026-11-29T22:01:05Z"},
		{"vhost_combined", `pbx.example.com:443 192.0.2.10 - - [29/Nov/2026:22:01:05 +0000] "GET /admin/api/api/rest/core/extensions HTTP/1.1" 200 99 "-" "glue"`,
			formatVhostCombined, "192.0.2.10", "GET", "/admin/api/api/rest/core/extensions", 200, "2026-11-29T22:01:05Z"},
		{"nginx hex escapes", `192.0.2.10 - - [29/Nov/2026:22:01:05 +0000] "GET /a\x22b HTTP/1.1" 404 0 "-" "x\x22y"`,
			formatCombined, "192.0.2.10", "GET", `/a\x22b`, 404, "2026-11-29T22:01:05Z"},
		{"leap second, HTTP/0.9", `192.0.2.10 - - [31/Dec/2016:23:59:60 +0000] "GET /" 200 0 "-" "-"`,
			formatCombined, "192.0.2.10", "GET", "/", 200, "2017-01-01T00:00:00Z"},
	}
	for _, c := range cases {
		var r request
		if reason := parseLine([]byte(c.line), c.f, &r); reason != "" {
			t.Errorf("%s: unparsed: %s", c.name, reason)
			continue
		}
		got := time.Unix(r.time, 0).UTC().Format(time.RFC3339)
		if string(r.client) != c.client || string(r.method) != c.method || string(r.target) != c.target || r.status != c.status || got != c.time {
			t.Errorf("%s: got client %q method %q target %q status %d time %s", c.name, r.client, r.method, r.target, r.status, got)
		}
	}
}

func TestParseLineRejectsWithAReason(t *testing.T) {
	bad := []struct {
		line string
		f    format
	}{
		{``, formatCombined},
		{`garbage`, formatCombined},
		{`192.0.2.10 - - 29/Nov/2026:22:01:05 +0000 "GET / HTTP/1.1" 200 1`, formatCommon},
		{`192.0.2.10 - - [29/Foo/2026:22:01:05 +0000] "GET / HTTP/1.1" 200 1`, formatCommon},
		{`192.0.2.10 - - [29/Nov/2026:25:01:05 +0000] "GET / HTTP/1.1" 200 1`, formatCommon},
		{`192.0.2.10 - - [29/Nov/2026:22:01:05 +0000] "GET / HTTP/1.1 200 1`, formatCommon},
		{`192.0.2.10 - - [29/Nov/2026:22:01:05 +0000] "GET / HTTP/1.1" 2x0 1`, formatCommon},
		{`192.0.2.10 - - [29/Nov/2026:22:01:05 +0000] "GET / HTTP/1.1" 999 1`, formatCommon},
		{`192.0.2.10 - - [29/Nov/2026:22:01:05 +0000] "GET / HTTP/1.1" 200 1k`, formatCommon},
		{`192.0.2.10 - - [29/Nov/2026:22:01:05 +0000] "GET / HTTP/1.1" 200 1`, formatCombined}, // common line, combined config
		{`192.0.2.10 - - [29/Nov/2026:22:01:05 +0000] "GET / HTTP/1.1" 200 1 "-" "-"`, formatVhostCombined},
		{`2001:db8::1 - - [29/Nov/2026:22:01:05 +0000] "GET / HTTP/1.1" 200 1 "-" "-"`, formatVhostCombined},
		{`192.0.2.10 - - [29/Nov/2026:22:01:05 +0000] "GET / HTTP/1.1" 200 1 "-" "unterminated`, formatCombined},
		{`192.0.2.10 - - [29/Nov/2026:22:01:05 +0000] "GET / HTTP/1.1" 200 1 "-" "ends in an escape\"`, formatCombined},
	}
	for _, b := range bad {
		var r request
		if reason := parseLine([]byte(b.line), b.f, &r); reason == "" {
			t.Errorf("%q parsed (status %d)", b.line, r.status)
		}
	}
}

// parseTime agrees with time.Parse on every day of a few centuries' worth
// of dates and both zone signs.
func TestParseTimeAgreesWithTimeParse(t *testing.T) {
	const layout = "02/Jan/2006:15:04:05 -0700"
	zones := []*time.Location{time.UTC, time.FixedZone("e", 5*3600+30*60), time.FixedZone("w", -8*3600)}
	var cache timeCache // across lines, as parseLine uses it: date and zone change under it
	for d := time.Date(1899, 12, 25, 23, 59, 58, 0, time.UTC); d.Year() < 2401; d = d.Add(97*time.Hour + 13*time.Minute + 7*time.Second) {
		for _, z := range zones {
			s := d.In(z).Format(layout)
			got, ok := parseTime([]byte(s))
			if !ok || got != d.Unix() {
				t.Fatalf("parseTime(%q) = %d %v, want %d", s, got, ok, d.Unix())
			}
			for _, later := range []time.Duration{0, time.Second, 17*time.Minute + 3*time.Second} {
				s := d.Add(later).In(z).Format(layout)
				if got, ok := cache.parse([]byte(s)); !ok || got != d.Add(later).Unix() {
					t.Fatalf("timeCache.parse(%q) = %d %v, want %d", s, got, ok, d.Add(later).Unix())
				}
			}
		}
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add(`192.0.2.10 - - [29/Nov/2026:22:01:05 +0000] "POST /admin/api/api/token HTTP/1.1" 401 120 "-" "curl/8.5.0"`)
	f.Add(`2001:db8::1 - - [29/Nov/2026:17:01:05 -0500] "GET /x\" HTTP/1.1" 200 - "\\" "\"`)
	f.Fuzz(func(t *testing.T, line string) {
		for _, fm := range []format{formatCombined, formatCommon, formatVhostCombined} {
			var r request
			if parseLine([]byte(line), fm, &r) == "" && (r.status < 100 || r.status > 599) {
				t.Fatalf("parsed status %d", r.status)
			}
			classify(r.target)
		}
	})
}
