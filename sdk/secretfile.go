package sdk

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pbxwatch/pbxwatch/sdk/pluginwire"
)

// CredentialsDirEnv names the directory the agent hands its plugins for
// relative `*_file` secrets: the `credentials/` directory beside the config
// file in use (/etc/pbxwatch/credentials for the packaged config), so that
// `sudo pbxwatch check NAME` from a shell reads the same files as the
// service.
const CredentialsDirEnv = pluginwire.CredentialsDirEnv

// maxSecretFileBytes bounds what a secret file may hold; a secret is a line,
// and a path pointing at a log or a device by mistake must not be read whole.
const maxSecretFileBytes = 64 << 10

// CredentialsID is the credential ID under which a unit may load the whole
// credentials directory: `LoadCredential=credentials:/etc/pbxwatch/credentials`.
// systemd hands each file of a directory over as "<ID>_<file name>", so
// /etc/pbxwatch/credentials/whmcs.secret arrives as
// $CREDENTIALS_DIRECTORY/credentials_whmcs.secret.
const CredentialsID = "credentials"

// secretCandidates are the paths a relative secret file name is looked up
// at, in order: systemd's credentials (LoadCredential=, systemd >= 247),
// loaded one by one or as a directory; the agent's credentials directory;
// the working directory, which is what relative paths meant before there
// was a credentials directory (the demo's config says
// `demo-data/whmcs.secret`).
func secretCandidates(file string) []string {
	var out []string
	if d := os.Getenv("CREDENTIALS_DIRECTORY"); d != "" {
		out = append(out, filepath.Join(d, file), filepath.Join(d, CredentialsID+"_"+file))
	}
	if d := os.Getenv(CredentialsDirEnv); d != "" {
		out = append(out, filepath.Join(d, file))
	}
	return append(out, file)
}

// resolveSecretFile returns the path of a `*_file` secret: an absolute path
// as is, a relative one at the first of secretCandidates that exists.
func resolveSecretFile(name, file string) (string, error) {
	if filepath.IsAbs(file) {
		return file, nil
	}
	var tried []string
	for _, p := range secretCandidates(file) {
		if _, err := os.Stat(p); err == nil || !errors.Is(err, fs.ErrNotExist) {
			// Present, or present but unreadable: readSecretFile explains.
			return p, nil
		}
		tried = append(tried, p)
	}
	if len(tried) == 1 {
		return file, nil // outside the agent: os.Open's own error says it
	}
	want := tried[0]
	if d := os.Getenv(CredentialsDirEnv); d != "" {
		want = filepath.Join(d, file)
	}
	tried[len(tried)-1] = "./" + file
	return "", fmt.Errorf("%s_file %s: no such file or directory (looked for %s); put the secret in %s, owner root, group pbxwatch, mode 0640",
		name, file, strings.Join(tried, ", "), want)
}

// readSecretFile reads a `*_file` secret. An unreadable file's error names
// the file, the user that tried, and the fix; a file every user may read is
// read, with a warning in the plugin's log (shown by `pbxwatch validate`).
func readSecretFile(name, file string) (value, path string, err error) {
	path, err = resolveSecretFile(name, file)
	if err != nil {
		return "", path, err
	}
	// Stat before opening: opening a FIFO would block.
	st, err := os.Stat(path)
	if err == nil && !st.Mode().IsRegular() {
		return "", path, fmt.Errorf("%s_file %s is not a regular file", name, path)
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return "", path, fmt.Errorf("%s_file %s: permission denied for %s; %s", name, path, currentUser(), permissionFix(path))
		}
		return "", path, fmt.Errorf("%s_file: %w (the service user must be able to read it)", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFileBytes+1))
	if err != nil {
		return "", path, fmt.Errorf("%s_file %s: %w", name, path, err)
	}
	if len(b) > maxSecretFileBytes {
		return "", path, fmt.Errorf("%s_file %s is larger than %d bytes: is it the right file?", name, path, maxSecretFileBytes)
	}
	if st.Mode().Perm()&0o004 != 0 {
		Logger().Warn(fmt.Sprintf("%s_file %s is readable by every user on this host (mode %04o): run `chmod o-rwx %s` (owner root, group pbxwatch, mode 0640)",
			name, path, st.Mode().Perm(), path))
	}
	return string(b), path, nil
}

// currentUser names the process's user as "user NAME (uid N)".
func currentUser() string {
	uid := os.Getuid()
	name := "?"
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		name = u.Username
	}
	return fmt.Sprintf("user %s (uid %d)", name, uid)
}

// permissionFix says how to make path readable: by the service's group, or
// by running the command as root.
func permissionFix(path string) string {
	fix := fmt.Sprintf("let the service read it: `chown root:pbxwatch %s && chmod 0640 %s` (and its directory root:pbxwatch 0750)", path, path)
	if os.Getuid() != 0 {
		fix += ", and run pbxwatch by hand with sudo"
	}
	return fix
}
