package accesslog

import "bytes"

// format is the layout of a line: Apache's and nginx's common (CLF) and
// combined formats, and Debian's vhost_combined (other_vhosts_access.log),
// which puts "host:port " in front of combined.
type format int

const (
	formatCombined format = iota
	formatCommon
	formatVhostCombined
)

// request is what the checks need of one access-log line. Its byte slices
// point into the line and are valid only while the line is.
type request struct {
	client []byte // %h: an IPv4 or IPv6 address, or a host name with HostnameLookups
	time   int64  // %t as Unix seconds
	method []byte
	target []byte // the request target as logged (path and query, escapes kept)
	status int    // %>s, 100..599
	times  timeCache
}

// timeCache remembers the last line's date and zone: consecutive lines of
// an access log nearly always share them, so only the clock is parsed.
type timeCache struct {
	dateZone [17]byte // "10/Oct/2000" + "-0700"
	base     int64    // Unix seconds of that date's midnight in that zone
	valid    bool
}

func (c *timeCache) parse(b []byte) (int64, bool) {
	if len(b) != 26 || b[11] != ':' || b[14] != ':' || b[17] != ':' || b[20] != ' ' {
		return 0, false
	}
	if !c.valid || string(c.dateZone[:11]) != string(b[:11]) || string(c.dateZone[11:]) != string(b[20:26]) {
		midnight, ok := parseTime(append(append(append([]byte(nil), b[:11]...), ":00:00:00"...), b[20:26]...))
		if !ok {
			return 0, false
		}
		copy(c.dateZone[:11], b[:11])
		copy(c.dateZone[11:], b[20:26])
		c.base, c.valid = midnight, true
	}
	hh, ok1 := digits(b[12:14])
	mm, ok2 := digits(b[15:17])
	ss, ok3 := digits(b[18:20])
	if !ok1 || !ok2 || !ok3 || hh > 23 || mm > 59 || ss > 60 {
		return 0, false
	}
	return c.base + int64(hh*3600+mm*60+ss), true
}

// parseLine parses one line (without its newline) in f. It never
// allocates; a line it cannot read gives a reason instead (for the
// unparsed-lines diagnosis).
//
//	combined: %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"
//	common:   %h %l %u %t "%r" %>s %b
func parseLine(line []byte, f format, r *request) (reason string) {
	p := line
	if f == formatVhostCombined {
		sp := bytes.IndexByte(p, ' ')
		if sp <= 0 || bytes.IndexByte(p[:sp], ':') < 0 {
			return "no host:port virtual host field"
		}
		p = p[sp+1:]
	}
	sp := bytes.IndexByte(p, ' ')
	if sp <= 0 {
		return "no client address"
	}
	r.client = p[:sp]
	if sp == 1 && p[0] == '-' {
		// Apache always knows the peer; "-" here is a field too few or
		// too many (a combined line read as vhost_combined).
		return "client address is -"
	}
	p = p[sp+1:]
	// %l and %u: the user may hold spaces (Apache logs it as sent), so the
	// time is found by its bracket.
	lb := bytes.IndexByte(p, '[')
	if lb < 0 {
		return "no [time]"
	}
	p = p[lb+1:]
	rb := bytes.IndexByte(p, ']')
	if rb < 0 {
		return "no [time]"
	}
	t, ok := r.times.parse(p[:rb])
	if !ok {
		return "time not in the [02/Jan/2006:15:04:05 -0700] layout"
	}
	r.time = t
	p = p[rb+1:]
	if len(p) < 2 || p[0] != ' ' || p[1] != '"' {
		return "no quoted request after the time"
	}
	reqLine, rest, ok := quoted(p[1:])
	if !ok {
		return "unterminated quoted request"
	}
	splitRequest(reqLine, r)
	if len(rest) < 5 || rest[0] != ' ' {
		return "no status after the request"
	}
	st := 0
	for _, c := range rest[1:4] {
		if c < '0' || c > '9' {
			return "status is not three digits"
		}
		st = st*10 + int(c-'0')
	}
	if st < 100 || st > 599 {
		return "status outside 100-599"
	}
	r.status = st
	rest = rest[4:]
	if rest[0] != ' ' {
		return "status is not three digits"
	}
	rest = rest[1:]
	// %b (or %O): digits or "-".
	sp = bytes.IndexByte(rest, ' ')
	size := rest
	if sp >= 0 {
		size = rest[:sp]
	}
	if !isSize(size) {
		return "size is neither digits nor -"
	}
	if f == formatCommon {
		return ""
	}
	if sp < 0 || len(rest) < sp+2 || rest[sp+1] != '"' {
		return "no quoted referer after the size (a common-format line? set format: common)"
	}
	_, rest, ok = quoted(rest[sp+1:])
	if !ok {
		return "unterminated quoted referer"
	}
	if len(rest) < 2 || rest[0] != ' ' || rest[1] != '"' {
		return "no quoted user agent after the referer"
	}
	if _, _, ok = quoted(rest[1:]); !ok {
		return "unterminated quoted user agent"
	}
	return ""
}

