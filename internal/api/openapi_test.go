package api_test

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/api"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// The OpenAPI document lists exactly the routes the server has, each with
// the access policy the server enforces.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Access string `json:"x-parley-access"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	var documented, served []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path+" "+op.Access)
		}
	}
	a := apptest.New(t, dbtest.SQLite(t))
	for _, rt := range a.API.Routes() {
		if rt.Pattern == "/api/v1/openapi.json" {
			continue
		}
		served = append(served, rt.Method+" "+rt.Pattern+" "+rt.Policy.String())
	}
	sort.Strings(documented)
	sort.Strings(served)
	if diff := cmp.Diff(served, documented); diff != "" {
		t.Errorf("openapi.json and the route table differ (-served +documented):\n%s", diff)
	}
	res := a.Client(t).Do("GET", "/api/v1/openapi.json", nil).Must(t, 200)
	if string(res.Body) != string(api.OpenAPI()) {
		t.Error("served document differs from the embedded one")
	}
}

// The preview's and the statistics' answers are what openapi.json says:
// every member they hold is documented (an undocumented one fails), the
// required ones are there, and values have the documented types and
// enums. The simulated flow produces every kind of transcript line (the
// flow's messages, the contact's, the preview's notes, a message of
// another flow reached by goto_flow), actions and problems.
func TestSimulateAndStatsMatchOpenAPI(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	a := apptest.New(t, dbtest.SQLite(t))
	owner := a.SignUp(t, "openapi-sim")
	ws := owner.CreateWorkspace(t, "Shapes")
	base := "/api/v1/workspaces/" + ws + "/flows"
	var target, main struct{ Flow struct{ ID string } }
	owner.Do("POST", base, `{"format":1,"name":"Target","start":"t","nodes":[{"id":"t","type":"message","text":"In the other flow."}]}`).
		Must(t, 201).JSON(t, &target)
	owner.Do("POST", base+"/"+target.Flow.ID+"/publish", nil).Must(t, 200)
	owner.Do("POST", base, `{"format":1,"name":"Main","start":"a","nodes":[
		{"id":"a","type":"question","text":"Hello {{contact.first_name}}, a number?","answer":"number","var":"n","next":"b"},
		{"id":"b","type":"delay","duration":"2h","next":"c"},
		{"id":"c","type":"action","actions":[{"type":"add_tag","tag":"vip"}],"next":"d"},
		{"id":"d","type":"http","method":"GET","url":"http://169.254.169.254/","next":"e","failure_next":"e"},
		{"id":"e","type":"goto_flow","flow":"`+target.Flow.ID+`"}]}`).Must(t, 201).JSON(t, &main)
	owner.Do("POST", base+"/"+main.Flow.ID+"/publish", nil).Must(t, 200)

	var sim any
	owner.Do("POST", base+"/"+main.Flow.ID+"/simulate", map[string]any{
		"contact": map[string]any{"first_name": "Dara"}, "inputs": []map[string]string{{"text": "42"}, {"text": "more?"}},
	}).Must(t, 200).JSON(t, &sim)
	seen := conforms(t, doc, "#/components/schemas/SimResult", sim, "simulate")
	for _, want := range []string{"from=bot", "from=contact", "from=note", "transcript.flow_id", "actions.node_id", "problems.node_id"} {
		if !seen[want] {
			t.Errorf("the simulation never produced %s: the test no longer covers it", want)
		}
	}
	for _, v := range []string{"", "?version=1"} {
		var stats any
		owner.Do("GET", base+"/"+main.Flow.ID+"/stats"+v, nil).Must(t, 200).JSON(t, &stats)
		conforms(t, doc, "#/components/schemas/FlowStats", stats, "stats"+v)
	}
	var draft struct{ Flow struct{ ID string } }
	owner.Do("POST", base, `{"format":1,"name":"Draft","start":"x","nodes":[{"id":"x","type":"end"}]}`).Must(t, 201).JSON(t, &draft)
	var never any
	owner.Do("GET", base+"/"+draft.Flow.ID+"/stats", nil).Must(t, 200).JSON(t, &never)
	if m, _ := never.(map[string]any); m == nil || m["version"] != nil {
		t.Fatalf("stats of a flow never published: %v", never)
	}
	conforms(t, doc, "#/components/schemas/FlowStats", never, "stats of a draft")
}

// conforms checks v against the schema ref names in doc (the subset of
// JSON Schema openapi.json uses: $ref, allOf, type, enum, properties,
// required, items, additionalProperties) and returns what it saw: "from=…"
// for each transcript sender and "parent.member" for each member.
func conforms(t *testing.T, doc map[string]any, ref string, v any, at string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	var check func(s map[string]any, v any, at, parent string)
	resolve := func(s map[string]any) map[string]any {
		for {
			r, ok := s["$ref"].(string)
			if !ok {
				return s
			}
			node := any(doc)
			for _, part := range strings.Split(strings.TrimPrefix(r, "#/"), "/") {
				node = node.(map[string]any)[part]
			}
			s = node.(map[string]any)
		}
	}
	check = func(s map[string]any, v any, at, parent string) {
		s = resolve(s)
		for _, sub := range asList(s["allOf"]) {
			check(sub.(map[string]any), v, at, parent)
		}
		if types := asList(s["type"]); len(types) > 0 || s["type"] != nil {
			if len(types) == 0 {
				types = []any{s["type"]}
			}
			ok := false
			for _, ty := range types {
				ok = ok || jsonType(v, ty.(string))
			}
			if !ok {
				t.Errorf("%s: %v is not of type %v", at, v, s["type"])
				return
			}
		}
		if enum := asList(s["enum"]); len(enum) > 0 {
			found := false
			for _, e := range enum {
				found = found || e == v
			}
			if !found {
				t.Errorf("%s: %v is not one of %v", at, v, enum)
			}
		}
		switch v := v.(type) {
		case map[string]any:
			props, _ := s["properties"].(map[string]any)
			for _, r := range asList(s["required"]) {
				if _, ok := v[r.(string)]; !ok {
					t.Errorf("%s: required %q is missing", at, r)
				}
			}
			extra, _ := s["additionalProperties"].(map[string]any)
			for k, val := range v {
				seen[parent+"."+k] = true
				if k == "from" {
					seen["from="+val.(string)] = true
				}
				switch {
				case props[k] != nil:
					check(props[k].(map[string]any), val, at+"."+k, k)
				case extra != nil:
					check(extra, val, at+"."+k, parent)
				case props != nil || s["allOf"] == nil:
					if !hasAllOfProperty(s, k, resolve) {
						t.Errorf("%s: %q is not documented", at, k)
					}
				}
			}
		case []any:
			if items, ok := s["items"].(map[string]any); ok {
				for i, e := range v {
					check(items, e, at+"["+strconv.Itoa(i)+"]", parent)
				}
			}
		}
	}
	check(map[string]any{"$ref": ref}, v, at, "")
	return seen
}

// hasAllOfProperty reports whether one of s's allOf schemas documents k.
func hasAllOfProperty(s map[string]any, k string, resolve func(map[string]any) map[string]any) bool {
	for _, sub := range asList(s["allOf"]) {
		if props, _ := resolve(sub.(map[string]any))["properties"].(map[string]any); props[k] != nil {
			return true
		}
	}
	return false
}

func asList(v any) []any { l, _ := v.([]any); return l }

// jsonType reports whether v (decoded JSON) is of the JSON Schema type ty.
func jsonType(v any, ty string) bool {
	switch ty {
	case "null":
		return v == nil
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	}
	return false
}
