// Package freepbxdb reads FreePBX's own database, read-only: where it is
// (/etc/freepbx.conf, parsed without running PHP), the api module's
// applications and access tokens, the modules table and Advanced Settings.
// The freepbx plugin, the accesslog plugin and `pbxwatch init` share it.
// It never writes: every statement is a SELECT.
package freepbxdb

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxConfBytes bounds what is read of freepbx.conf (a real one is < 1 KiB).
const maxConfBytes = 64 << 10

// Conf is what /etc/freepbx.conf says about FreePBX's database: the
// `$amp_conf['AMPDB…']` assignments, defaults applied as FreePBX does.
type Conf struct {
	Path     string // the file read
	User     string // AMPDBUSER
	Password string // AMPDBPASS: never print it
	Host     string // AMPDBHOST, default localhost
	Port     string // AMPDBPORT, optional
	Name     string // AMPDBNAME, default asterisk
	Socket   string // AMPDBSOCK, optional
	Engine   string // AMPDBENGINE, default mysql
}

// String never shows the password.
func (c *Conf) String() string {
	return fmt.Sprintf("%s (user %s, database %s on %s)", c.Path, c.User, c.Name, c.where())
}

func (c *Conf) where() string {
	switch {
	case c.Socket != "":
		return "socket " + c.Socket
	case c.Port != "":
		return c.Host + ":" + c.Port
	}
	return c.Host
}

// dbKeys are the settings of freepbx.conf pbxwatch needs; errors in other
// assignments are not its business.
var dbKeys = map[string]bool{
	"AMPDBUSER": true, "AMPDBPASS": true, "AMPDBHOST": true, "AMPDBPORT": true,
	"AMPDBNAME": true, "AMPDBSOCK": true, "AMPDBENGINE": true,
}

// ReadConf reads and parses a freepbx.conf.
func ReadConf(path string) (*Conf, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("FreePBX config: %w (pbxwatch must be able to read it: `fwconsole chown` leaves it 0660 asterisk:asterisk, so the service needs the asterisk group)", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfBytes+1))
	if err != nil {
		return nil, fmt.Errorf("FreePBX config %s: %w", path, err)
	}
	if len(b) > maxConfBytes {
		return nil, fmt.Errorf("FreePBX config %s is larger than %d bytes: not a freepbx.conf", path, maxConfBytes)
	}
	return ParseConf(path, b)
}

// ParseConf reads the `$amp_conf['KEY'] = 'value';` assignments of a
// freepbx.conf (single- or double-quoted PHP strings, with PHP's escapes).
// An AMPDB* setting that is not a plain string literal is an error naming
// the line: pbxwatch never runs PHP to evaluate it.
func ParseConf(path string, data []byte) (*Conf, error) {
	values, err := parseAssignments(path, data)
	if err != nil {
		return nil, err
	}
	c := &Conf{
		Path: path, User: values["AMPDBUSER"], Password: values["AMPDBPASS"], Host: values["AMPDBHOST"],
		Port: values["AMPDBPORT"], Name: values["AMPDBNAME"], Socket: values["AMPDBSOCK"], Engine: values["AMPDBENGINE"],
	}
	if c.Host == "" {
		c.Host = "localhost"
	}
	if c.Name == "" {
		c.Name = "asterisk"
	}
	if c.Engine == "" {
		c.Engine = "mysql"
	}
	if c.User == "" {
		return nil, fmt.Errorf("%s: no $amp_conf['AMPDBUSER'] assignment: is this FreePBX's freepbx.conf?", path)
	}
	if c.Engine != "mysql" {
		return nil, fmt.Errorf("%s: AMPDBENGINE is %q: pbxwatch reads MySQL/MariaDB databases only", path, c.Engine)
	}
	if c.Port != "" {
		if _, err := strconv.ParseUint(c.Port, 10, 16); err != nil {
			return nil, fmt.Errorf("%s: AMPDBPORT %q is not a port number", path, c.Port)
		}
	}
	return c, nil
}

