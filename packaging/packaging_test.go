// Package packaging_test checks what `make install` and `make package`
// produce: the install tree, static stamped binaries, a .deb lintian
// accepts, an .rpm with the right files, config flags and scripts, and
// maintainer scripts that do the right thing (with every command they run
// replaced by a recorder, so the host is never touched).
package packaging_test

import (
	"bytes"
	"compress/gzip"
	"debug/buildinfo"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
)

// repoRoot is the source tree (this package's parent).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// run runs a command in dir and returns its combined output, failing the
// test on a non-zero exit.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// built is one `make package` for the whole test binary: binaries in
// bin/, the staged install tree in bin/package/root, packages in dist/.
var built struct {
	once               sync.Once
	dir, bin, deb, rpm string
	err                error
	out                string
}

func makePackage(t *testing.T) (bin, deb, rpm string) {
	t.Helper()
	testutil.Slow(t, "make package")
	testutil.Tool(t, "make")
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "pbxwatch-package-")
		if err != nil {
			built.err = err
			return
		}
		built.dir, built.bin = dir, filepath.Join(dir, "bin")
		dist := filepath.Join(dir, "dist")
		cmd := exec.Command("make", "--no-print-directory", "package", "BIN="+built.bin, "DIST="+dist)
		cmd.Dir = repoRoot(t)
		out, err := cmd.CombinedOutput()
		built.out = string(out)
		if err != nil {
			built.err = err
			return
		}
		debs, _ := filepath.Glob(filepath.Join(dist, "pbxwatch_*_amd64.deb"))
		rpms, _ := filepath.Glob(filepath.Join(dist, "pbxwatch-*-1.x86_64.rpm"))
		if len(debs) != 1 || len(rpms) != 1 {
			built.err = errNotBuilt
			return
		}
		built.deb, built.rpm = debs[0], rpms[0]
	})
	if built.err != nil {
		t.Fatalf("make package: %v\n%s", built.err, built.out)
	}
	return built.bin, built.deb, built.rpm
}

var errNotBuilt = &os.PathError{Op: "make package", Path: "dist", Err: os.ErrNotExist}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// binaries are what `make build` writes and the packages ship: the agent
// and a plugin for each plugins/NAME/main.go.
func binaries(t *testing.T) []string {
	t.Helper()
	mains, err := filepath.Glob(filepath.Join(repoRoot(t), "plugins", "*", "main.go"))
	if err != nil || len(mains) == 0 {
		t.Fatalf("no plugins found: %v", err)
	}
	out := []string{"pbxwatch"}
	for _, m := range mains {
		out = append(out, "pbxwatch-plugin-"+filepath.Base(filepath.Dir(m)))
	}
	return out
}

// TestBinariesAreStaticAndStamped: no ELF interpreter (so they start on
// FreePBX 16's glibc 2.17 as on Debian 12), built with CGO_ENABLED=0 and
// -trimpath, and every version variable stamped with a value.
func TestBinariesAreStaticAndStamped(t *testing.T) {
	bin, _, _ := makePackage(t)
	revision := strings.TrimSpace(run(t, repoRoot(t), nil, "git", "rev-parse", "HEAD"))
	for _, name := range binaries(t) {
		path := filepath.Join(bin, name)
		f, err := elf.Open(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s has an ELF interpreter (dynamically linked)", name)
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			t.Errorf("%s needs shared libraries %v", name, libs)
		}
		f.Close()

		// -trimpath leaves -ldflags out of the build info, so the stamp is
		// read back from what each binary prints.
		info, err := buildinfo.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		settings := map[string]string{}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
		if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" {
			t.Errorf("%s: CGO_ENABLED=%q -trimpath=%q, want 0 and true", name, settings["CGO_ENABLED"], settings["-trimpath"])
		}
		arg := "--version"
		if name == "pbxwatch" {
			arg = "version"
		}
		assertStamped(t, name, run(t, bin, nil, path, arg), revision)
	}
}

