package logtail

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

const pluginPkg = "github.com/pbxwatch/pbxwatch/plugins/logtail"

// numberedWriter appends numbered FreePBX lines the way PHP does: open in
// append mode, write, close, so after a rename the next write makes a new
// file. mu is held around each write and each logrotate run: copytruncate
// loses the lines written between its copy and its truncate, whoever
// reads the file, and that loss is not what these tests measure.
type numberedWriter struct {
	t       testing.TB
	path    string
	mu      sync.Mutex
	next    int
	bytes   int64
	matches int // lines the test pattern "seven" matches
}

// write appends n lines; their lengths vary with the number.
func (w *numberedWriter) write(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for i := 0; i < n; i++ {
		w.next++
		extra := ""
		if w.next%10 == 7 {
			extra = " seven"
			w.matches++
		}
		fmt.Fprintf(&b, "[2024-05-01 10:00:00] [freepbx.INFO]: line %d%s %s [] []\n", w.next, extra, strings.Repeat("x", w.next%97))
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		w.t.Error(err)
		return
	}
	defer f.Close()
	k, err := f.WriteString(b.String())
	if err != nil {
		w.t.Error(err)
	}
	w.bytes += int64(k)
}

type rotator struct {
	t                testing.TB
	bin, conf, state string
	w                *numberedWriter
	spacing          time.Duration // dateext names have a 1s resolution
	last             time.Time
	runs             int
}

func newRotator(t testing.TB, bin, dir, path, opts string, w *numberedWriter) *rotator {
	conf := filepath.Join(dir, "logrotate.conf")
	body := fmt.Sprintf("%s {\n  rotate 200\n  missingok\n  ifempty\n%s}\n", path, opts)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &rotator{t: t, bin: bin, conf: conf, state: filepath.Join(dir, "logrotate.state"), w: w}
	if strings.Contains(opts, "dateext") {
		r.spacing = 1100 * time.Millisecond
	}
	return r
}

func (r *rotator) rotate() {
	if wait := r.spacing - time.Since(r.last); wait > 0 {
		time.Sleep(wait)
	}
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	out, err := exec.Command(r.bin, "-f", "-s", r.state, r.conf).CombinedOutput()
	if err != nil {
		r.t.Errorf("logrotate: %v\n%s", err, out)
	}
	r.last = time.Now()
	r.runs++
}

// TestLogrotateWithRestarts: a writer appends numbered lines while the real
// logrotate rotates the file and the plugin process is killed (SIGTERM,
// SIGKILL, also in the middle of a run) and restarted, sometimes with two
// rotations while it is down. At the end every line was counted once.
func TestLogrotateWithRestarts(t *testing.T) {
	lr := testutil.Tool(t, "logrotate")
	bin := sdktest.Build(t, pluginPkg)
	modes := map[string]string{
		"create":                "  create 0644 root root\n",
		"dateext":               "  create 0644 root root\n  dateext\n  dateformat -%Y%m%d-%s\n",
		"compress":              "  create 0644 root root\n  compress\n",
		"copytruncate":          "  copytruncate\n",
		"copytruncate_compress": "  copytruncate\n  compress\n  delaycompress\n",
	}
	for name, opts := range modes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runRotationScenario(t, lr, bin, opts)
		})
	}
}

func runRotationScenario(t *testing.T, lrBin, bin, opts string) {
	dir := t.TempDir()
	logDir := filepath.Join(dir, "log")
	os.Mkdir(logDir, 0o755)
	path := filepath.Join(logDir, "freepbx.log")
	stateDir := filepath.Join(dir, "state")
	os.Mkdir(stateDir, 0o755)
	w := &numberedWriter{t: t, path: path}
	rot := newRotator(t, lrBin, dir, path, opts, w)
	cfg := fmt.Sprintf("path: %s\nstart_at: beginning\npatterns:\n  - {name: seven, regex: ' seven ', severity: info}\n", path)
	start := func() *sdktest.Plugin {
		p, err := sdktest.Start(t, bin, sdktest.Options{Config: cfg, StateDir: stateDir})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	w.write(50)
	p := start()
	steps := 24
	if rot.spacing > 0 {
		steps = 12 // each rotation waits a second
	}
	for step := 0; step < steps; step++ {
		w.write(20 + rng.Intn(200))
		switch step % 6 {
		case 1, 4:
			rot.rotate()
		case 2:
			// Killed in the middle of a run, restarted.
			done := make(chan struct{})
			go func() { p.Check(context.Background()); close(done) }()
			time.Sleep(time.Duration(rng.Intn(3000)) * time.Microsecond)
			syscall.Kill(p.PID(), syscall.SIGKILL)
			<-done
			p.Close()
			p = start()
		case 5:
			// Down across two rotations.
			sig := syscall.SIGTERM
			if step%12 == 11 {
				sig = syscall.SIGKILL
			}
			syscall.Kill(p.PID(), sig)
			p.Close()
			w.write(30)
			rot.rotate()
			w.write(30)
			rot.rotate()
			w.write(10)
			p = start()
		}
		if res := p.Check(context.Background()); res.Status != sdk.StatusOK {
			t.Fatalf("step %d: %v %s %+v", step, res.Status, res.Summary, res.Diagnoses)
		}
	}
	w.write(10)
	res := p.Check(context.Background())
	lines, bytes, matches := sdktest.MetricSum(res, "logtail_lines_total", nil), sdktest.MetricSum(res, "logtail_read_bytes_total", nil), sdktest.MetricSum(res, "logtail_pattern_matches_total", nil)
	if lines != float64(w.next) || bytes != float64(w.bytes) || matches != float64(w.matches) {
		t.Fatalf("counted %v lines, %v bytes, %v matches; written %d lines, %d bytes, %d matches", lines, bytes, matches, w.next, w.bytes, w.matches)
	}
	rotations := sdktest.MetricSum(res, "logtail_rotations_total", nil)
	truncations := sdktest.MetricSum(res, "logtail_truncations_total", nil)
	t.Logf("%d lines, %.0f rotations, %.0f truncations counted", w.next, rotations, truncations)
	if rotations != float64(rot.runs) {
		t.Fatalf("%v rotations counted for %d logrotate runs", rotations, rot.runs)
	}
	if strings.Contains(opts, "copytruncate") != (truncations > 0) {
		t.Fatalf("%v truncations with options %q", truncations, opts)
	}
}
