package verbatim

import (
	"net/http"
	"reflect"
	"testing"
)

func TestHoldsReadsTheAnswerEveryWayAQuoteMayTakeIt(t *testing.T) {
	s := Answer(http.Header{"Server": {"Apache/2.4"}}, []byte("<html><title>Access &amp; denied</title><p>Reference&#32;&#35;18.ab</p>\n{\"x\":\"y\\u0022z\"} \xff end</html>"))
	for _, q := range []string{"Access & denied", "Reference #18.ab", "Server: Apache/2.4", "Apache/2.4", "Access &amp;", "a <secret> denied"[0:0] + "Access", "end", "\\xFF end", "Refer…"} {
		if !s.Holds(q) {
			t.Errorf("%q should hold", q)
		}
	}
	for _, q := range []string{"Access denied by Cloudflare", "Reference #19", "nginx"} {
		if s.Holds(q) {
			t.Errorf("%q should not hold", q)
		}
	}
	if !Answer(nil, []byte(`{"message":"Invalid Permissions: API action \u0022getclients\u0022 is not allowed"}`)).Holds(`Invalid Permissions: API action "getclients" is not allowed`) {
		t.Error("a JSON string's decoded text does not hold")
	}
}

func TestQuotesClosesEachQuoteWhereTheExcerptEnds(t *testing.T) {
	s := Answer(nil, []byte(`{"error":"invalid_request","message":"bad"}`))
	got := Quotes(`HTTP 400, body "{"error":"invalid_request","message":"bad"}"; the server said "invalid_request" (ours "made up")`, s)
	want := []string{`{"error":"invalid_request","message":"bad"}`, "invalid_request", "made up"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Quotes = %q, want %q", got, want)
	}
}

func TestNamedWithoutMarker(t *testing.T) {
	named, err := NamedWithoutMarker("cloudflare", "Cloudflare blocked it; check ModSecurity's audit log on Apache")
	if err != nil || !reflect.DeepEqual(named, []string{"ModSecurity", "Apache"}) {
		t.Fatalf("named = %v, %v", named, err)
	}
	if named, _ := NamedWithoutMarker("unknown", "an unidentified layer refused"); len(named) != 0 {
		t.Fatalf("named = %v", named)
	}
	if _, err := NamedWithoutMarker("no_such_layer", ""); err == nil {
		t.Fatal("an unknown layer must be an error")
	}
}
