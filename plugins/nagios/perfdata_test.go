package nagios

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func f(v float64) *float64 { return &v }

func TestParsePerfdata(t *testing.T) {
	inf := math.Inf(1)
	cases := []struct {
		in   string
		want []Perf
	}{
		{"time=0.000123s;;;0.000000;10.000000", []Perf{{Label: "time", Value: 0.000123, Unit: "seconds", Min: f(0), Max: f(10)}}},
		{"/=1234MB;2000;2500;0;3000", []Perf{{Label: "/", Value: 1234 << 20, Unit: "bytes",
			Warning: &Range{0, 2000 << 20, false}, Critical: &Range{0, 2500 << 20, false}, Min: f(0), Max: f(3000 << 20)}}},
		{"'disk /var/spool'=85%;80;90", []Perf{{Label: "disk /var/spool", Value: 85, Unit: "percent",
			Warning: &Range{0, 80, false}, Critical: &Range{0, 90, false}}}},
		{"'it''s'=1c", []Perf{{Label: "it's", Value: 1, Unit: "counter"}}},
		{"'a''''b'=1", []Perf{{Label: "a''b", Value: 1}}},
		{"rta=2.5ms;@10:20;~:5;;", []Perf{{Label: "rta", Value: 0.0025, Unit: "seconds",
			Warning: &Range{0.010, 0.020, true}, Critical: &Range{math.Inf(-1), 0.005, false}}}},
		{"free=10KB;10:;", []Perf{{Label: "free", Value: 10240, Unit: "bytes", Warning: &Range{10240, inf, false}}}},
		{"x=5us y=1e-3s", []Perf{{Label: "x", Value: 5e-6, Unit: "seconds"}, {Label: "y", Value: 0.001, Unit: "seconds"}}},
		{"load1=0.150;5.000;10.000;0;  load5=0.2;;;0;", []Perf{
			{Label: "load1", Value: 0.15, Warning: &Range{0, 5, false}, Critical: &Range{0, 10, false}, Min: f(0)},
			{Label: "load5", Value: 0.2, Min: f(0)}}},
		{"temp=-4.5dBm", []Perf{{Label: "temp", Value: -4.5, Unit: "dBm"}}},
		{"  ", nil},
	}
	for _, c := range cases {
		got, errs := ParsePerfdata(c.in)
		if len(errs) != 0 {
			t.Errorf("%q: errors %v", c.in, errs)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: got %d items %+v, want %d", c.in, len(got), got, len(c.want))
			continue
		}
		for i := range got {
			if !samePerf(got[i], c.want[i]) {
				t.Errorf("%q item %d:\n got %s\nwant %s", c.in, i, show(got[i]), show(c.want[i]))
			}
		}
	}
}

func TestParsePerfdataUndetermined(t *testing.T) {
	got, errs := ParsePerfdata("users=U;5;10")
	if len(errs) != 0 || len(got) != 1 || !math.IsNaN(got[0].Value) || got[0].Warning.High != 5 {
		t.Fatalf("%+v %v", got, errs)
	}
}

func TestParsePerfdataKeepsGoodItemsAndQuotesBadOnes(t *testing.T) {
	got, errs := ParsePerfdata("good=1 bad=abc 'unclosed=1 also good=2")
	// "'unclosed=1 also good=2" has no closing quote: the tokenizer skips
	// to the next field and carries on.
	var labels []string
	for _, p := range got {
		labels = append(labels, p.Label)
	}
	if strings.Join(labels, ",") != "good,good" {
		t.Fatalf("labels %v", labels)
	}
	all := ""
	for _, e := range errs {
		all += e.Error() + "\n"
	}
	for _, want := range []string{`"bad=abc"`, "not a number", "no closing quote", `no '=' after the label`} {
		if !strings.Contains(all, want) {
			t.Errorf("errors lack %q:\n%s", want, all)
		}
	}
}

