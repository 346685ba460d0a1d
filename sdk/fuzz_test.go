package sdk

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/pbxwatch/pbxwatch/sdk/bounds"
	"github.com/pbxwatch/pbxwatch/sdk/scrub"
)

// FuzzResultAtTheBoundary: whatever strings a plugin puts in a result, it
// crosses the wire (valid UTF-8, so gRPC marshals it) within its bounds.
func FuzzResultAtTheBoundary(f *testing.F) {
	f.Add("summary", "msg", "key", "value", "line")
	f.Add("caf\xe9", "\x00\xff", "k\xfe", strings.Repeat("v", 5000), "\xe2\x82")
	f.Fuzz(func(t *testing.T, summary, msg, key, value, event string) {
		res := &Result{Status: StatusCritical, Summary: summary}
		res.Diagnose(Diagnosis{Code: key, Severity: SeverityCritical, Message: msg, Remediation: []string{value}, Details: map[string]string{key: value}})
		res.AddGauge("m", "", 1, map[string]string{key: value})
		res.Events = append(res.Events, Event{Name: key, Message: event, Labels: map[string]string{key: value}})
		w := toWire(res)
		if _, err := proto.Marshal(w); err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if len(w.GetSummary()) > bounds.Summary || len(w.GetDiagnoses()[0].GetMessage()) > bounds.Message {
			t.Fatalf("not bounded")
		}
		for _, e := range splitErrors(errors.New(msg)) {
			if !utf8.ValidString(e) || len(e) > bounds.Message {
				t.Fatalf("error line %q", e)
			}
		}
	})
}

// FuzzScrub: a secret placed in any text, raw or URL-encoded, is gone
// after scrubbing.
func FuzzScrub(f *testing.F) {
	f.Add(`p@ss:w/rd+%&"<>'\!#$()*[]=é`, "before ", " after")
	f.Add("hunter2-long", "", "")
	f.Fuzz(func(t *testing.T, secret, before, after string) {
		if len(secret) < 8 || !utf8.ValidString(secret) || !utf8.ValidString(before) || !utf8.ValidString(after) {
			return
		}
		var s scrub.Set
		s.Add(secret)
		for _, form := range []string{secret, url.QueryEscape(secret)} {
			if out := s.String(before + form + after); strings.Contains(out, secret) && !strings.Contains(before+after, secret) {
				t.Fatalf("secret %q survived in %q", secret, out)
			}
		}
	})
}
