// Package mariadbtest runs a real MariaDB server (Debian's mariadb-server)
// for tests: a private data directory and socket, no network, started once
// per test package from TestMain, one database per scenario.
package mariadbtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
)

// Binaries the server needs.
const (
	Daemon    = "/usr/sbin/mariadbd"
	InstallDB = "/usr/bin/mariadb-install-db"
)

// Server is a running mariadbd.
type Server struct {
	Socket string // the server's unix socket
	dir    string
	cmd    *exec.Cmd
	done   chan error
	root   *sql.DB
	seq    atomic.Int64

	mu  sync.Mutex
	dbs map[string]*sql.DB // root pools per database, closed by Stop
}

// Available says why the server cannot run here, or nil.
func Available() error {
	for _, p := range []string{Daemon, InstallDB} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s not found: install the Debian package mariadb-server (.ci/run does)", p)
		}
	}
	return nil
}

// Start initialises a data directory under dir and starts mariadbd on a
// socket there; it waits until the server accepts connections.
func Start(dir string) (*Server, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	s := &Server{Socket: filepath.Join(dir, "mysqld.sock"), dir: dir, done: make(chan error, 1)}
	data := filepath.Join(dir, "data")
	// A private tmpdir: servers of concurrent test packages must not share
	// /tmp for their internal temporary tables (seen: mariadb-install-db
	// failing with "Unknown table 'mysql.tmp_user_sys'" when they did).
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, err
	}
	var user []string
	if os.Geteuid() == 0 {
		user = []string{"--user=root"}
	}
	install := exec.Command(InstallDB, append([]string{"--no-defaults", "--auth-root-authentication-method=normal",
		"--datadir=" + data, "--tmpdir=" + tmp, "--skip-test-db", "--skip-name-resolve"}, user...)...)
	if out, err := install.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("mariadb-install-db: %v\n%s", err, out)
	}
	args := append([]string{"--no-defaults", "--datadir=" + data, "--tmpdir=" + tmp, "--socket=" + s.Socket, "--skip-networking",
		"--pid-file=" + filepath.Join(dir, "mysqld.pid"), "--log-error=" + filepath.Join(dir, "error.log"),
		"--innodb-buffer-pool-size=16M", "--innodb-log-file-size=8M", "--skip-log-bin", "--performance-schema=OFF",
		"--innodb-flush-log-at-trx-commit=0", "--skip-name-resolve"}, user...)
	s.cmd = exec.Command(Daemon, args...)
	// If the test binary dies (a -timeout panic), the server goes with it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start mariadbd: %w", err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	if err := s.waitReady(30 * time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(limit time.Duration) error {
	cfg := s.Config("root", "", "")
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	s.root = sql.OpenDB(connector)
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := s.root.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case werr := <-s.done:
			s.done <- werr
			return fmt.Errorf("mariadbd exited (%v): %s", werr, s.errorLog())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mariadbd not ready after %s: %v\n%s", limit, err, s.errorLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) errorLog() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "error.log"))
	return string(b)
}

// Stop shuts the server down (SIGTERM, then SIGKILL after 10s).
func (s *Server) Stop() {
	if s.root != nil {
		s.root.Close()
	}
	s.mu.Lock()
	for _, d := range s.dbs {
		d.Close()
	}
	s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Config is a driver config for user on the server's socket.
func (s *Server) Config(user, password, db string) *mysql.Config {
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.User, cfg.Passwd, cfg.DBName = "unix", s.Socket, user, password, db
	cfg.MultiStatements = true
	return cfg
}

// Exec runs statements as root.
func (s *Server) Exec(t testing.TB, stmts ...string) {
	t.Helper()
	for _, st := range stmts {
		if _, err := s.root.Exec(st); err != nil {
			t.Fatalf("%s: %v", firstLine(st), err)
		}
	}
}

// DB is a root connection pool on database db, kept until Stop.
func (s *Server) DB(db string) *sql.DB {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.dbs[db]; ok {
		return d
	}
	c, _ := mysql.NewConnector(s.Config("root", "", db)) // fails only on a bad config, which Config never builds
	d := sql.OpenDB(c)
	if s.dbs == nil {
		s.dbs = map[string]*sql.DB{}
	}
	s.dbs[db] = d
	return d
}

// NewDatabase creates a database with a unique name starting with prefix
// and returns the name.
func (s *Server) NewDatabase(t testing.TB, prefix string) string {
	t.Helper()
	name := fmt.Sprintf("%s_%d", prefix, s.seq.Add(1))
	s.Exec(t, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4")
	return name
}

// NewUser creates user@localhost with password and returns the user name.
func (s *Server) NewUser(t testing.TB, prefix, password string) string {
	t.Helper()
	name := fmt.Sprintf("%s%d", prefix, s.seq.Add(1))
	s.Exec(t, fmt.Sprintf("CREATE USER '%s'@'localhost' IDENTIFIED BY '%s'", name, Quote(password)))
	return name
}

// Quote escapes s for a single-quoted SQL string literal.
func Quote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`).Replace(s)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// The package's shared server: started by the first Get, stopped by Main.
var shared struct {
	once sync.Once
	dir  string
	srv  *Server
	err  error
}

// Main runs the test package's tests and stops the shared server if one
// was started: call it from TestMain. Packages whose tests do not all need
// MariaDB pay its start-up (~10s) only when a test asks for it.
func Main(m *testing.M) int {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.Stop()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	return code
}

// Get returns the package's shared server, starting it on first use. When
// it cannot start, the missing-tool rule applies (testutil.Unavailable). A
// real server: -short skips the test.
func Get(t testing.TB) *Server {
	t.Helper()
	testutil.Slow(t, "real MariaDB")
	testutil.Tool(t, "mariadbd")
	testutil.Tool(t, "mariadb-install-db")
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "mariadbtest-")
		if shared.err == nil {
			shared.srv, shared.err = Start(shared.dir)
		}
	})
	if shared.err != nil {
		testutil.Unavailable(t, shared.err.Error())
	}
	return shared.srv
}
