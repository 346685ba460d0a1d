package logtail

import (
	"bytes"
	"math/rand"
	"testing"
)

// parseLineByBytes is parseLine as it was before the word-at-a-time
// timestamp check and the freepbx channel fast path: one byte at a time,
// plainly following the two layouts. The fast parse must agree with it.
func parseLineByBytes(line []byte) (level, []byte) {
	rest, ok := skipTimestampByBytes(line)
	if !ok || len(rest) < 4 || rest[0] != ' ' || rest[1] != '[' {
		return levelUnknown, line
	}
	rest = rest[2:]
	end := bytes.IndexByte(rest, ']')
	if end <= 0 {
		return levelUnknown, line
	}
	tag, after := rest[:end], rest[end+1:]
	if dot := bytes.LastIndexByte(tag, '.'); dot >= 0 {
		if dot == 0 || len(after) < 2 || after[0] != ':' || after[1] != ' ' {
			return levelUnknown, line
		}
		lv := lookupLevel(tag[dot+1:])
		if lv == levelUnknown {
			return levelUnknown, line
		}
		return lv, after[2:]
	}
	lv := lookupLevel(tag)
	if lv == levelUnknown || len(after) == 0 || after[0] != ' ' {
		return levelUnknown, line
	}
	msg := after[1:]
	if len(msg) > 0 && msg[0] == '(' {
		if i := bytes.Index(msg, []byte(") - ")); i >= 0 {
			msg = msg[i+4:]
		}
	}
	return lv, msg
}

