package main

import "bytes"

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

// skipTimestamp accepts "[YYYY-MM-DD HH:MM:SS]" or "[YYYY-Mon-DD HH:MM:SS]"
// at the start of line and returns what follows it.
func skipTimestamp(line []byte) ([]byte, bool) {
	// Shortest: "[2024-05-01 10:00:00]" = 21 bytes; with a month name 22.
	if len(line) < 21 || line[0] != '[' || line[5] != '-' {
		return nil, false
	}
	if !digits(line[1:5]) {
		return nil, false
	}
	p := 6
	switch {
	case digits(line[6:8]) && line[8] == '-':
		p = 9
	case len(line) >= 22 && isUpper(line[6]) && isLower(line[7]) && isLower(line[8]) && line[9] == '-':
		p = 10
	default:
		return nil, false
	}
	// "DD HH:MM:SS]" = 12 bytes
	if len(line) < p+12 {
		return nil, false
	}
	t := line[p : p+12]
	if !digits(t[0:2]) || t[2] != ' ' || !digits(t[3:5]) || t[5] != ':' || !digits(t[6:8]) || t[8] != ':' || !digits(t[9:11]) || t[11] != ']' {
		return nil, false
	}
	return line[p+12:], true
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

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
