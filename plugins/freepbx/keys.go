package freepbx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// oauthKeyFiles are the key pair the API module signs and checks tokens
// with (Api::$oauthKey in PKCS's keys location).
var oauthKeyFiles = []string{"api_oauth.key", "api_oauth_public.key"}

// keyModesAccepted are the modes league/oauth2-server's CryptKey accepts
// without complaint; others raise a notice FreePBX's error handler may turn
// into a failed request.
var keyModesAccepted = []fs.FileMode{0o400, 0o440, 0o600, 0o640, 0o660}

// webUser is the identity the web server (PHP) runs as.
type webUser struct {
	name string
	uid  int
	gids []int
}

func lookupWebUser(name string) (*webUser, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, err
	}
	w := &webUser{name: name}
	w.uid, _ = strconv.Atoi(u.Uid)
	ids, _ := u.GroupIds()
	for _, g := range append(ids, u.Gid) {
		if n, err := strconv.Atoi(g); err == nil {
			w.gids = append(w.gids, n)
		}
	}
	return w, nil
}

// canRead applies the file permission rule for w (root reads anything).
func (w *webUser) canRead(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	mode := fi.Mode().Perm()
	switch {
	case w.uid == 0:
		return true
	case int(st.Uid) == w.uid:
		return mode&0o400 != 0
	case slices.Contains(w.gids, int(st.Gid)):
		return mode&0o040 != 0
	}
	return mode&0o004 != 0
}

func owner(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "?"
	}
	name := func(id uint32, look func(string) (string, error)) string {
		if n, err := look(strconv.Itoa(int(id))); err == nil {
			return n
		}
		return strconv.Itoa(int(id))
	}
	u := name(st.Uid, func(s string) (string, error) { x, err := user.LookupId(s); return usr(x), err })
	g := name(st.Gid, func(s string) (string, error) { x, err := user.LookupGroupId(s); return grp(x), err })
	return u + ":" + g
}

func usr(u *user.User) string {
	if u == nil {
		return ""
	}
	return u.Username
}

func grp(g *user.Group) string {
	if g == nil {
		return ""
	}
	return g.Name
}

// keyProblem is what is wrong with one key file.
type keyProblem struct {
	path, problem string
	loose         bool // only the mode is looser than league accepts
}

// checkOAuthKeys inspects the key files in dir as web user w would read
// them. It returns an error when pbxwatch itself cannot inspect them.
func checkOAuthKeys(dir string, w *webUser) ([]keyProblem, error) {
	var out []keyProblem
	for _, name := range oauthKeyFiles {
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			out = append(out, keyProblem{path: p, problem: "does not exist"})
			continue
		case err != nil:
			return nil, fmt.Errorf("cannot inspect %s: %w", p, err)
		case !fi.Mode().IsRegular():
			out = append(out, keyProblem{path: p, problem: "is not a regular file"})
			continue
		}
		mode := fi.Mode().Perm()
		switch {
		case !w.canRead(fi):
			out = append(out, keyProblem{path: p, problem: fmt.Sprintf("is not readable by the web server user %s (owner %s, mode %04o)", w.name, owner(fi), mode)})
		case !slices.Contains(keyModesAccepted, mode):
			out = append(out, keyProblem{path: p, loose: true, problem: fmt.Sprintf("has mode %04o; league/oauth2-server accepts only 0400, 0440, 0600, 0640 or 0660 (owner %s)", mode, owner(fi))})
		}
	}
	return out, nil
}

func diagOAuthKeys(dir string, w *webUser, problems []keyProblem) sdk.Diagnosis {
	sev := sdk.SeverityWarning
	var lines []string
	for _, p := range problems {
		if !p.loose {
			sev = sdk.SeverityCritical
		}
		lines = append(lines, p.path+" "+p.problem)
	}
	msg := "FreePBX's OAuth key files cannot be used: " + strings.Join(lines, "; ") + ". Without them the token endpoint fails (HTTP 500, \"Key path ... does not exist or is not readable\")."
	if sev == sdk.SeverityWarning {
		msg = "FreePBX's OAuth key files have loose permissions: " + strings.Join(lines, "; ") + "."
	}
	return sdk.Diagnosis{Code: codeOAuthKeysUnreadable, Severity: sev, Message: msg,
		Details: map[string]string{"keys_dir": dir, "web_user": w.name, "problems": strings.Join(lines, "; ")},
		Remediation: []string{
			fmt.Sprintf("As root, restore owner and modes: `chown %s:%s %s/api_oauth*.key && chmod 0600 %s/api_oauth*.key`, or `fwconsole chown`.", w.name, w.name, dir, dir),
			"If a key file is missing, reinstall the API module to generate a new pair (Admin → Module Admin → API → Reinstall, or `fwconsole ma install api`), then `fwconsole reload`; tokens issued before stop working, so integrations fetch new ones.",
			"The key directory is Advanced Settings → CERTKEYLOC (default: ASTETCDIR/keys, /etc/asterisk/keys); this check's keys_dir overrides it.",
		}}
}
