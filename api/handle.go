package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/tollgate-mail/tollgate/directory"
)

// The shapes most handlers share, written once: a tenant's list, a body
// decoded and applied, an id taken from the path. Go methods cannot take
// type parameters, so these are functions of the server.

// listOfTenant answers GET on a list the tenant {tenant} holds.
func listOfTenant[T, J any](s *Server, w http.ResponseWriter, r *http.Request, key string,
	load func(ctx context.Context, tenantID int64) ([]T, error), conv func(T) J) {
	t, ok := s.tenant(w, r)
	if !ok {
		return
	}
	items, err := load(r.Context(), t.ID)
	listOrFail(s, w, r, key, items, err, conv)
}

// listOfUser answers GET on a list the user {user} of {tenant} holds.
func listOfUser[T, J any](s *Server, w http.ResponseWriter, r *http.Request, key string,
	load func(ctx context.Context, t directory.Tenant, u directory.User) ([]T, error), conv func(T) J) {
	t, u, ok := s.user(w, r)
	if !ok {
		return
	}
	items, err := load(r.Context(), t, u)
	listOrFail(s, w, r, key, items, err, conv)
}

// listOrFail answers the list items, or err if a list could not be had.
func listOrFail[T, J any](s *Server, w http.ResponseWriter, r *http.Request, key string, items []T, err error, conv func(T) J) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeList(w, key, items, conv)
}

// apply decodes the request body into a Req, hands it to do and answers
// with status and the wire form of what do returns.
func apply[Req, T, J any](s *Server, w http.ResponseWriter, r *http.Request, status int,
	do func(req Req) (T, error), conv func(T) J) {
	var req Req
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := do(req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, status, conv(v))
}

// applyInTenant is apply for a change within the tenant {tenant}.
func applyInTenant[Req, T, J any](s *Server, w http.ResponseWriter, r *http.Request, status int,
	do func(t directory.Tenant, req Req) (T, error), conv func(T) J) {
	t, ok := s.tenant(w, r)
	if !ok {
		return
	}
	apply(s, w, r, status, func(req Req) (T, error) { return do(t, req) }, conv)
}

// pathID reads the path value key as an id; what names it in the error
// ("a connector id").
func pathID(r *http.Request, key, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(key), 10, 64)
	if err != nil {
		return 0, badField(key, "%q is not %s", r.PathValue(key), what)
	}
	return id, nil
}
