package logtail

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// level is a line's log level, an index into levelNames. The set is fixed so
// the level label of logtail_lines_total stays bounded whatever the file
// holds.
type level uint8

const (
	levelUnknown level = iota
	levelDebug
	levelInfo
	levelNotice
	levelWarning
	levelError
	levelCritical
	levelAlert
	levelEmergency
	// Levels only the pre-Monolog freepbx_log() wrote.
	levelFatal
	levelSecurity
	levelUpdate
	levelPHP
	numLevels
)

var levelNames = [numLevels]string{
	"unknown", "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency",
	"fatal", "security", "update", "php",
}

func (l level) String() string { return levelNames[l] }

// format says how lines are laid out.
type format uint8

const (
	formatFreePBX format = iota
	formatPlain
)

// parseLine returns the level of one line (without its newline) and the
// message after the header. Two FreePBX layouts are recognised:
//
//	[2024-05-01 10:00:00] [freepbx.INFO]: msg [] []             (Monolog)
//	[2019-Jul-25 14:28:31] [INFO] (file.php:2083) - msg          (pre-Monolog)
//
// Anything else (a continuation, the old security log's "[ts] msg", garbage,
// invalid UTF-8) has levelUnknown and the whole line as its message. It
// works on bytes and never allocates: it runs once per line of the file.
func parseLine(line []byte, f format) (level, []byte) {
	if f != formatFreePBX {
		return levelUnknown, line
	}
	rest, ok := skipTimestamp(line)
	if !ok || len(rest) < 4 || rest[0] != ' ' || rest[1] != '[' {
		return levelUnknown, line
	}
	rest = rest[2:]
	if lv, msg := freepbxChannel(rest); lv != levelUnknown {
		return lv, msg
	}
	end := bytes.IndexByte(rest, ']')
	if end <= 0 {
		return levelUnknown, line
	}
	tag, after := rest[:end], rest[end+1:]
	if dot := bytes.LastIndexByte(tag, '.'); dot >= 0 {
		// Monolog: [channel.LEVEL]: msg
		if dot == 0 || len(after) < 2 || after[0] != ':' || after[1] != ' ' {
			return levelUnknown, line
		}
		lv := lookupLevel(tag[dot+1:])
		if lv == levelUnknown {
			return levelUnknown, line
		}
		return lv, after[2:]
	}
	// Legacy: [LEVEL] (file:line) - msg. The location is optional in
	// what we accept: the level is what matters.
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

// freepbxChannel is the fast path for the header nearly every line of
// freepbx.log has, "freepbx.LEVEL]: " (rest is what follows " ["): one
// word comparison for the channel and two for the level with its "]: ",
// picked by the level's first byte. It returns levelUnknown for anything
// else, which the general parse then reads; where it returns a level, the
// general parse returns the same.
func freepbxChannel(rest []byte) (level, []byte) {
	// "freepbx." and the longest head, "EMERGENCY]: ", are 20 bytes; a
	// shorter line takes the general parse.
	if len(rest) < 20 || binary.LittleEndian.Uint64(rest) != freepbxDot {
		return levelUnknown, nil
	}
	rest = rest[8:]
	lo, hi := binary.LittleEndian.Uint64(rest), binary.LittleEndian.Uint32(rest[8:])
	for _, h := range &headsByInitial[rest[0]] {
		if h.n > 0 && lo&h.loMask == h.lo && hi&h.hiMask == h.hi {
			return h.level, rest[h.n:]
		}
	}
	return levelUnknown, nil
}

// freepbxDot is "freepbx." read as a little-endian word.
var freepbxDot = binary.LittleEndian.Uint64([]byte("freepbx."))

// head is a level's name and "]: " as up to 12 bytes: lo the first eight,
// hi the next four, each with the mask of the bytes it has.
type head struct {
	lo, loMask uint64
	hi, hiMask uint32
	n          int
	level      level
}

// headsByInitial holds the heads of the levels whose names start with a
// byte: two at most (ERROR, EMERGENCY).
var headsByInitial = func() (t [256][2]head) {
	for lv := levelDebug; lv < numLevels; lv++ {
		h := strings.ToUpper(lv.String()) + "]: "
		var b [12]byte
		var m [12]byte
		copy(b[:], h)
		for i := range h {
			m[i] = 0xFF
		}
		e := head{n: len(h), level: lv,
			lo: binary.LittleEndian.Uint64(b[:]), loMask: binary.LittleEndian.Uint64(m[:]),
			hi: binary.LittleEndian.Uint32(b[8:]), hiMask: binary.LittleEndian.Uint32(m[8:])}
		slot := &t[h[0]]
		if slot[0].n == 0 {
			slot[0] = e
		} else {
			slot[1] = e
		}
	}
	return t
}()

// skipTimestamp accepts "[YYYY-MM-DD HH:MM:SS]" or "[YYYY-Mon-DD HH:MM:SS]"
// at the start of line and returns what follows it. It compares eight
// bytes at a time (see layout): this runs once per line of the file.
func skipTimestamp(line []byte) ([]byte, bool) {
	// Shortest: "[2024-05-01 10:00:00]" = 21 bytes; with a month name 22.
	if len(line) < 21 || !yearLayout.fits(line[0:8]) {
		return nil, false
	}
	switch {
	case numericDateLayout.fits(line[5:13]) && clockLayout.fits(line[13:21]):
		return line[21:], true
	case len(line) >= 22 && monthNameLayout.fits(line[5:13]) && isUpper(line[6]) && isLower(line[7]) && isLower(line[8]) &&
		isDigit(line[13]) && clockLayout.fits(line[14:22]):
		return line[22:], true
	}
	return nil, false
}

// layout is an 8-byte template: fixed bytes and decimal digits. fits
// checks both in a few word operations instead of eight byte branches.
type layout struct {
	fixed, fixedMask uint64 // the fixed bytes, and where they are
	digitMask        uint64 // 0xFF where a digit must be
}

// newLayout reads a template of 8 bytes where 'D' is a digit, '?' any
// byte, and anything else itself.
func newLayout(t string) layout {
	var l layout
	for i := 0; i < 8; i++ {
		shift := uint(8 * i)
		switch t[i] {
		case 'D':
			l.digitMask |= 0xFF << shift
		case '?':
		default:
			l.fixed |= uint64(t[i]) << shift
			l.fixedMask |= 0xFF << shift
		}
	}
	return l
}

var (
	yearLayout        = newLayout("[DDDD-??") // "[2024-05-01 10:00:00]"
	numericDateLayout = newLayout("-DD-DD D")
	monthNameLayout   = newLayout("-???-DD ") // "-Jul-25 ", letters checked apart
	clockLayout       = newLayout("D:DD:DD]")
)

func (l layout) fits(b []byte) bool {
	x := binary.LittleEndian.Uint64(b)
	if x&l.fixedMask != l.fixed {
		return false
	}
	// A byte is a digit when its high nibble is 3 and adding 6 keeps it 3
	// (0x30-0x39). Adding only where digits must be, a carry out of a
	// byte can only come from a byte already failing the first test.
	const high, three, six = 0xF0F0F0F0F0F0F0F0, 0x3030303030303030, 0x0606060606060606
	d := x & l.digitMask
	return d&high == three&l.digitMask && (d+six&l.digitMask)&high&l.digitMask == three&l.digitMask
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

// lookupLevel maps an upper-case level name to a level; the switch on length
// first keeps it to one or two comparisons per line.
func lookupLevel(b []byte) level {
	switch len(b) {
	case 3:
		if string(b) == "PHP" {
			return levelPHP
		}
	case 4:
		if string(b) == "INFO" {
			return levelInfo
		}
	case 5:
		switch string(b) {
		case "DEBUG":
			return levelDebug
		case "ERROR":
			return levelError
		case "ALERT":
			return levelAlert
		case "FATAL":
			return levelFatal
		}
	case 6:
		switch string(b) {
		case "NOTICE":
			return levelNotice
		case "UPDATE":
			return levelUpdate
		}
	case 7:
		if string(b) == "WARNING" {
			return levelWarning
		}
	case 8:
		switch string(b) {
		case "CRITICAL":
			return levelCritical
		case "SECURITY":
			return levelSecurity
		}
	case 9:
		if string(b) == "EMERGENCY" {
			return levelEmergency
		}
	}
	return levelUnknown
}
