package segment

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
)

// fakeLookups knows one text field and one tag, and accepts any string as
// the tag's ID so that payloads reach the compiler as values.
type fakeLookups struct{}

func (fakeLookups) fieldByKey(_ context.Context, _, key string) (contact.Field, error) {
	if key == "city" {
		return contact.Field{ID: "f-city", Key: "city", Type: contact.FieldText}, nil
	}
	return contact.Field{}, db.ErrNotFound
}

func (fakeLookups) tagExists(context.Context, string, string) (bool, error) { return true, nil }

// J-7: values never become SQL text; they travel as arguments.
func TestPayloadsAreArguments(t *testing.T) {
	payloads := []string{`' OR 1=1--`, `1); SELECT pg_sleep(5)--`, `'; DROP TABLE contacts; --`}
	for _, p := range payloads {
		def := Definition{Match: MatchAny, Conditions: []Condition{
			{Field: FieldTag, Op: OpHas, Value: p},
			{Field: FieldStage, Op: OpIsNot, Value: p},
			{Field: FieldChannel, Op: OpIs, Value: p},
			{Field: "field:city", Op: OpContains, Value: p},
		}}
		pl, err := compile(context.Background(), fakeLookups{}, "ws-1", def, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []func() (string, []any){
			func() (string, []any) { return pl.page("ws-1", p, 10) },
			func() (string, []any) { return pl.count("ws-1") },
		} {
			text, args := q()
			for _, bit := range []string{"OR 1=1", "pg_sleep", "DROP", "--", "'"} {
				if strings.Contains(text, bit) && !strings.Contains(sqlStageIsNot, bit) {
					t.Errorf("payload %q reached the SQL text:\n%s", p, text)
				}
			}
			if strings.Count(text, "?") != len(args) {
				t.Errorf("%d placeholders for %d arguments:\n%s", strings.Count(text, "?"), len(args), text)
			}
			found := false
			for _, a := range args {
				found = found || a == p || a == strings.TrimSpace(p)
			}
			if !found {
				t.Errorf("payload %q is not among the arguments %v", p, args)
			}
		}
	}
}

// J-7 static check (gosec G201/G202): no fmt formatting builds a string
// in this package except ErrInvalid's message (function invalid), and no
// SQL string is concatenated with anything but constants in compile.go.
func TestNoFormattedSQL(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok {
				continue
			}
			ast.Inspect(fn, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "fmt" && strings.HasPrefix(sel.Sel.Name, "Sprint") && fn.Name.Name != "invalid" {
					t.Errorf("%s: fmt.%s in %s: build SQL from constants and bind values", fset.Position(call.Pos()), sel.Sel.Name, fn.Name.Name)
				}
				return true
			})
		}
	}
}