// lexer walks PHP source just enough to find $amp_conf assignments.
type lexer struct {
	path string
	src  string
	pos  int
}

func (l *lexer) line() int { return 1 + strings.Count(l.src[:l.pos], "\n") }

func (l *lexer) errorf(format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", l.path, l.line(), fmt.Sprintf(format, args...))
}

func parseAssignments(path string, data []byte) (map[string]string, error) {
	if !utf8.Valid(data) {
		data = []byte(strings.ToValidUTF8(string(data), "\uFFFD"))
	}
	l := &lexer{path: path, src: string(data)}
	values := map[string]string{}
	for l.pos < len(l.src) {
		rest := l.src[l.pos:]
		switch {
		case strings.HasPrefix(rest, "//") || strings.HasPrefix(rest, "#"):
			l.skipLine()
		case strings.HasPrefix(rest, "/*"):
			end := strings.Index(rest[2:], "*/")
			if end < 0 {
				return nil, l.errorf("comment /* is never closed")
			}
			l.pos += end + 4
		case rest[0] == '\'' || rest[0] == '"':
			if _, err := l.stringLit(); err != nil {
				return nil, err
			}
		case strings.HasPrefix(rest, "$amp_conf"):
			key, val, err := l.assignment()
			if err != nil {
				return nil, err
			}
			if key != "" {
				values[key] = val
			}
		default:
			l.pos++
		}
	}
	return values, nil
}

func (l *lexer) skipLine() {
	if i := strings.IndexByte(l.src[l.pos:], '\n'); i >= 0 {
		l.pos += i + 1
	} else {
		l.pos = len(l.src)
	}
}

func (l *lexer) skipSpace() {
	for l.pos < len(l.src) && strings.IndexByte(" \t\r\n", l.src[l.pos]) >= 0 {
		l.pos++
	}
}

func (l *lexer) expect(s string) bool {
	l.skipSpace()
	if strings.HasPrefix(l.src[l.pos:], s) {
		l.pos += len(s)
		return true
	}
	return false
}

// assignment parses `$amp_conf['KEY'] = 'value';` from l.pos. It returns
// an empty key for forms it does not need (`$amp_conf = array();`, keys
// other than AMPDB*), skipping to the end of the statement.
func (l *lexer) assignment() (key, val string, err error) {
	start := l.pos
	l.pos += len("$amp_conf")
	if !l.expect("[") {
		l.skipStatement()
		return "", "", nil
	}
	l.skipSpace()
	if l.pos >= len(l.src) || (l.src[l.pos] != '\'' && l.src[l.pos] != '"') {
		l.skipStatement()
		return "", "", nil
	}
	if key, err = l.stringLit(); err != nil {
		return "", "", err
	}
	if !l.expect("]") || !l.expect("=") {
		l.skipStatement()
		return "", "", nil
	}
	if !dbKeys[key] {
		l.skipStatement()
		return "", "", nil
	}
	l.skipSpace()
	if l.pos < len(l.src) && (l.src[l.pos] == '\'' || l.src[l.pos] == '"') {
		if val, err = l.stringLit(); err != nil {
			return "", "", err
		}
		if l.expect(";") {
			return key, val, nil
		}
	}
	l.pos = start
	return "", "", l.errorf("$amp_conf['%s'] is not assigned a plain quoted string; pbxwatch reads freepbx.conf without running PHP: write the value as a literal, or give the check a database_dsn instead", key)
}

// skipStatement moves past the next `;` outside strings.
func (l *lexer) skipStatement() {
	for l.pos < len(l.src) {
		switch l.src[l.pos] {
		case ';':
			l.pos++
			return
		case '\'', '"':
			if _, err := l.stringLit(); err != nil {
				l.pos = len(l.src)
				return
			}
		default:
			l.pos++
		}
	}
}

