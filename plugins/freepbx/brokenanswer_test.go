package freepbx_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// rawServer answers every connection with answer after reading its
// request; reset closes with a TCP reset instead of a FIN.
func rawServer(t *testing.T, answer string, reset bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				_, _ = c.Write([]byte(answer))
				if tc, ok := c.(*net.TCPConn); ok && reset {
					_ = tc.SetLinger(0)
				}
				c.Close()
			}()
		}
	}()
	return "http://" + l.Addr().String()
}

// Issue 23, item 8: HTTP/0.9, a malformed header and a reset in the
// middle of a body were all "Cannot connect".
func TestFaultBrokenAnswersAreNamed(t *testing.T) {
	bin := sdktest.Build(t, pluginPkg)
	for _, tc := range []struct {
		name, answer string
		reset        bool
		want         string
	}{
		{"HTTP/0.9", "<html><body>hello</body></html>\n", false, "did not answer in HTTP/1.x"},
		{"malformed header", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nbroken header line\r\n\r\n{}", false, "did not answer in HTTP/1.x"},
		{"reset mid-body", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"access_token\":\"" + strings.Repeat("x", 2000), true, "got HTTP 200, then the connection broke in the middle of the body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fmt.Sprintf("url: %s\nclient_id: 17-ok\nclient_secret_file: %s\n", rawServer(t, tc.answer, tc.reset), writeSecret(t, e2eSecret))
			p, err := sdktest.Start(t, bin, sdktest.Options{Config: cfg})
			if err != nil {
				t.Fatal(err)
			}
			res := p.Check(context.Background())
			var all string
			for _, d := range res.Diagnoses {
				all += d.Code + ": " + d.Message + "\n"
			}
			if !strings.Contains(all, tc.want) || strings.Contains(all, "Cannot connect") {
				t.Fatalf("diagnoses:\n%s", all)
			}
		})
	}
}