// quoted reads a double-quoted field at the start of p (p[0] == '"') and
// returns its content and what follows the closing quote. Apache escapes
// '"' and '\' inside as \" and \\; nginx writes \x22 and \x5C, which need
// no special care.
func quoted(p []byte) (field, rest []byte, ok bool) {
	for i := 1; i < len(p); {
		j := bytes.IndexByte(p[i:], '"') // SIMD; escapes are rare
		if j < 0 {
			return nil, nil, false
		}
		i += j
		if p[i-1] == '\\' && escaped(p, i) {
			i++
			continue
		}
		return p[1:i], p[i+1:], true
	}
	return nil, nil, false
}

// escaped says whether the quote at p[i] is escaped: preceded, after the
// opening quote p[0], by an odd number of backslashes.
func escaped(p []byte, i int) bool {
	k := i - 1
	for k >= 1 && p[k] == '\\' {
		k--
	}
	return (i-1-k)%2 == 1
}

// splitRequest cuts "METHOD target PROTOCOL" (or an HTTP/0.9 "GET /x", or
// garbage such as a TLS handshake sent to the plain port, which Apache
// logs escaped) into method and target.
func splitRequest(req []byte, r *request) {
	r.method, r.target = nil, nil
	sp := bytes.IndexByte(req, ' ')
	if sp < 0 {
		r.method = req
		return
	}
	r.method = req[:sp]
	target := req[sp+1:]
	if last := bytes.LastIndexByte(target, ' '); last >= 0 {
		target = target[:last]
	}
	r.target = target
}

func isSize(b []byte) bool {
	if len(b) == 1 && b[0] == '-' {
		return true
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

var months = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// parseTime reads "10/Oct/2000:13:55:36 -0700" without time.Parse (which
// allocates and is ten times slower).
func parseTime(b []byte) (int64, bool) {
	if len(b) != 26 || b[2] != '/' || b[6] != '/' || b[11] != ':' || b[14] != ':' || b[17] != ':' || b[20] != ' ' {
		return 0, false
	}
	mon := -1
	for i, m := range months {
		if string(b[3:6]) == m {
			mon = i
			break
		}
	}
	day, ok1 := digits(b[0:2])
	year, ok2 := digits(b[7:11])
	hh, ok3 := digits(b[12:14])
	mm, ok4 := digits(b[15:17])
	ss, ok5 := digits(b[18:20])
	zh, ok6 := digits(b[22:24])
	zm, ok7 := digits(b[24:26])
	if mon < 0 || !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || (b[21] != '+' && b[21] != '-') ||
		day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 {
		return 0, false
	}
	off := (zh*60 + zm) * 60
	if b[21] == '-' {
		off = -off
	}
	t := daysSinceEpoch(year, mon+1, day)*86400 + int64(hh*3600+mm*60+ss) - int64(off)
	return t, true
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// daysSinceEpoch is the proleptic Gregorian day number of y-m-d relative to
// 1970-01-01 (Howard Hinnant's days_from_civil).
func daysSinceEpoch(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097 + doe - 719468)
}
