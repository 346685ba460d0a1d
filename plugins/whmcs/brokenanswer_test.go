package whmcs

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/plugins/whmcs/whmcssim"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// rawServer answers every connection with answer, read its request first;
// reset closes with a TCP reset instead of a FIN.
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
	return "http://" + l.Addr().String() + "/"
}

// Issue 23, item 8: an HTTP/0.9 answer and a malformed header were
// "Cannot connect"; a reset in the middle of a body was a blocking layer
// without a word about the reset.
func TestFaultBrokenAnswersAreNamed(t *testing.T) {
	bin := sdktest.Build(t, pluginPkg)
	for _, tc := range []struct {
		name, answer string
		reset        bool
		want, not    string
	}{
		{"HTTP/0.9", "<html><body>hello</body></html>\n", false, "did not answer in HTTP/1.x", "Cannot connect"},
		{"malformed header", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nbroken header line\r\n\r\nx", false, "did not answer in HTTP/1.x", "Cannot connect"},
		{"reset mid-body", "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<html><head><title>403 Forbidden</title></head><body>" + strings.Repeat("x", 2000), true, "connection then broke after", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := rawServer(t, tc.answer, tc.reset)
			p, err := sdktest.Start(t, bin, sdktest.Options{Config: "url: " + url + "\n" + credFiles(t, whmcssim.DefaultIdentifier, whmcssim.DefaultSecret, whmcssim.DefaultAccessKey)})
			if err != nil {
				t.Fatal(err)
			}
			res := p.Check(context.Background())
			var all string
			for _, d := range res.Diagnoses {
				all += d.Code + ": " + d.Message + "\n"
			}
			if !strings.Contains(all, tc.want) || tc.not != "" && strings.Contains(all, tc.not) {
				t.Fatalf("diagnoses:\n%s", all)
			}
		})
	}
}
