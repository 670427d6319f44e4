package api_test

import (
	"encoding/json"
	"sort"
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
