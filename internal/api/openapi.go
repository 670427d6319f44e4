package api

import (
	_ "embed"
	"net/http"
)

// openAPI documents every route of Routes; TestOpenAPIMatchesRoutes keeps
// the two in step, including each operation's access policy.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the API's OpenAPI 3.1 document.
func OpenAPI() []byte { return openAPI }

func (a *API) openAPIDoc(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err := w.Write(openAPI)
	return err
}
