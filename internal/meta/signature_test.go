package meta_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/meta"
)

// Vectors of meta-platform.md §1.6 (VERIFIED), secret test_app_secret.
const (
	testSecret = "test_app_secret"

	messengerBody = `{"object":"page","entry":[{"id":"PAGE_ID","time":1458692752478,"messaging":[{"sender":{"id":"PSID"},"recipient":{"id":"PAGE_ID"},"timestamp":1458692752478,"message":{"mid":"mid.1457764197618:41d102a3e1ae206a38","text":"hello, world!"}}]}]}`
	messengerSig  = "sha256=eec1906d2e5dc1a43a1014f196b421cf9d7b6696ead890eadf906dbbfe03f791"
	messengerSHA1 = "sha1=0600f7e1796ae99ceee406bc24742ed367d67a2a"

	khmerEscaped    = `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sok Dara"},"wa_id":"85512345678"}],"messages":[{"from":"85512345678","id":"wamid.TEST_KHMER_1","timestamp":"1749416383","type":"text","text":{"body":"\u179f\u17bd\u179f\u17d2\u178f\u17b8 \u1781\u17d2\u1789\u17bb\u17c6\u1785\u1784\u17cb\u1791\u17b7\u1789"}}]},"field":"messages"}]}]}`
	khmerEscapedSig = "sha256=f39d473327941e3373acc1692f241ce36018d54f36c46be3e17e3d7605141748"
	khmerRawSig     = "sha256=623c27181efee6bac08d5ec079640250663e78c03b090d4f1bf435e1a4deca58"
	khmerText       = "សួស្តី ខ្ញុំចង់ទិញ"
)

// khmerRaw is the same JSON with the Khmer text as raw UTF-8.
func khmerRaw() string {
	esc := `\u179f\u17bd\u179f\u17d2\u178f\u17b8 \u1781\u17d2\u1789\u17bb\u17c6\u1785\u1784\u17cb\u1791\u17b7\u1789`
	return strings.Replace(khmerEscaped, esc, khmerText, 1)
}

func TestVectorsAreExact(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		n    int
	}{{"messenger", messengerBody, 239}, {"khmer escaped", khmerEscaped, 523}, {"khmer raw", khmerRaw(), 472}} {
		if len(tc.body) != tc.n {
			t.Errorf("%s body is %d bytes; the vector is %d", tc.name, len(tc.body), tc.n)
		}
	}
}

func TestVerifySignature(t *testing.T) {
	upper := "sha256=" + strings.ToUpper(strings.TrimPrefix(messengerSig, "sha256="))
	for _, tc := range []struct {
		name    string
		body    string
		header  string
		secrets []string
		want    bool
	}{
		{"messenger vector", messengerBody, messengerSig, []string{testSecret}, true},
		{"upper-case hex", messengerBody, upper, []string{testSecret}, true},
		{"khmer escaped with its signature", khmerEscaped, khmerEscapedSig, []string{testSecret}, true},
		{"khmer raw with its signature", khmerRaw(), khmerRawSig, []string{testSecret}, true},
		// Each body verifies only with its own signature: the raw bytes are
		// hashed, never a re-serialisation.
		{"khmer escaped with the raw body's signature", khmerEscaped, khmerRawSig, []string{testSecret}, false},
		{"khmer raw with the escaped body's signature", khmerRaw(), khmerEscapedSig, []string{testSecret}, false},
		{"rotation: second secret", messengerBody, messengerSig, []string{"old_secret", testSecret}, true},
		{"rotation: empty first secret skipped", messengerBody, messengerSig, []string{"", testSecret}, true},
		{"wrong secret", messengerBody, messengerSig, []string{"other_secret"}, false},
		{"no secret", messengerBody, messengerSig, nil, false},
		{"empty secret", "", meta.Sign(nil, ""), []string{""}, false},
		{"legacy sha1 header alone", messengerBody, messengerSHA1, []string{testSecret}, false},
		{"sha1 prefix on a sha256 value", messengerBody, "sha1=" + strings.TrimPrefix(messengerSig, "sha256="), []string{testSecret}, false},
		{"missing header", messengerBody, "", []string{testSecret}, false},
		{"prefix only", messengerBody, "sha256=", []string{testSecret}, false},
		{"no prefix", messengerBody, strings.TrimPrefix(messengerSig, "sha256="), []string{testSecret}, false},
		{"upper-case prefix", messengerBody, "SHA256=" + strings.TrimPrefix(messengerSig, "sha256="), []string{testSecret}, false},
		{"truncated", messengerBody, messengerSig[:len(messengerSig)-2], []string{testSecret}, false},
		{"extended", messengerBody, messengerSig + "00", []string{testSecret}, false},
		{"not hex", messengerBody, "sha256=" + strings.Repeat("zz", 32), []string{testSecret}, false},
		{"spaces", messengerBody, " " + messengerSig, []string{testSecret}, false},
		{"body changed", messengerBody + " ", messengerSig, []string{testSecret}, false},
		{"two values", messengerBody, messengerSig + "," + messengerSig, []string{testSecret}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := meta.VerifySignature([]byte(tc.body), tc.header, tc.secrets...); got != tc.want {
				t.Errorf("VerifySignature = %v; want %v", got, tc.want)
			}
		})
	}
}

