package httpx_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Security §3.I I-10: every outbound HTTP call goes through
// httpx.NewClient. Outside this package, production code may not use the
// default client, the package-level helpers that use it, or build its own
// client or transport. Tests, the simulators (internal/metasim), test
// helpers (internal/testutil), cmd and the load generators (bench: not part
// of the server, they drive a local Parley) are exempt.
func TestNoUnguardedHTTPClients(t *testing.T) {
	root := moduleRoot(t)
	exempt := []string{"internal/httpx", "internal/metasim", "internal/testutil", "cmd", "bench"}
	forbiddenFuncs := map[string]bool{"Get": true, "Post": true, "PostForm": true, "Head": true}
	forbiddenVars := map[string]bool{"DefaultClient": true, "DefaultTransport": true}
	forbiddenTypes := map[string]bool{"Client": true, "Transport": true}
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if e.IsDir() {
			name := e.Name()
			if rel != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || name == "vendor") {
				return filepath.SkipDir
			}
			for _, x := range exempt {
				if rel == x || strings.HasPrefix(rel, x+"/") {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			// Someone's half-written file: not this test's business.
			t.Logf("skip %s: %v", rel, err)
			return nil
		}
		checked++
		name := httpImportName(f)
		if name == "" {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok && id.Name == name {
					if forbiddenFuncs[n.Sel.Name] || forbiddenVars[n.Sel.Name] {
						t.Errorf("%s: http.%s: use httpx.NewClient", fset.Position(n.Pos()), n.Sel.Name)
					}
				}
			case *ast.CompositeLit:
				if sel, ok := n.Type.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok && id.Name == name && forbiddenTypes[sel.Sel.Name] {
						t.Errorf("%s: http.%s literal: use httpx.NewClient", fset.Position(n.Pos()), sel.Sel.Name)
					}
				}
			case *ast.CallExpr:
				// new(http.Client) is a literal by another name.
				if fn, ok := n.Fun.(*ast.Ident); ok && fn.Name == "new" && len(n.Args) == 1 {
					if sel, ok := n.Args[0].(*ast.SelectorExpr); ok {
						if id, ok := sel.X.(*ast.Ident); ok && id.Name == name && forbiddenTypes[sel.Sel.Name] {
							t.Errorf("%s: new(http.%s): use httpx.NewClient", fset.Position(n.Pos()), sel.Sel.Name)
						}
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
	if checked < 10 {
		t.Fatalf("checked only %d files under %s: is the walk broken?", checked, root)
	}
}

// httpImportName is the name net/http goes by in f ("" if not imported).
func httpImportName(f *ast.File) string {
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if p != "net/http" {
			continue
		}
		if imp.Name != nil {
			return imp.Name.Name
		}
		return "http"
	}
	return ""
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}
