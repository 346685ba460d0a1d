package python

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
)

// amiSim is a minimal Asterisk Manager Interface: the banner, then Login
// and Logoff actions. Real Asterisk cannot run in the test environment.
type amiSim struct {
	addr             string
	user, secret     string
	banner           string
	echoSecretOnFail bool // a misbehaving server that quotes the secret back
}

func startAMISim(t *testing.T, s *amiSim) *amiSim {
	t.Helper()
	if s.banner == "" {
		s.banner = "Asterisk Call Manager/5.0.2"
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	s.addr = l.Addr().String()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *amiSim) port() string { _, p, _ := net.SplitHostPort(s.addr); return p }

func (s *amiSim) serve(c net.Conn) {
	defer c.Close()
	fmt.Fprintf(c, "%s\r\n", s.banner)
	r := bufio.NewReader(c)
	for {
		msg := map[string]string{}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				break
			}
			k, v, _ := strings.Cut(line, ":")
			msg[strings.ToLower(k)] = strings.TrimSpace(v)
		}
		switch strings.ToLower(msg["action"]) {
		case "login":
			switch {
			case msg["username"] == s.user && msg["secret"] == s.secret:
				fmt.Fprintf(c, "Response: Success\r\nActionID: %s\r\nMessage: Authentication accepted\r\n\r\n", msg["actionid"])
			case s.echoSecretOnFail:
				fmt.Fprintf(c, "Response: Error\r\nActionID: %s\r\nMessage: no such secret %s\r\n\r\n", msg["actionid"], msg["secret"])
			default:
				fmt.Fprintf(c, "Response: Error\r\nActionID: %s\r\nMessage: Authentication failed\r\n\r\n", msg["actionid"])
			}
		case "logoff":
			fmt.Fprintf(c, "Response: Goodbye\r\nActionID: %s\r\nMessage: Thanks for all the fish.\r\n\r\n", msg["actionid"])
			return
		}
	}
}
