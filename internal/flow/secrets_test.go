package flow_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/flow"
)

// A secret header left empty keeps its stored value only in the same node,
// under the same name, calling the same origin: whoever changes where a
// node calls must enter the secret again.
func TestKeepSecrets(t *testing.T) {
	node := func(id, url string, hs ...flow.Header) flow.Node {
		return flow.Node{ID: id, Body: &flow.HTTPNode{Method: "GET", URL: url, Headers: hs}}
	}
	secret := func(name, value string) flow.Header { return flow.Header{Name: name, Value: value, Secret: true} }
	prev := flow.Document{Nodes: []flow.Node{
		node("a", "https://api.example.com/v1/{{contact.field.id}}", secret("Authorization", "Bearer old"), flow.Header{Name: "X-Plain", Value: "p"}),
		node("b", "https://other.example/x", secret("X-Key", "k")),
		{ID: "m", Body: &flow.MessageNode{Text: "hi"}},
	}}
	for _, tc := range []struct {
		name string
		doc  flow.Document
		want []string // the secret values of the first node, in order
	}{
		{"kept", flow.Document{Nodes: []flow.Node{node("a", "https://api.example.com/v2", secret("Authorization", ""))}}, []string{"Bearer old"}},
		{"kept, name in another case", flow.Document{Nodes: []flow.Node{node("a", "https://API.example.com/", secret("authorization", ""))}}, []string{"Bearer old"}},
		{"replaced", flow.Document{Nodes: []flow.Node{node("a", "https://api.example.com/", secret("Authorization", "Bearer new"))}}, []string{"Bearer new"}},
		{"another host", flow.Document{Nodes: []flow.Node{node("a", "https://evil.example/", secret("Authorization", ""))}}, []string{""}},
		{"another scheme", flow.Document{Nodes: []flow.Node{node("a", "http://api.example.com/", secret("Authorization", ""))}}, []string{""}},
		{"another port", flow.Document{Nodes: []flow.Node{node("a", "https://api.example.com:8443/", secret("Authorization", ""))}}, []string{""}},
		{"another node", flow.Document{Nodes: []flow.Node{node("c", "https://api.example.com/", secret("Authorization", ""))}}, []string{""}},
		{"another header", flow.Document{Nodes: []flow.Node{node("a", "https://api.example.com/", secret("X-Other", ""))}}, []string{""}},
		{"not secret any more", flow.Document{Nodes: []flow.Node{node("a", "https://api.example.com/", flow.Header{Name: "Authorization"})}}, []string{""}},
		{"a plain header never becomes a secret", flow.Document{Nodes: []flow.Node{node("a", "https://api.example.com/", secret("X-Plain", ""))}}, []string{""}},
		{"unparsable URL", flow.Document{Nodes: []flow.Node{node("a", "://", secret("Authorization", ""))}}, []string{""}},
		{"node b's secret stays in b", flow.Document{Nodes: []flow.Node{node("a", "https://other.example/", secret("X-Key", ""))}}, []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.doc.Nodes[0].Body.(*flow.HTTPNode).Headers[0].Value
			got := flow.KeepSecrets(tc.doc, prev)
			var vals []string
			for _, h := range got.Nodes[0].Body.(*flow.HTTPNode).Headers {
				vals = append(vals, h.Value)
			}
			if diff := cmp.Diff(tc.want, vals); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
			if after := tc.doc.Nodes[0].Body.(*flow.HTTPNode).Headers[0].Value; after != before {
				t.Error("KeepSecrets changed its argument")
			}
		})
	}
	// A document without secrets to fill is returned as it is.
	plain := flow.Document{Nodes: []flow.Node{{ID: "m", Body: &flow.MessageNode{Text: "hi"}}}}
	if got := flow.KeepSecrets(plain, prev); &got.Nodes[0] != &plain.Nodes[0] {
		t.Error("a document with nothing to fill was copied")
	}
}
