package sdk

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// specialSecret has the characters that break naive quoting and encoding.
const specialSecret = `p@ss w0rd!"'<>&%+/=\$x;` + "`é"

func writeSecret(t *testing.T, dir, name, value string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(value+"\n"), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRelativeSecretFileResolution(t *testing.T) {
	systemdDir, agentDir := t.TempDir(), t.TempDir()
	writeSecret(t, systemdDir, "both.secret", "from-systemd", 0o600)
	writeSecret(t, agentDir, "both.secret", "from-agent-dir", 0o600)
	writeSecret(t, agentDir, "agent-only.secret", "only-agent-dir", 0o600)
	// LoadCredential=credentials:/etc/pbxwatch/credentials hands a file
	// over as credentials_<name>.
	writeSecret(t, systemdDir, "credentials_dir-loaded.secret", "from-systemd-dir-load", 0o600)
	writeSecret(t, agentDir, "dir-loaded.secret", "from-agent-dir", 0o600)

	cases := []struct {
		name, systemd, agent, file, want string
	}{
		{"systemd credentials win", systemdDir, agentDir, "both.secret", "from-systemd"},
		{"agent dir when systemd lacks it", systemdDir, agentDir, "agent-only.secret", "only-agent-dir"},
		{"agent dir without systemd", "", agentDir, "both.secret", "from-agent-dir"},
		{"systemd only", systemdDir, "", "both.secret", "from-systemd"},
		{"systemd directory credential", systemdDir, agentDir, "dir-loaded.secret", "from-systemd-dir-load"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("CREDENTIALS_DIRECTORY", c.systemd)
			t.Setenv(CredentialsDirEnv, c.agent)
			s, err := LoadSecret("secret", "", c.file)
			if err != nil || s.Reveal() != c.want {
				t.Fatalf("got %q, %v; want %q", s.Reveal(), err, c.want)
			}
		})
	}
}

func TestMissingRelativeSecretNamesEveryPlaceLooked(t *testing.T) {
	systemdDir, agentDir := t.TempDir(), t.TempDir()
	t.Setenv("CREDENTIALS_DIRECTORY", systemdDir)
	t.Setenv(CredentialsDirEnv, agentDir)
	_, err := LoadSecret("client_secret", "", "freepbx.secret")
	if err == nil {
		t.Fatal("no error for a missing secret file")
	}
	for _, want := range []string{"client_secret_file freepbx.secret", "no such file",
		filepath.Join(systemdDir, "freepbx.secret"), filepath.Join(systemdDir, "credentials_freepbx.secret"), filepath.Join(agentDir, "freepbx.secret"), "put the secret in " + filepath.Join(agentDir, "freepbx.secret"), "group pbxwatch, mode 0640"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestSecretFileThatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.secret")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Opening a FIFO would block forever; the error must come at once.
	_, err := LoadSecret("secret", "", fifo)
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("FIFO: %v", err)
	}
	if _, err := LoadSecret("secret", "", dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("directory: %v", err)
	}
}

func TestHugeSecretFileIsRefused(t *testing.T) {
	p := writeSecret(t, t.TempDir(), "huge", strings.Repeat("x", maxSecretFileBytes+10), 0o600)
	if _, err := LoadSecret("secret", "", p); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("%v", err)
	}
}

// TestUnreadableSecretNamesFileUserAndFix reads a root-only secret as
// another user: as "nobody" through a copy of this test binary when the
// test runs as root (root reads everything), directly otherwise.
func TestUnreadableSecretNamesFileUserAndFix(t *testing.T) {
	if os.Getenv("PBXWATCH_SDK_READ_SECRET") != "" {
		return // this is the child process: only TestReadSecretAsChild runs
	}
	dir := worldTraversableDir(t)
	secret := writeSecret(t, dir, "whmcs.secret", specialSecret, 0o600)
	if os.Getuid() != 0 {
		if err := os.Chmod(secret, 0); err != nil {
			t.Fatal(err)
		}
		_, err := LoadSecret("secret", "", secret)
		assertUnreadableError(t, err.Error(), secret, "sudo")
		return
	}
	bin := filepath.Join(dir, "sdk.test")
	copyFile(t, mustExecutable(t), bin, 0o755)
	cmd := exec.Command(bin, "-test.run=^TestReadSecretAsChild$")
	cmd.Env = append(os.Environ(), "PBXWATCH_SDK_READ_SECRET="+secret)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	assertUnreadableError(t, string(out), secret, "uid 65534")
}

// TestReadSecretAsChild is the child of the test above: it prints what
// LoadSecret says about the file it is given.
func TestReadSecretAsChild(t *testing.T) {
	path := os.Getenv("PBXWATCH_SDK_READ_SECRET")
	if path == "" {
		t.Skip("runs only as the child of TestUnreadableSecretNamesFileUserAndFix")
	}
	_, err := LoadSecret("secret", "", path)
	if err == nil {
		os.Stdout.WriteString("read it\n")
		return
	}
	os.Stdout.WriteString(err.Error() + "\n")
}

func assertUnreadableError(t *testing.T, msg, path, who string) {
	t.Helper()
	for _, want := range []string{"secret_file " + path, "permission denied", who,
		"chown root:pbxwatch " + path, "chmod 0640 " + path, "sudo"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "p@ss") || strings.Contains(msg, "w0rd") {
		t.Errorf("error shows the secret: %q", msg)
	}
}

// worldTraversableDir is a temp dir another user can enter (t.TempDir's
// parents are private to us).
func worldTraversableDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pbxwatch-sdk-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func mustExecutable(t *testing.T) string {
	t.Helper()
	p, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
