package web

import "testing"

// An island's page loads the built bundle when `make islands` has run, and
// otherwise the committed placeholder, so a checkout without Node still
// builds and serves every page; a stylesheet only the real bundle has is
// left out.
func TestIslandFallsBackToItsPlaceholder(t *testing.T) {
	a := &assets{files: map[string]asset{"islands/placeholder/flow-editor.js": {hash: "aaaaaaaaaaaa"}}}
	if got, want := a.island("flow-editor.js"), "/static/islands/placeholder/flow-editor.js?v=aaaaaaaaaaaa"; got != want {
		t.Errorf("without a build: island = %q, want %q", got, want)
	}
	if got := a.island("flow-editor.css"); got != "" {
		t.Errorf("a stylesheet with neither build nor placeholder: island = %q, want none", got)
	}
	a.files["islands/build/flow-editor.js"] = asset{hash: "bbbbbbbbbbbb"}
	if got, want := a.island("flow-editor.js"), "/static/islands/build/flow-editor.js?v=bbbbbbbbbbbb"; got != want {
		t.Errorf("with a build: island = %q, want %q", got, want)
	}
	if _, ok := loadAssets().files["islands/placeholder/flow-editor.js"]; !ok {
		t.Error("the flow editor's placeholder is not embedded")
	}
}