func skipTimestampByBytes(line []byte) ([]byte, bool) {
	digits := func(b []byte) bool {
		for _, c := range b {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	}
	if len(line) < 21 || line[0] != '[' || line[5] != '-' || !digits(line[1:5]) {
		return nil, false
	}
	var p int
	switch {
	case digits(line[6:8]) && line[8] == '-':
		p = 9
	case len(line) >= 22 && isUpper(line[6]) && isLower(line[7]) && isLower(line[8]) && line[9] == '-':
		p = 10
	default:
		return nil, false
	}
	if len(line) < p+12 {
		return nil, false
	}
	t := line[p : p+12]
	if !digits(t[0:2]) || t[2] != ' ' || !digits(t[3:5]) || t[5] != ':' || !digits(t[6:8]) || t[8] != ':' || !digits(t[9:11]) || t[11] != ']' {
		return nil, false
	}
	return line[p+12:], true
}

func agreesWithByteParse(t *testing.T, line []byte) {
	t.Helper()
	lv, msg := parseLine(line, formatFreePBX)
	wantLv, wantMsg := parseLineByBytes(line)
	if lv != wantLv || !bytes.Equal(msg, wantMsg) || len(msg) != len(wantMsg) {
		t.Fatalf("parseLine(%q) = %v, %q; byte-wise parse: %v, %q", line, lv, msg, wantLv, wantMsg)
	}
}

// Every header the fast paths look at, with each byte of it replaced by
// bytes that sit at the edges of what the layout accepts.
func TestParseLineAgreesWithByteParse(t *testing.T) {
	heads := []string{
		"[2024-05-01 10:00:00] [freepbx.INFO]: hello [] []",
		"[2019-Jul-25 14:28:31] [freepbx.EMERGENCY]: x",
		"[2019-Jul-25 14:28:31] [INFO] (libraries/modulefunctions.class.php:2083) - Generating CSS...Done",
		"[2024-05-01 10:00:00] [freepbx.ERROR]: e",
		"[2024-05-01 10:00:00] [freepbx.EMERGENCY]:",
		"[2024-05-01 10:00:00] [freepbx.ERRORS]: e",
		"[2024-05-01 10:00:00] [freepbx.INFO.WARNING]: nested",
		"[2024-05-01 10:00:00] [freepbx.PHP]: p",
		"[2024-05-01 10:00:00] [freepbx.SECURITY]: s",
		"[2024-05-01 10:00:00] [freepbx.UPDATE]: u",
		"[2024-05-01 10:00:00] [freepbx.FATAL]: f",
		"[2024-05-01 10:00:00] [freepbx.CRITICAL]: c",
		"[2024-05-01 10:00:00] [freepbx_security.NOTICE]: n",
	}
	edges := []byte{0, '/', '0', '9', ':', '@', 'A', 'Z', '[', '`', 'a', 'z', '{', ' ', '-', ']', '.', 0x7f, 0x80, 0xb0, 0xb9, 0xff}
	for _, h := range heads {
		for cut := 0; cut <= len(h); cut++ {
			agreesWithByteParse(t, []byte(h[:cut]))
		}
		for i := 0; i < len(h) && i < 48; i++ {
			for _, c := range edges {
				b := []byte(h)
				b[i] = c
				agreesWithByteParse(t, b)
			}
		}
	}
	rng := rand.New(rand.NewSource(3))
	for round := 0; round < 200000; round++ {
		b := []byte(heads[rng.Intn(len(heads))])
		for k := rng.Intn(3); k >= 0; k-- {
			b[rng.Intn(len(b))] = byte(rng.Intn(256))
		}
		agreesWithByteParse(t, b[:rng.Intn(len(b)+1)])
	}
}

// FuzzParseLineAgreesWithByteParse: on any bytes, the fast parse gives the
// level and message the byte-wise parse gives.
func FuzzParseLineAgreesWithByteParse(f *testing.F) {
	f.Add([]byte("[2024-05-01 10:00:00] [freepbx.INFO]: hello [] []"))
	f.Add([]byte("[2019-Jul-25 14:28:31] [INFO] (a.php:1) - x"))
	f.Add([]byte("[2019-Jul-25 14:28:31] [freepbx.EMERGENCY]: x"))
	f.Fuzz(func(t *testing.T, line []byte) { agreesWithByteParse(t, line) })
}

// Lines counts each line's level as parseLine of that line (cut at max)
// gives it, and the lines cut: lines ending inside a header, a header
// followed at once by the next line, headers split by a newline, both
// formats.
func TestLinesCountLevelsAsParseLine(t *testing.T) {
	pieces := []string{
		"[2024-05-01 10:00:00] [freepbx.INFO]: ", "[2024-05-01 10:00:00] [freepbx.EMERGENCY]: x",
		"[2019-Jul-25 14:28:31] [freepbx.WARNING]: ", "[2019-Jul-25 14:28:31] [INFO] (a.php:1) - x",
		"[2024-05-01 10:00:00] [freepbx.ERROR]", "[2024-05-01 10:00:00] [freepbx.", "[2024-05-01 1", "msg", "\n", "\n", "\n",
	}
	rng := rand.New(rand.NewSource(5))
	for round := 0; round < 20000; round++ {
		var b []byte
		for i := rng.Intn(12); i >= 0; i-- {
			p := []byte(pieces[rng.Intn(len(pieces))])
			if rng.Intn(4) == 0 {
				p = p[:rng.Intn(len(p)+1)]
			}
			if rng.Intn(8) == 0 && len(p) > 0 {
				p = append([]byte(nil), p...)
				p[rng.Intn(len(p))] = "\n0A]: ."[rng.Intn(6)]
			}
			b = append(b, p...)
		}
		b = append(b, '\n')
		for _, f := range []format{formatFreePBX, formatPlain} {
			max := 8 + rng.Intn(60)
			cfg := config{MaxLineBytes: max, Format: "freepbx"}
			if f == formatPlain {
				cfg.Format = "plain"
			}
			m, err := newMatcher(nil)
			if err != nil {
				t.Fatal(err)
			}
			r := newRun(&cfg, m)
			r.Lines(b)
			var want [numLevels]uint64
			var oversized uint64
			for _, line := range bytes.Split(b[:len(b)-1], []byte("\n")) {
				if len(line) > max {
					line, oversized = line[:max], oversized+1
				}
				lv, _ := parseLine(line, f)
				want[lv]++
			}
			if r.levels != want || r.oversized != oversized {
				t.Fatalf("format %v, max %d, %q: Lines counted %v (%d oversized), parseLine per line %v (%d)", f, max, b, r.levels, r.oversized, want, oversized)
			}
		}
	}
}
