package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"
)

// demoLines are the kinds of lines FreePBX writes to freepbx.log, in its
// Monolog format; the ones marked rare are the trouble the default patterns
// look for.
var demoLines = []struct {
	rare bool
	text string
}{
	{false, "[%s] [freepbx.INFO]: Starting Call Recording Cleanup"},
	{false, "[%s] [freepbx.DEBUG]: Reloading dialplan"},
	{false, "[%s] [freepbx.INFO]: Module core: dialplan generated"},
	{false, "[%s] [freepbx.NOTICE]: Backup job 'nightly' finished"},
	{true, "[%s] [freepbx.ERROR]: SQLSTATE[HY000] [2002] No such file or directory"},
	{true, "[%s] [freepbx_security.WARNING]: Authentication failure for admin from 203.0.113.45"},
	{true, "[%s] [freepbx.ERROR]: Unable to connect to Asterisk Manager from /var/www/html/admin/libraries/BMO/Astman.class.php"},
}

// writeDemoLog appends a line every 500ms, a trouble line now and then, and
// rotates the file (rename, as logrotate's `create` does) every 5 minutes,
// so the logtail check has something real to follow.
func writeDemoLog(ctx context.Context, path string, log *slog.Logger) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		log.Error("demo log", "err", err)
		return
	}
	defer func() { f.Close() }()
	rotate := time.NewTicker(5 * time.Minute)
	defer rotate.Stop()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-rotate.C:
			f.Close()
			_ = os.Rename(path, path+".1")
			if f, err = os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
				log.Error("demo log", "err", err)
				return
			}
		case now := <-tick.C:
			l := demoLines[rand.IntN(len(demoLines))]
			if l.rare && rand.IntN(10) != 0 {
				l = demoLines[0]
			}
			fmt.Fprintf(f, l.text+"\n", now.Format("2006-01-02 15:04:05"))
		}
	}
}
