package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/directory"
)

// The sender binding and user aliases: a tenant admin ties its SMTP AUTH
// users to their own address and lists the other addresses each may send
// as (550 5.7.60 otherwise). Every change is audited.

func toAlias(a directory.Alias) client.Alias {
	return client.Alias{ID: a.ID, Address: a.Address, CreatedBy: a.CreatedBy, CreatedAt: a.CreatedAt}
}

// setSenderBinding sets the tenant's sender binding ("off" or "login").
func (s *Server) setSenderBinding(w http.ResponseWriter, r *http.Request) {
	type binding struct {
		Mode string `json:"mode"`
	}
	applyInTenant(s, w, r, http.StatusOK, func(t directory.Tenant, req binding) (directory.Tenant, error) {
		mode := directory.SenderBinding(req.Mode)
		if !mode.Valid() {
			return t, badField("mode", "%q is not %q or %q", req.Mode, directory.BindingOff, directory.BindingLogin)
		}
		_, after, err := s.opts.Directory.SetSenderBinding(r.Context(), s.by(r), t.ID, mode)
		return after, err
	}, toTenant)
}

func (s *Server) listAliases(w http.ResponseWriter, r *http.Request) {
	listOfUser(s, w, r, "aliases", func(ctx context.Context, t directory.Tenant, u directory.User) ([]directory.Alias, error) {
		return s.opts.Directory.Aliases(ctx, t.ID, u.ID)
	}, toAlias)
}

func (s *Server) addAlias(w http.ResponseWriter, r *http.Request) {
	t, u, ok := s.user(w, r)
	if !ok {
		return
	}
	type aliasAdd struct {
		Address string `json:"address"`
	}
	apply(s, w, r, http.StatusCreated, func(req aliasAdd) (directory.Alias, error) {
		return s.opts.Directory.AddAlias(r.Context(), s.by(r), t.ID, u.ID, req.Address)
	}, toAlias)
}

func (s *Server) removeAlias(w http.ResponseWriter, r *http.Request) {
	t, u, ok := s.user(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("alias"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, r, badField("alias", "%q is not an alias id", r.PathValue("alias")))
		return
	}
	_, err = s.opts.Directory.RemoveAlias(r.Context(), s.by(r), t.ID, u.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