func TestParsePerfdataRejectsBadRanges(t *testing.T) {
	for _, in := range []string{"a=1;20:10", "a=1;:5", "a=1;x", "a=1;;;;;", "a=1;;;y", "=1", "a=1e999", "a=1;;;;1e999"} {
		if got, errs := ParsePerfdata(in); len(errs) != 1 || len(got) != 0 {
			t.Errorf("%q: got %+v, errors %v; want one error", in, got, errs)
		}
	}
}

func TestSplitOutput(t *testing.T) {
	out := "DISK OK - free space | /=10MB;;;0;100\nline one\nline two | b=2s\nc=3%\n"
	o := SplitOutput(out)
	if o.Summary != "DISK OK - free space" || o.Long != "line one\nline two" || o.Perfdata != "/=10MB;;;0;100  b=2s c=3%" {
		t.Fatalf("%+v", o)
	}
	o = SplitOutput("OK\r\nlong\r\n")
	if o.Summary != "OK" || o.Long != "long" || o.Perfdata != "" {
		t.Fatalf("%+v", o)
	}
}

// FuzzParsePerfdata: any input parses without panicking, into items whose
// labels are valid, bounded UTF-8 and whose numbers are finite (or NaN for
// "U"), with ranges that do not start after they end.
func FuzzParsePerfdata(f *testing.F) {
	for _, s := range []string{"time=0.1s;;;0;10", "'a b'=1MB;@1:2;~:3;0;4", "'it''s'=5c", "x=U", "a=1;10:;", "\xff=1", "'=''", "a=;;;;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		items, _ := ParsePerfdata(s)
		for _, p := range items {
			if p.Label == "" || !utf8.ValidString(p.Label) || len(p.Label) > maxLabelBytes || !utf8.ValidString(p.Unit) {
				t.Fatalf("bad label/unit %q %q", p.Label, p.Unit)
			}
			if math.IsInf(p.Value, 0) {
				t.Fatalf("infinite value from %q", s)
			}
			for _, r := range []*Range{p.Warning, p.Critical} {
				if r != nil && (r.Low > r.High || math.IsNaN(r.Low) || math.IsNaN(r.High)) {
					t.Fatalf("bad range %+v from %q", r, s)
				}
			}
		}
	})
}

func samePerf(a, b Perf) bool {
	eq := func(x, y float64) bool { return x == y || math.Abs(x-y) <= 1e-12*math.Max(math.Abs(x), math.Abs(y)) }
	ptr := func(x, y *float64) bool { return (x == nil) == (y == nil) && (x == nil || eq(*x, *y)) }
	rng := func(x, y *Range) bool {
		return (x == nil) == (y == nil) && (x == nil || (eq(x.Low, y.Low) && eq(x.High, y.High) && x.Inside == y.Inside))
	}
	return a.Label == b.Label && a.Unit == b.Unit && eq(a.Value, b.Value) && rng(a.Warning, b.Warning) && rng(a.Critical, b.Critical) && ptr(a.Min, b.Min) && ptr(a.Max, b.Max)
}

func show(p Perf) string {
	s := func(r *Range) string {
		if r == nil {
			return "nil"
		}
		return strings.TrimSpace(strings.Join([]string{ftoa(r.Low), ftoa(r.High), map[bool]string{true: "@", false: ""}[r.Inside]}, " "))
	}
	fp := func(v *float64) string {
		if v == nil {
			return "nil"
		}
		return ftoa(*v)
	}
	return p.Label + " " + ftoa(p.Value) + " " + p.Unit + " w=" + s(p.Warning) + " c=" + s(p.Critical) + " min=" + fp(p.Min) + " max=" + fp(p.Max)
}

func ftoa(v float64) string { return strings.TrimRight(strings.TrimRight(strconvF(v), "0"), ".") }

func strconvF(v float64) string { return strconv.FormatFloat(v, 'f', 9, 64) }
