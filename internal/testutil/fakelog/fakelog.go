// Package fakelog writes FreePBX-style logs for benchmarks (freepbx.log by
// Write, the web server access log by WriteAccess). Write gives mostly Monolog
// INFO lines, some warnings and errors, legacy lines and stack-trace
// continuations, and about one line in a thousand matching one of the
// logtail plugin's default patterns. The output is deterministic, so every
// benchmark reads the same mix.
package fakelog

import (
	"fmt"
	"io"
	"math/rand"
)

var (
	messages = []string{
		"Deprecated way to add Console commands, adding console commands this way can have negative performance impacts. Please use module.xml.",
		"Generating CSS...Done",
		"Running module install.php and install.sql",
		"Updating tables admin, modules, featurecodes... Done",
		"Module core version 17.0.19.2 has been installed",
		"fwconsole reload: Retrieving conf files, reload complete",
		"Starting Call Flow Control server",
		"Retrieving extension 1001 from cache",
	}
	// rare lines match the default patterns.
	rare = []string{
		"Failed to connect to the Asterisk Manager [] []",
		"Authentication failure for admin from 203.0.113.7 [] []",
		"SQLSTATE[HY000] [2002] Connection refused [] []",
		"Unable to connect to Asterisk Manager (127.0.0.1:5038) [] []",
	}
	levels = []string{"INFO", "INFO", "INFO", "INFO", "DEBUG", "NOTICE", "WARNING", "ERROR"}
)

// Write writes at least size bytes of log to w, ending with a whole line.
func Write(w io.Writer, size int64) error {
	rng := rand.New(rand.NewSource(42))
	var n int64
	for i := 0; n < size; i++ {
		ts := fmt.Sprintf("2024-05-%02d %02d:%02d:%02d", 1+i/86400%28, i/3600%24, i/60%60, i%60)
		var k int
		var err error
		switch r := rng.Intn(1000); {
		case r == 0:
			k, err = fmt.Fprintf(w, "[%s] [freepbx.WARNING]: %s\n", ts, rare[rng.Intn(len(rare))])
		case r < 20:
			k, err = fmt.Fprintf(w, "[2019-Jul-25 14:28:31] [INFO] (libraries/modulefunctions.class.php:%d) - %s\n", rng.Intn(3000), messages[rng.Intn(len(messages))])
		case r < 40:
			k, err = fmt.Fprintf(w, "#%d /var/www/html/admin/libraries/BMO/Hooks.class.php(%d): FreePBX\\Hooks->processHooks()\n", rng.Intn(20), rng.Intn(500))
		default:
			k, err = fmt.Fprintf(w, "[%s] [freepbx.%s]: %s {\"id\":%d} []\n", ts, levels[rng.Intn(len(levels))], messages[rng.Intn(len(messages))], rng.Intn(100000))
		}
		if err != nil {
			return err
		}
		n += int64(k)
	}
	return nil
}
