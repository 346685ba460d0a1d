package alerting_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/agent/internal/alerting"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// codeLiteral is the shape of a diagnosis code: plugin.cause.
var codeLiteral = regexp.MustCompile(`^[a-z]+\.[a-z0-9_]+$`)

// emittedCodes finds, in the non-test Go files under dirs (the test
// plugins left out), every string
// literal a diagnosis code is made of: the value of a Code field in a
// composite literal, a value assigned to .Code, or a constant whose name
// starts with code/Code.
func emittedCodes(t *testing.T, root string, dirs ...string) map[string]string {
	t.Helper()
	codes := map[string]string{}
	add := func(fset *token.FileSet, e ast.Expr) {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return
		}
		v, err := strconv.Unquote(lit.Value)
		if err == nil && codeLiteral.MatchString(v) {
			if _, seen := codes[v]; !seen {
				codes[v] = fset.Position(lit.Pos()).String()
			}
		}
	}
	for _, dir := range dirs {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() && d.Name() == "testplugins" {
				return filepath.SkipDir // test support (sdk/pluginhost/internal/testplugins), never shipped
			}
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.KeyValueExpr:
					if id, ok := n.Key.(*ast.Ident); ok && id.Name == "Code" {
						add(fset, n.Value)
					}
				case *ast.AssignStmt:
					for i, l := range n.Lhs {
						if sel, ok := l.(*ast.SelectorExpr); ok && sel.Sel.Name == "Code" && i < len(n.Rhs) {
							add(fset, n.Rhs[i])
						}
					}
				case *ast.ValueSpec:
					for i, name := range n.Names {
						if strings.HasPrefix(strings.ToLower(name.Name), "code") && i < len(n.Values) {
							add(fset, n.Values[i])
						}
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return codes
}

// tailSessionCodes are the codes the shared log-tailing session
// (internal/tailfile) emits for each plugin that runs one: the session
// names its causes with code("cause") and the plugin's name prefixes them,
// so no string literal holds the whole code.
func tailSessionCodes(t *testing.T, root string) map[string]string {
	t.Helper()
	var causes []string
	at := map[string]string{}
	files, err := filepath.Glob(filepath.Join(root, "internal", "tailfile", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			lit, isLit := call.Args[0].(*ast.BasicLit)
			if !ok || sel.Sel.Name != "code" || !isLit || lit.Kind != token.STRING {
				return true
			}
			if cause, err := strconv.Unquote(lit.Value); err == nil {
				causes = append(causes, cause)
				at[cause] = fset.Position(lit.Pos()).String()
			}
			return true
		})
	}
	out := map[string]string{}
	plugins, err := filepath.Glob(filepath.Join(root, "plugins", "*", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range plugins {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(path, "_test.go") || !strings.Contains(string(b), "tailfile.NewSession(") {
			continue
		}
		prefix := filepath.Base(filepath.Dir(path))
		for _, c := range causes {
			out[prefix+"."+c] = at[c]
		}
	}
	return out
}

// docAnchors lists the <a id="…"> anchors of a Markdown file.
func docAnchors(t *testing.T, file string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]int{}
	for _, m := range regexp.MustCompile(`<a id="([^"]+)"></a>`).FindAllStringSubmatch(string(b), -1) {
		anchors[m[1]]++
	}
	return anchors
}

// Every code a shipped plugin or the agent can put on an alert has its own
// anchor in docs/diagnoses.md, the page each alert's runbook_url points at.
func TestEveryEmittedCodeHasARunbookAnchor(t *testing.T) {
	t.Parallel()
	root := filepath.Join(configsDir(t), "..")
	codes := emittedCodes(t, root, "plugins", "agent", "sdk/pluginhost", "sdk/codes.go")
	for code, at := range tailSessionCodes(t, root) {
		if _, seen := codes[code]; !seen {
			codes[code] = at
		}
	}
	for _, must := range []string{"whmcs.invalid_ip", "freepbx.invalid_client", "logtail.file_missing", "accesslog.api_failing", "nagios.critical", sdk.CodeUndiagnosed, sdk.CodePluginCrashed} {
		if _, ok := codes[must]; !ok {
			t.Errorf("the code scan missed %s: it no longer finds the codes plugins emit", must)
		}
	}
	anchors := docAnchors(t, filepath.Join(root, "docs", "diagnoses.md"))
	var names []string
	for c := range codes {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		anchor := alerting.RunbookAnchor(false, c)
		if anchor != c {
			t.Errorf("%s (%s): its runbook_url points at #%s, not at its own anchor: add its prefix to documentedPrefixes", c, codes[c], anchor)
		}
		if anchors[anchor] == 0 {
			t.Errorf("%s (emitted at %s) has no anchor in docs/diagnoses.md: add a row `<a id=\"%s\"></a>` to \"Every code\"", c, codes[c], anchor)
		}
	}
	for _, a := range []string{alerting.AnchorLogEvents, alerting.AnchorOtherPlugins, sdk.CodeAlertTest} {
		if anchors[a] == 0 {
			t.Errorf("docs/diagnoses.md has no anchor %q", a)
		}
	}
	for a, n := range anchors {
		if n > 1 {
			t.Errorf("docs/diagnoses.md: anchor %q appears %d times", a, n)
		}
	}
	t.Logf("%d codes, %d anchors", len(codes), len(anchors))
}