// assertStamped checks version.Print output of a `make build` binary: every
// field set, none "unknown", the revision the one checked out.
func assertStamped(t *testing.T, name, out, revision string) {
	t.Helper()
	head := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `, version (\S+) \(branch: (\S+), revision: ([0-9a-f]{40})\)\n\s+build user:\s+(\S+@\S+)\n\s+build date:\s+(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\n`)
	m := head.FindStringSubmatch(out)
	if m == nil {
		t.Errorf("%s: version output of a `make build` binary lacks a field:\n%s", name, out)
		return
	}
	for _, field := range m[1:] {
		if field == "unknown" {
			t.Errorf("%s: a field is unknown although make stamped it:\n%s", name, out)
		}
	}
	if m[3] != revision {
		t.Errorf("%s: revision %s, want the checked-out %s", name, m[3], revision)
	}
}

// TestThirdPartyNoticesCoverEveryLinkedModule: the static binaries carry
// other projects' code, and the package carries each one's license.
func TestThirdPartyNoticesCoverEveryLinkedModule(t *testing.T) {
	bin, _, _ := makePackage(t)
	notices := gunzip(t, filepath.Join(bin, "package", "root", "usr", "share", "doc", "pbxwatch", "third-party-notices.gz"))
	if !strings.Contains(notices, "==== Go (the standard library and runtime)") {
		t.Error("the notices lack Go's own license")
	}
	// Vendored JavaScript (the fleet page's chart library) travels with
	// its license too.
	vendored, _ := filepath.Glob(filepath.Join(repoRoot(t), "agent", "internal", "web", "ui", "static", "vendor", "*", "VENDOR"))
	if len(vendored) == 0 {
		t.Error("no vendored library found: the glob is stale")
	}
	for _, v := range vendored {
		rel, _ := filepath.Rel(repoRoot(t), filepath.Dir(v))
		if !strings.Contains(notices, "(vendored into the agent: "+rel+") ====") {
			t.Errorf("the notices lack the license of %s", rel)
		}
	}
	for _, name := range binaries(t) {
		info, err := buildinfo.ReadFile(filepath.Join(bin, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, dep := range info.Deps {
			if strings.HasPrefix(dep.Path, "github.com/pbxwatch/pbxwatch/") {
				continue // pbxwatch's own SDK module, not third-party code
			}
			if !strings.Contains(notices, "\n==== "+dep.Path+" "+dep.Version+" ====\n") {
				t.Errorf("%s links %s %s, whose license is not in third-party-notices.gz", name, dep.Path, dep.Version)
			}
		}
	}
}

// TestMakeInstallTree installs with DESTDIR (and the default PREFIX=/usr),
// then again with PREFIX=/usr/local into the same DESTDIR: paths inside the
// unit follow PREFIX, and the edited config is kept.
func TestMakeInstallTree(t *testing.T) {
	bin, _, _ := makePackage(t) // reuse its build cache and binaries dir
	root := repoRoot(t)
	dest := t.TempDir()
	run(t, root, nil, "make", "--no-print-directory", "install", "BIN="+bin, "DESTDIR="+dest)

	want := map[string]os.FileMode{
		"usr/bin/pbxwatch":                                        0o755,
		"usr/lib/systemd/system/pbxwatch.service":                 0o644,
		"usr/lib/sysusers.d/pbxwatch.conf":                        0o644,
		"usr/lib/tmpfiles.d/pbxwatch.conf":                        0o644,
		"usr/share/man/man1/pbxwatch.1.gz":                        0o644,
		"usr/share/doc/pbxwatch/README.md":                        0o644,
		"usr/share/doc/pbxwatch/install.md":                       0o644,
		"usr/share/doc/pbxwatch/copyright":                        0o644,
		"usr/share/doc/pbxwatch/examples/pbxwatch.example.yaml":   0o644,
		"usr/share/doc/pbxwatch/examples/pbxwatch.rules.yml":      0o644,
		"usr/share/doc/pbxwatch/examples/alertmanager.yml":        0o644,
		"usr/share/doc/pbxwatch/examples/templates/pbxwatch.tmpl": 0o644,
		"usr/share/pbxwatch/accesslog-acl.sh":                     0o755,
		"etc/pbxwatch/pbxwatch.yaml":                              0o644,
		"etc/default/pbxwatch":                                    0o644,
	}
	for _, b := range binaries(t)[1:] {
		want["usr/libexec/pbxwatch/"+b] = 0o755
	}
	for rel, mode := range want {
		st, err := os.Stat(filepath.Join(dest, rel))
		if err != nil {
			t.Errorf("missing %s", rel)
			continue
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s: mode %o, want %o", rel, st.Mode().Perm(), mode)
		}
	}
	assertPluginsLinkToTheAgent(t, dest, "usr/bin/pbxwatch", "usr/libexec/pbxwatch")
	for _, f := range []string{"configs/pbxwatch.yaml", "packaging/default", "packaging/sysusers.conf", "packaging/tmpfiles.conf"} {
		installed := map[string]string{"configs/pbxwatch.yaml": "etc/pbxwatch/pbxwatch.yaml", "packaging/default": "etc/default/pbxwatch",
			"packaging/sysusers.conf": "usr/lib/sysusers.d/pbxwatch.conf", "packaging/tmpfiles.conf": "usr/lib/tmpfiles.d/pbxwatch.conf"}[f]
		if read(t, filepath.Join(root, f)) != read(t, filepath.Join(dest, installed)) {
			t.Errorf("%s differs from %s with the default PREFIX", installed, f)
		}
	}
	if !strings.Contains(read(t, filepath.Join(dest, "etc/default/pbxwatch")), "\nPBXWATCH_OPTS=\"\"\n") {
		t.Error(`/etc/default/pbxwatch lacks PBXWATCH_OPTS=""`)
	}
	tmpfiles := read(t, filepath.Join(dest, "usr/lib/tmpfiles.d/pbxwatch.conf"))
	for _, line := range []string{"d /var/lib/pbxwatch 0750 pbxwatch pbxwatch -", "d /etc/pbxwatch/credentials 0750 root pbxwatch -"} {
		if !strings.Contains(tmpfiles, line+"\n") {
			t.Errorf("tmpfiles.d lacks %q", line)
		}
	}
	if !regexp.MustCompile(`(?m)^u pbxwatch - "[^"]+" /var/lib/pbxwatch$`).MatchString(read(t, filepath.Join(dest, "usr/lib/sysusers.d/pbxwatch.conf"))) {
		t.Error("sysusers.d lacks the pbxwatch user with home /var/lib/pbxwatch")
	}
	unit := read(t, filepath.Join(dest, "usr/lib/systemd/system/pbxwatch.service"))
	if !regexp.MustCompile(`(?m)^ExecStart=/usr/bin/pbxwatch run .*--config\.file=/etc/pbxwatch/pbxwatch\.yaml`).MatchString(unit) {
		t.Errorf("unit does not run /usr/bin/pbxwatch on /etc/pbxwatch/pbxwatch.yaml:\n%s", unit)
	}
	man := gunzip(t, filepath.Join(dest, "usr/share/man/man1/pbxwatch.1.gz"))
	if !strings.HasPrefix(man, ".TH PBXWATCH 1 ") || !strings.Contains(man, "\n.SH \"NAME\"\npbxwatch \\- monitoring agent") || !strings.Contains(man, "--config.file") {
		t.Errorf("man page lacks its NAME line or the flags:\n%.400s", man)
	}

	// Again with PREFIX=/usr/local over an edited config.
	cfg := filepath.Join(dest, "etc/pbxwatch/pbxwatch.yaml")
	if err := os.WriteFile(cfg, []byte("# edited by the operator\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, root, nil, "make", "--no-print-directory", "install", "BIN="+bin, "DESTDIR="+dest, "PREFIX=/usr/local")
	if read(t, cfg) != "# edited by the operator\n" {
		t.Error("make install overwrote an existing /etc/pbxwatch/pbxwatch.yaml")
	}
	local := read(t, filepath.Join(dest, "usr/local/lib/systemd/system/pbxwatch.service"))
	if !strings.Contains(local, "ExecStart=/usr/local/bin/pbxwatch ") {
		t.Errorf("PREFIX=/usr/local unit does not run /usr/local/bin/pbxwatch:\n%s", local)
	}
	for _, rel := range []string{"usr/local/bin/pbxwatch", "usr/local/libexec/pbxwatch/pbxwatch-plugin-logtail"} {
		if _, err := os.Stat(filepath.Join(dest, rel)); err != nil {
			t.Errorf("PREFIX=/usr/local: %v", err)
		}
	}
	assertPluginsLinkToTheAgent(t, dest, "usr/local/bin/pbxwatch", "usr/local/libexec/pbxwatch")
}

// assertPluginsLinkToTheAgent: every bundled plugin in libexec is a
// relative link to the agent's binary (one multi-call binary whose pages
// the agent and every plugin process share), not a copy.
func assertPluginsLinkToTheAgent(t *testing.T, root, agent, libexec string) {
	t.Helper()
	agentInfo, err := os.Stat(filepath.Join(root, agent))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range binaries(t)[1:] {
		link := filepath.Join(root, libexec, b)
		target, err := os.Readlink(link)
		if err != nil {
			t.Errorf("%s: not a link to the agent's binary: %v", filepath.Join(libexec, b), err)
			continue
		}
		if filepath.IsAbs(target) {
			t.Errorf("%s -> %s: the link is absolute; relative links keep DESTDIR trees and packages valid", filepath.Join(libexec, b), target)
		}
		if info, err := os.Stat(link); err != nil || !os.SameFile(info, agentInfo) {
			t.Errorf("%s -> %s does not reach %s (%v)", filepath.Join(libexec, b), target, agent, err)
		}
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func gunzip(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDebPassesLintian: no errors and no warnings (the two deliberate
// exceptions are overridden in packaging/lintian-overrides, with reasons).
func TestDebPassesLintian(t *testing.T) {
	testutil.Tool(t, "lintian")
	_, deb, _ := makePackage(t)
	cmd := exec.Command("lintian", "--fail-on", "error,warning", deb)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("lintian: %v\n%s", err, out)
	}
	if regexp.MustCompile(`(?m)^[EW]: `).Match(out) {
		t.Fatalf("lintian reports errors or warnings:\n%s", out)
	}
}

// debFiles lists the regular files and symlinks in the .deb.
func debFiles(t *testing.T, deb string) []string {
	t.Helper()
	var files []string
	for _, line := range strings.Split(run(t, ".", nil, "dpkg-deb", "--contents", deb), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || strings.HasPrefix(f[0], "d") {
			continue
		}
		files = append(files, strings.TrimPrefix(f[5], "."))
	}
	sort.Strings(files)
	return files
}

// TestDebShipsPluginsAsLinks: the .deb carries one binary, the bundled
// plugins as links to it, as `make install` lays them out.
func TestDebShipsPluginsAsLinks(t *testing.T) {
	testutil.Tool(t, "dpkg-deb")
	_, deb, _ := makePackage(t)
	dir := t.TempDir()
	run(t, ".", nil, "dpkg-deb", "--extract", deb, dir)
	assertPluginsLinkToTheAgent(t, dir, "usr/bin/pbxwatch", "usr/libexec/pbxwatch")
}

func TestDebMetadataAndConffiles(t *testing.T) {
	testutil.Tool(t, "dpkg-deb")
	_, deb, _ := makePackage(t)
	field := func(name string) string {
		return strings.TrimSpace(run(t, ".", nil, "dpkg-deb", "--field", deb, name))
	}
	if v := field("Version"); !regexp.MustCompile(`^[0-9][0-9A-Za-z.+~]*$`).MatchString(v) || !strings.Contains(filepath.Base(deb), "_"+v+"_") {
		t.Errorf("Version %q is not a clean native version matching the file name %s", v, deb)
	}
	if d := field("Depends"); !strings.Contains(d, "init-system-helpers") {
		t.Errorf("Depends %q lacks init-system-helpers (deb-systemd-helper)", d)
	}
	ctrl := t.TempDir()
	run(t, ".", nil, "dpkg-deb", "--control", deb, ctrl)
	if got := read(t, filepath.Join(ctrl, "conffiles")); got != "/etc/default/pbxwatch\n/etc/pbxwatch/pbxwatch.yaml\n" && got != "/etc/pbxwatch/pbxwatch.yaml\n/etc/default/pbxwatch\n" {
		t.Errorf("conffiles:\n%s", got)
	}
	files := debFiles(t, deb)
	for _, want := range []string{"/usr/bin/pbxwatch", "/usr/lib/systemd/system/pbxwatch.service", "/usr/share/doc/pbxwatch/copyright", "/usr/share/doc/pbxwatch/changelog.gz", "/usr/share/doc/pbxwatch/examples/templates/pbxwatch.tmpl"} {
		if i := sort.SearchStrings(files, want); i == len(files) || files[i] != want {
			t.Errorf("the .deb lacks %s", want)
		}
	}
}

func TestRPMContentsConfigAndScripts(t *testing.T) {
	testutil.Tool(t, "rpm")
	testutil.Tool(t, "dpkg-deb")
	_, deb, rpm := makePackage(t)
	list := strings.Fields(run(t, ".", nil, "rpm", "-qp", "--qf", `[%{FILEMODES:perms}|%{FILENAMES}|%{FILEFLAGS:fflags}\n]`, rpm))
	var files []string
	flags := map[string]string{}
	for _, line := range list {
		f := strings.SplitN(line, "|", 3)
		if len(f) != 3 {
			t.Fatalf("rpm -qp line %q", line)
		}
		flags[f[1]] = f[2]
		if !strings.HasPrefix(f[0], "d") {
			files = append(files, f[1])
		} else if !strings.Contains(f[1], "pbxwatch") {
			t.Errorf("the .rpm owns the shared directory %s", f[1])
		}
	}
	sort.Strings(files)

	// Each package's unit reads its options from a file that package ships
	// as a config file; the .rpm's unit is systemd/el7's when there is one.
	rpmUnit := rpmFile(t, rpm, "/usr/lib/systemd/system/pbxwatch.service")
	wantUnit := filepath.Join(repoRoot(t), "systemd", "el7", "pbxwatch.service")
	if _, err := os.Stat(wantUnit); err != nil {
		wantUnit = filepath.Join(repoRoot(t), "systemd", "pbxwatch.service")
	}
	if rpmUnit != read(t, wantUnit) {
		t.Errorf("the .rpm's unit is not %s", wantUnit)
	}
	rpmEnv, debEnv := envFile(rpmUnit), envFile(debFile(t, deb, "/usr/lib/systemd/system/pbxwatch.service"))
	for _, cfg := range []string{"/etc/pbxwatch/pbxwatch.yaml", rpmEnv} {
		if flags[cfg] != "cn" {
			t.Errorf("%s: rpm file flags %q, want config(noreplace) (cn)", cfg, flags[cfg])
		}
	}
	// The same files in both, but for Debian's lintian overrides and the
	// options file's place.
	var d []string
	for _, f := range debFiles(t, deb) {
		switch f {
		case "/usr/share/lintian/overrides/pbxwatch":
		case debEnv:
			d = append(d, rpmEnv)
		default:
			d = append(d, f)
		}
	}
	sort.Strings(d)
	if strings.Join(d, "\n") != strings.Join(files, "\n") {
		t.Errorf("the .rpm and .deb ship different files:\nrpm: %v\ndeb: %v", files, d)
	}

	scripts := run(t, ".", nil, "rpm", "-qp", "--scripts", rpm)
	for _, want := range []string{"postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet",
		"systemctl --no-reload enable pbxwatch.service", "systemctl try-restart pbxwatch.service", "systemctl stop pbxwatch.service",
		"useradd --system", "/usr/lib/sysusers.d/pbxwatch.conf"} {
		if !strings.Contains(scripts, want) {
			t.Errorf("rpm scripts lack %q", want)
		}
	}
	if strings.Contains(scripts, "@SETUP@") {
		t.Error("rpm scripts still hold the @SETUP@ placeholder")
	}
	if req := run(t, ".", nil, "rpm", "-qp", "--requires", rpm); !strings.Contains(req, "shadow-utils") {
		t.Errorf("rpm requires:\n%s", req)
	}
}

// TestDebUnitReadsShippedOptions: the .deb's unit reads the options file
// the .deb ships, as a conffile.
func TestDebUnitReadsShippedOptions(t *testing.T) {
	testutil.Tool(t, "dpkg-deb")
	_, deb, _ := makePackage(t)
	unit := debFile(t, deb, "/usr/lib/systemd/system/pbxwatch.service")
	if unit != read(t, filepath.Join(repoRoot(t), "systemd", "pbxwatch.service")) {
		t.Error("the .deb's unit is not systemd/pbxwatch.service")
	}
	env := envFile(unit)
	ctrl := t.TempDir()
	run(t, ".", nil, "dpkg-deb", "--control", deb, ctrl)
	if !strings.Contains("\n"+read(t, filepath.Join(ctrl, "conffiles")), "\n"+env+"\n") {
		t.Errorf("the unit reads %s, which is not a conffile of the .deb", env)
	}
}

// envFile is the options file a unit reads (packaging/envfile.sh's rule).
func envFile(unit string) string {
	m := regexp.MustCompile(`(?m)^EnvironmentFile=-?(\S+)`).FindStringSubmatch(unit)
	if m == nil {
		return "/etc/default/pbxwatch"
	}
	return m[1]
}

// debFile returns one file of the .deb.
func debFile(t *testing.T, deb, path string) string {
	t.Helper()
	dir := t.TempDir()
	run(t, ".", nil, "dpkg-deb", "--extract", deb, dir)
	return read(t, filepath.Join(dir, path))
}

// rpmFile returns one file of the .rpm, read from rpm2cpio's archive (the
// "newc" cpio format) without needing cpio.
func rpmFile(t *testing.T, rpm, path string) string {
	t.Helper()
	// rpm2cpio (rpm 4.18) writes the whole archive yet exits 1 on nfpm's
	// packages; the archive's own TRAILER!!! entry proves it complete.
	archive, err := exec.Command("rpm2cpio", rpm).Output()
	if !bytes.Contains(archive, []byte("TRAILER!!!")) {
		t.Fatalf("rpm2cpio: %v (%d bytes, no cpio trailer)", err, len(archive))
	}
	for len(archive) >= 110 && string(archive[:6]) == "070701" {
		field := func(i int) int {
			n, err := strconv.ParseUint(string(archive[6+8*i:14+8*i]), 16, 32)
			if err != nil {
				t.Fatalf("cpio header: %v", err)
			}
			return int(n)
		}
		size, nameSize := field(6), field(11)
		name := string(archive[110 : 110+nameSize-1])
		dataStart := pad4(110 + nameSize)
		if strings.TrimPrefix(name, ".") == path {
			return string(archive[dataStart : dataStart+size])
		}
		archive = archive[pad4(dataStart+size):]
	}
	t.Fatalf("%s is not in %s", path, rpm)
	return ""
}

func pad4(n int) int { return (n + 3) &^ 3 }
