package main_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// initBuilders are the functions whose results are costly heap when
// kept in a package variable: a compiled regular expression or a parsed
// template, by import path and function name.
var initBuilders = map[string][]string{
	"regexp":        {"Compile", "CompilePOSIX", "MustCompile", "MustCompilePOSIX"},
	"text/template": {"Must", "New", "ParseFS", "ParseFiles", "ParseGlob"},
	"html/template": {"Must", "New", "ParseFS", "ParseFiles", "ParseGlob"},
}

// Every process of the multi-call binary (the agent and each bundled
// plugin) runs the initialisers of every package linked into it, so none
// of our packages compiles a regular expression or parses a template
// while initialising: each builds them on first use (sync.OnceValue),
// in the one process that needs them (docs/design.md,
// "Package initialisers run in every process"). Third-party packages are
// not ours to change and are not checked.
func TestOurPackagesBuildNoRegexpOrTemplateAtInit(t *testing.T) {
	pkgs := ourLinkedPackages(t)
	for _, must := range []string{"plugins/whmcs", "agent/internal/web", "internal/frontlayer", "sdk/yamlerr"} {
		if _, ok := pkgs["github.com/pbxwatch/pbxwatch/"+must]; !ok {
			t.Fatalf("go list -deps ./agent did not list %s (listed %d of our packages): the check would miss it", must, len(pkgs))
		}
	}
	fset := token.NewFileSet()
	for pkg, files := range pkgs {
		for _, file := range files {
			f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatalf("%s: %v", pkg, err)
			}
			for _, pos := range initTimeBuilds(f) {
				t.Errorf("%s: compiles a regexp or parses a template while the package initialises, in every process of the binary: build it on first use: var re = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(...) })", fset.Position(pos))
			}
		}
	}
}

// The check itself finds what it looks for, and leaves what runs later.
func TestInitTimeBuildsAreFound(t *testing.T) {
	const src = `package p

import (
	"regexp"
	tpl "html/template"
	"sync"
)

var a = regexp.MustCompile("a")                                  // found
var b = []struct{ re *regexp.Regexp }{{regexp.MustCompile("b")}} // found
var c = func() *regexp.Regexp { return regexp.MustCompile("c") }() // found: called at init
var d = tpl.Must(tpl.New("").Parse(""))                          // found
var e = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("e") })

func init() { _ = regexp.MustCompile("f") } // found

func init() { go func() { _ = regexp.MustCompile("g") }() }

func h() *regexp.Regexp { return regexp.MustCompile("h") }
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, pos := range initTimeBuilds(f) {
		lines = append(lines, fset.Position(pos).Line)
	}
	// Line 12 calls two builders (Must and New): both are found.
	if want := []int{9, 10, 11, 12, 12, 15}; !slices.Equal(lines, want) {
		t.Errorf("found init-time builds on lines %v, want %v", lines, want)
	}
}

// ourLinkedPackages lists the non-test Go files of every package of this
// repository (both modules) that the binary links, by import path.
func ourLinkedPackages(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f",
		`{{if not .Standard}}{{.ImportPath}}{{"\t"}}{{.Dir}}{{"\t"}}{{join .GoFiles "\t"}}{{end}}`, agentPkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", agentPkg, err, out)
	}
	pkgs := map[string][]string{}
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Split(line, "\t")
		if len(fields) < 3 || !strings.HasPrefix(fields[0], "github.com/pbxwatch/pbxwatch/") {
			continue
		}
		for _, name := range fields[2:] {
			pkgs[fields[0]] = append(pkgs[fields[0]], filepath.Join(fields[1], name))
		}
	}
	return pkgs
}

// initTimeBuilds returns where f calls an initBuilders function while its
// package initialises: in package-level variable initialisers and init
// functions, including function literals called there, but not inside
// function literals merely created (a sync.OnceValue's, a goroutine's).
func initTimeBuilds(f *ast.File) []token.Pos {
	builders := map[string]map[string]bool{} // local package name -> function names
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		funcs, ok := initBuilders[path]
		if !ok {
			continue
		}
		name := filepath.Base(path)
		if imp.Name != nil {
			name = imp.Name.Name
		}
		builders[name] = map[string]bool{}
		for _, fn := range funcs {
			builders[name][fn] = true
		}
	}
	var found []token.Pos
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false // created here, run later (if called, see below)
		case *ast.GoStmt:
			return false
		case *ast.CallExpr:
			if lit, ok := n.Fun.(*ast.FuncLit); ok {
				ast.Inspect(lit.Body, visit)
			}
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
				if pkg, ok := sel.X.(*ast.Ident); ok && builders[pkg.Name][sel.Sel.Name] {
					found = append(found, n.Pos())
				}
			}
		}
		return true
	}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.GenDecl:
			if d.Tok == token.VAR {
				ast.Inspect(d, visit)
			}
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.Name == "init" && d.Body != nil {
				ast.Inspect(d.Body, visit)
			}
		}
	}
	return found
}
