package nagios

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Perfdata parsing follows the Nagios plugin guidelines
// (nagios-plugins.org/doc/guidelines.html#AEN200):
//
//	'label'=value[UOM];[warn];[crit];[min];[max]
//
// items separated by spaces; a label with spaces is quoted with single
// quotes, a quote inside is written ''; trailing empty fields may be left
// out; value may be "U" (could not be determined); warn and crit are
// ranges ([@]start:end, start "~" meaning minus infinity).

// Perf is one parsed perfdata item, its numbers already converted to the
// base unit named by Unit (bytes, seconds, percent, counter or the plugin's
// own unit when it is none of those).
type Perf struct {
	Label string
	// Value is NaN when the plugin printed "U".
	Value             float64
	Unit              string
	Warning, Critical *Range
	Min, Max          *float64
}

// Range is a Nagios threshold range. The check alerts when the value lies
// outside [Low, High], or inside it when Inside is set (the "@" prefix).
// Low is -Inf for "~" and High +Inf when no end is given.
type Range struct {
	Low, High float64
	Inside    bool
}

// maxLabelBytes bounds one label: labels become metric label values.
const maxLabelBytes = 200

// number is a decimal as the guidelines allow ([-0-9.]) plus an exponent,
// which some plugins print for tiny times.
var number = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?`)
})

// unitScale maps a UOM to its Prometheus base unit and factor. Nagios
// plugins compute KB, MB, GB and TB in powers of 1024 (check_disk's MB
// is a mebibyte), so they are read that way. Built on first use
// (docs/design.md "Package initialisers run in every process" says why
// not at start).
var unitScale = sync.OnceValue(func() map[string]baseUnit {
	return map[string]baseUnit{
		"":    {"", 1},
		"s":   {"seconds", 1},
		"ms":  {"seconds", 1e-3},
		"us":  {"seconds", 1e-6},
		"µs":  {"seconds", 1e-6},
		"ns":  {"seconds", 1e-9},
		"%":   {"percent", 1},
		"B":   {"bytes", 1},
		"KB":  {"bytes", 1 << 10},
		"MB":  {"bytes", 1 << 20},
		"GB":  {"bytes", 1 << 30},
		"TB":  {"bytes", 1 << 40},
		"KiB": {"bytes", 1 << 10},
		"MiB": {"bytes", 1 << 20},
		"GiB": {"bytes", 1 << 30},
		"TiB": {"bytes", 1 << 40},
		"c":   {"counter", 1},
	}
})

// baseUnit is a Prometheus base unit and the factor to it.
type baseUnit struct {
	unit  string
	scale float64
}

// ParsePerfdata parses a perfdata string. Items it cannot read are
// skipped and reported as errors quoting them; the others are returned.
func ParsePerfdata(s string) ([]Perf, []error) {
	var out []Perf
	var errs []error
	for rest := strings.TrimSpace(s); rest != ""; rest = strings.TrimLeft(rest, " \t\r\n") {
		var item string
		var p Perf
		var err error
		p, item, rest, err = nextItem(rest)
		if err != nil {
			errs = append(errs, fmt.Errorf("perfdata %q: %w", clip(item, 80), err))
			continue
		}
		out = append(out, p)
	}
	return out, errs
}

// nextItem parses the item at the start of s and returns it, its text and
// what follows it.
func nextItem(s string) (p Perf, item, rest string, err error) {
	label, afterLabel, err := readLabel(s)
	if err != nil {
		item, rest = splitField(s)
		return p, item, rest, err
	}
	data, rest := splitField(afterLabel)
	item = s[:len(s)-len(rest)]
	p, err = parseData(data)
	p.Label = label
	return p, item, rest, err
}

// readLabel reads "label=" or "'quoted label'=" and returns the label and
// the text after "=".
func readLabel(s string) (label, rest string, err error) {
	if strings.HasPrefix(s, "'") {
		var b strings.Builder
		i := 1
		for {
			j := strings.IndexByte(s[i:], '\'')
			if j < 0 {
				return "", "", fmt.Errorf("label has no closing quote")
			}
			b.WriteString(s[i : i+j])
			i += j + 1
			if i < len(s) && s[i] == '\'' { // '' is a literal quote
				b.WriteByte('\'')
				i++
				continue
			}
			break
		}
		if i >= len(s) || s[i] != '=' {
			return "", "", fmt.Errorf("quoted label is not followed by '='")
		}
		label = b.String()
		rest = s[i+1:]
	} else {
		eq := strings.IndexByte(s, '=')
		sp := strings.IndexAny(s, " \t\r\n")
		if eq < 0 || (sp >= 0 && sp < eq) {
			return "", "", fmt.Errorf("no '=' after the label (a label with spaces must be quoted)")
		}
		label, rest = s[:eq], s[eq+1:]
	}
	if label == "" {
		return "", "", fmt.Errorf("empty label")
	}
	if !utf8.ValidString(label) {
		label = strings.ToValidUTF8(label, "\uFFFD")
	}
	return clip(label, maxLabelBytes), rest, nil
}

// splitField cuts s at the first whitespace.
func splitField(s string) (field, rest string) {
	if i := strings.IndexAny(s, " \t\r\n"); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

// parseData parses "value[UOM];[warn];[crit];[min];[max]".
func parseData(data string) (Perf, error) {
	var p Perf
	fields := strings.Split(data, ";")
	if len(fields) > 5 {
		return p, fmt.Errorf("more than 5 ';'-separated fields")
	}
	for len(fields) < 5 {
		fields = append(fields, "")
	}
	value, uom, err := parseValue(fields[0])
	if err != nil {
		return p, err
	}
	u, ok := unitScale()[uom]
	if !ok {
		u.unit, u.scale = sanitizeUnit(uom), 1
	}
	p.Value, p.Unit = value*u.scale, u.unit
	if p.Warning, err = parseRange(fields[1], u.scale); err != nil {
		return p, fmt.Errorf("warning threshold: %w", err)
	}
	if p.Critical, err = parseRange(fields[2], u.scale); err != nil {
		return p, fmt.Errorf("critical threshold: %w", err)
	}
	if p.Min, err = parseBound(fields[3], u.scale); err != nil {
		return p, fmt.Errorf("min: %w", err)
	}
	if p.Max, err = parseBound(fields[4], u.scale); err != nil {
		return p, fmt.Errorf("max: %w", err)
	}
	return p, nil
}

// parseValue splits "12.5MB" into 12.5 and "MB"; "U" is NaN.
func parseValue(s string) (float64, string, error) {
	if s == "U" {
		return math.NaN(), "", nil
	}
	num := number().FindString(s)
	if num == "" {
		return 0, "", fmt.Errorf("value %q is not a number", clip(s, 40))
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, "", fmt.Errorf("value %q is not a finite number", clip(num, 40))
	}
	return v, s[len(num):], nil
}

// parseBound parses a min or max: a plain number, or nothing.
func parseBound(s string, scale float64) (*float64, error) {
	if s == "" {
		return nil, nil
	}
	v, err := parseNumber(s)
	if err != nil {
		return nil, err
	}
	v *= scale
	return &v, nil
}

func parseNumber(s string) (float64, error) {
	if number().FindString(s) != s {
		return 0, fmt.Errorf("%q is not a number", clip(s, 40))
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a finite number", clip(s, 40))
	}
	return v, nil
}

// parseRange parses a threshold: "10" (0:10), "10:" (10 to +Inf), "~:10"
// (-Inf to 10), "10:20", each optionally prefixed by "@" (alert inside).
func parseRange(s string, scale float64) (*Range, error) {
	if s == "" {
		return nil, nil
	}
	r := Range{Low: 0, High: math.Inf(1)}
	if strings.HasPrefix(s, "@") {
		r.Inside, s = true, s[1:]
	}
	start, end, hasColon := strings.Cut(s, ":")
	if !hasColon {
		start, end = "", s
	}
	switch start {
	case "~":
		r.Low = math.Inf(-1)
	case "":
		if hasColon {
			return nil, fmt.Errorf("range %q has an empty start (write ~ for minus infinity)", clip(s, 40))
		}
	default:
		v, err := parseNumber(start)
		if err != nil {
			return nil, err
		}
		r.Low = v * scale
	}
	if end != "" {
		v, err := parseNumber(end)
		if err != nil {
			return nil, err
		}
		r.High = v * scale
	} else if !hasColon {
		return nil, fmt.Errorf("empty range")
	}
	if r.Low > r.High {
		return nil, fmt.Errorf("range %q starts after it ends", clip(s, 40))
	}
	return &r, nil
}

// sanitizeUnit keeps an unknown UOM readable and bounded as a label value.
func sanitizeUnit(uom string) string {
	return clip(strings.ToValidUTF8(uom, "\uFFFD"), 20)
}

// clip bounds s to n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