func TestSign(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{messengerBody, messengerSig},
		{khmerEscaped, khmerEscapedSig},
		{khmerRaw(), khmerRawSig},
	} {
		if got := meta.Sign([]byte(tc.body), testSecret); got != tc.want {
			t.Errorf("Sign = %s; want %s", got, tc.want)
		}
	}
}

// meta-platform.md §2.9, VERIFIED vectors.
func TestAppSecretProof(t *testing.T) {
	for _, tc := range []struct{ secret, token, want string }{
		{"foo_app_secret", "foo_access_token", "12f5dcbb7557d24b1d37fd180c45991c5999f325ece0af331c00a85d762f2b95"},
		{"shhhhh!is.my.secret", "foo_token", "796ba0d8a6b339e476a7b166a9e8ac0a395f7de736dc37de5f2f4397f5854eb8"},
		{"1WDVGY78", "1234567890", "4894f81b47c53ccf240a1130d119db2c69833eac9be09adeebc8e7226fb73e73"},
		{"test_app_secret", "EAAB-test-page-token", "4db4f3d483a2a4be9b48f6a2df96de5a64c4774862d954593d12c1a5d3ba1e85"},
	} {
		if got := meta.AppSecretProof(tc.secret, tc.token); got != tc.want {
			t.Errorf("AppSecretProof(%q, %q) = %s; want %s", tc.secret, tc.token, got, tc.want)
		}
	}
}

// Security G-7: MACs are compared in constant time. The verification code
// calls hmac.Equal, and compares nothing else with == or != except against
// nil, literals and lengths, nor with bytes.Equal or string conversions.
func TestMACsComparedWithHMACEqual(t *testing.T) {
	for _, file := range []string{"signature.go", "signedrequest.go"} {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		hmacEqual := 0
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok {
					switch id.Name + "." + n.Sel.Name {
					case "hmac.Equal":
						hmacEqual++
					case "bytes.Equal", "bytes.Compare", "subtle.ConstantTimeCompare", "reflect.DeepEqual":
						t.Errorf("%s: %s.%s: compare MACs with hmac.Equal", fset.Position(n.Pos()), id.Name, n.Sel.Name)
					}
				}
			case *ast.BinaryExpr:
				if n.Op != token.EQL && n.Op != token.NEQ {
					return true
				}
				if !harmless(n.X) && !harmless(n.Y) {
					t.Errorf("%s: comparison with %s: compare MACs with hmac.Equal", fset.Position(n.Pos()), n.Op)
				}
			}
			return true
		})
		if hmacEqual == 0 {
			t.Errorf("%s never calls hmac.Equal", file)
		}
	}
}

// harmless operands cannot be a MAC: nil, literals, and lengths.
func harmless(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return true
	case *ast.Ident:
		return e.Name == "nil"
	case *ast.CallExpr:
		fn, ok := e.Fun.(*ast.Ident)
		return ok && fn.Name == "len"
	}
	return false
}