// stringLit reads a PHP string literal at l.pos.
func (l *lexer) stringLit() (string, error) {
	startLine := l.line()
	q := l.src[l.pos]
	l.pos++
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == q:
			l.pos++
			return b.String(), nil
		case c == '\\' && l.pos+1 < len(l.src):
			if q == '\'' {
				l.singleEscape(&b)
			} else {
				l.doubleEscape(&b)
			}
		case c == '$' && q == '"' && l.pos+1 < len(l.src) && isVarStart(l.src[l.pos+1]):
			return "", l.errorf("a double-quoted string interpolates a PHP variable; pbxwatch reads freepbx.conf without running PHP: use a single-quoted literal")
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	return "", fmt.Errorf("%s:%d: string is never closed", l.path, startLine)
}

func isVarStart(c byte) bool {
	return c == '_' || c == '{' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

// singleEscape: in single quotes only \' and \\ are escapes.
func (l *lexer) singleEscape(b *strings.Builder) {
	n := l.src[l.pos+1]
	if n == '\'' || n == '\\' {
		b.WriteByte(n)
	} else {
		b.WriteByte('\\')
		b.WriteByte(n)
	}
	l.pos += 2
}

var simpleEscapes = map[byte]byte{'n': '\n', 't': '\t', 'r': '\r', 'v': '\v', 'e': 0x1b, 'f': '\f', '\\': '\\', '$': '$', '"': '"'}

// doubleEscape applies PHP's double-quoted escapes; an unknown one stays
// as written, backslash included, as PHP does.
func (l *lexer) doubleEscape(b *strings.Builder) {
	n := l.src[l.pos+1]
	if r, ok := simpleEscapes[n]; ok {
		b.WriteByte(r)
		l.pos += 2
		return
	}
	rest := l.src[l.pos+1:]
	switch {
	case n >= '0' && n <= '7':
		digits := prefixLen(rest, 3, "01234567")
		v, _ := strconv.ParseUint(rest[:digits], 8, 16)
		b.WriteByte(byte(v))
		l.pos += 1 + digits
	case n == 'x' && prefixLen(rest[1:], 2, "0123456789abcdefABCDEF") > 0:
		digits := prefixLen(rest[1:], 2, "0123456789abcdefABCDEF")
		v, _ := strconv.ParseUint(rest[1:1+digits], 16, 8)
		b.WriteByte(byte(v))
		l.pos += 2 + digits
	case n == 'u' && strings.HasPrefix(rest, "u{"):
		end := strings.IndexByte(rest, '}')
		v, err := strconv.ParseUint(rest[2:max(end, 2)], 16, 32)
		if end < 0 || err != nil {
			b.WriteString(`\u`)
			l.pos += 2
			return
		}
		b.WriteRune(rune(v))
		l.pos += 1 + end + 1
	default:
		b.WriteByte('\\')
		b.WriteByte(n)
		l.pos += 2
	}
}

func prefixLen(s string, maxLen int, set string) int {
	n := 0
	for n < len(s) && n < maxLen && strings.IndexByte(set, s[n]) >= 0 {
		n++
	}
	return n
}

// DefaultSockets are where MySQL/MariaDB put their socket on Debian and
// Enterprise Linux. PHP's PDO reaches "localhost" through the socket, never
// TCP, so pbxwatch does the same.
var DefaultSockets = []string{"/run/mysqld/mysqld.sock", "/var/run/mysqld/mysqld.sock", "/var/lib/mysql/mysql.sock"}

// errNoSocket says none of the default sockets exists.
var errNoSocket = errors.New("no MySQL/MariaDB socket found")

// socketFor finds the socket for host localhost: AMPDBSOCK, else the first
// default socket that exists under root.
func (c *Conf) socketFor(root string) (string, error) {
	if c.Socket != "" {
		return c.Socket, nil
	}
	for _, s := range DefaultSockets {
		if _, err := os.Stat(filepath.Join(root, s)); err == nil {
			return filepath.Join(root, s), nil
		}
	}
	return "", fmt.Errorf("%w at %s (is MariaDB running? set $amp_conf['AMPDBSOCK'] or the check's database_dsn)", errNoSocket, strings.Join(DefaultSockets, ", "))
}
