package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// writeDemoAccessLog appends Apache combined-format lines of a FreePBX
// host's API traffic every second: a provisioning glue (192.0.2.10) gets
// tokens and queries GraphQL; from the 5th second on, GraphQL refuses it
// (403, a scope removed), and a stranger (203.0.113.66) retries a wrong
// secret on the token endpoint, so the accesslog check has a failing
// client and a token failure burst to report.
func writeDemoAccessLog(ctx context.Context, path string, log *slog.Logger) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		log.Error("demo access log", "err", err)
		return
	}
	defer f.Close()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	start := time.Now()
	line := func(now time.Time, client, method, path string, status int, agent string) {
		fmt.Fprintf(f, "%s - - [%s] \"%s %s HTTP/1.1\" %d %d \"-\" \"%s\"\n",
			client, now.Format("02/Jan/2006:15:04:05 -0700"), method, path, status, 120+status%7*31, agent)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			gql := 200
			if now.Sub(start) > 5*time.Second {
				gql = 403
				line(now, "203.0.113.66", "POST", "/admin/api/api/token", 401, "python-requests/2.31.0")
			}
			line(now, "192.0.2.10", "POST", "/admin/api/api/token", 200, "GuzzleHttp/7")
			line(now, "192.0.2.10", "POST", "/admin/api/api/gql", gql, "GuzzleHttp/7")
			line(now, "198.51.100.20", "GET", "/admin/config.php?display=extensions", 200, "Mozilla/5.0")
			line(now, "198.51.100.20", "POST", "/admin/ajax.php?module=dashboard&command=getcontent", 200, "Mozilla/5.0")
		}
	}
}
