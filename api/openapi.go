package api

import (
	_ "embed"
	"net/http"
)

// openAPI describes every /api/v1 route; TestOpenAPIMatchesRoutes keeps it
// and the route table in step.
//
//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPI)
}
