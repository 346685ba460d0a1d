package systemd

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// notifySocket is systemd's side of sd_notify: a datagram socket whose
// path is in NOTIFY_SOCKET.
func notifySocket(t *testing.T) *net.UnixConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return conn
}

// received is what systemd got within wait, one message per entry.
func received(t *testing.T, conn *net.UnixConn, wait time.Duration) []string {
	t.Helper()
	var got []string
	buf := make([]byte, 4096)
	deadline := time.Now().Add(wait)
	for {
		_ = conn.SetReadDeadline(deadline)
		n, err := conn.Read(buf)
		if err != nil {
			return got
		}
		got = append(got, string(buf[:n]))
	}
}

var quiet = slog.New(slog.DiscardHandler)

func TestNotifyStates(t *testing.T) {
	conn := notifySocket(t)
	Ready(quiet)
	Reloading(quiet)
	Stopping(quiet)
	got := received(t, conn, 300*time.Millisecond)
	if len(got) != 3 || got[0] != "READY=1" || !strings.HasPrefix(got[1], "RELOADING=1") || got[2] != "STOPPING=1" {
		t.Errorf("systemd received %q", got)
	}
}

func TestWatchdogPingsOnlyWhileAlive(t *testing.T) {
	conn := notifySocket(t)
	t.Setenv("WATCHDOG_USEC", "100000") // 100ms: a ping every 50ms
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	var alive atomic.Bool
	alive.Store(true)
	stop := StartWatchdog(func(time.Duration) bool { return alive.Load() }, quiet)
	defer stop()
	if got := received(t, conn, 400*time.Millisecond); len(got) < 2 || got[0] != "WATCHDOG=1" {
		t.Fatalf("alive daemon: systemd received %q, want WATCHDOG=1 pings", got)
	}
	alive.Store(false)
	received(t, conn, 100*time.Millisecond) // a ping already on its way
	if got := received(t, conn, 300*time.Millisecond); len(got) != 0 {
		t.Errorf("wedged daemon: systemd still received %q", got)
	}
}

func TestNoWatchdogNoPings(t *testing.T) {
	conn := notifySocket(t)
	t.Setenv("WATCHDOG_USEC", "")
	stop := StartWatchdog(func(time.Duration) bool { return true }, quiet)
	defer stop()
	if got := received(t, conn, 200*time.Millisecond); len(got) != 0 {
		t.Errorf("no WatchdogSec=: systemd received %q", got)
	}
}
