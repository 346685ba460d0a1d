package pluginhost

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestStaleSocketDirsAreRemovedLiveOnesKept(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	mk := func(name string) string {
		dir := filepath.Join(tmp, socketDirPrefix+name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	age := func(dir string) {
		past := time.Now().Add(-2 * staleAge)
		if err := os.Chtimes(dir, past, past); err != nil {
			t.Fatal(err)
		}
	}
	// A dead plugin's socket: its listener is gone.
	dead := mk("dead")
	l, err := net.Listen("unix", filepath.Join(dead, "plugin123"))
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	// A live plugin's socket.
	live := mk("live")
	ll, err := net.Listen("unix", filepath.Join(live, "plugin456"))
	if err != nil {
		t.Fatal(err)
	}
	defer ll.Close()
	empty := mk("empty")
	young := mk("young")
	for _, d := range []string{dead, live, empty} {
		age(d)
	}
	if n := CleanStaleSocketDirs(slog.New(slog.DiscardHandler)); n != 2 {
		t.Fatalf("removed %d, want 2", n)
	}
	for dir, want := range map[string]bool{dead: false, empty: false, live: true, young: true} {
		if _, err := os.Stat(dir); (err == nil) != want {
			t.Errorf("%s exists=%v, want %v", filepath.Base(dir), err == nil, want)
		}
	}
}
