package api

import (
	"fmt"
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
	t, ok := s.tenant(w, r)
	if !ok {
		return
	}
	var req struct {
		Mode string `json:"mode"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	mode := directory.SenderBinding(req.Mode)
	if !mode.Valid() {
		s.fail(w, r, badField("mode", "%q is not %q or %q", req.Mode, directory.BindingOff, directory.BindingLogin))
		return
	}
	before, after, err := s.opts.Directory.SetSenderBinding(r.Context(), t.ID, mode)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if before.SenderBinding != after.SenderBinding {
		s.record(r, t.ID, "tenant.sender_binding", fmt.Sprintf("tenant:%d", t.ID),
			map[string]string{"sender_binding": string(before.SenderBinding)}, map[string]string{"sender_binding": string(after.SenderBinding)})
	}
	writeJSON(w, http.StatusOK, toTenant(after))
}

func (s *Server) listAliases(w http.ResponseWriter, r *http.Request) {
	t, u, ok := s.user(w, r)
	if !ok {
		return
	}
	as, err := s.opts.Directory.Aliases(r.Context(), t.ID, u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeList(w, "aliases", as, toAlias)
}

func (s *Server) addAlias(w http.ResponseWriter, r *http.Request) {
	t, u, ok := s.user(w, r)
	if !ok {
		return
	}
	var req struct {
		Address string `json:"address"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.opts.Directory.AddAlias(r.Context(), t.ID, u.ID, req.Address, principalOf(r.Context()).Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, t.ID, "user.alias.add", fmt.Sprintf("user:%d/alias:%d", u.ID, a.ID), nil, toAlias(a))
	writeJSON(w, http.StatusCreated, toAlias(a))
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
	a, err := s.opts.Directory.RemoveAlias(r.Context(), t.ID, u.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, t.ID, "user.alias.remove", fmt.Sprintf("user:%d/alias:%d", u.ID, id), toAlias(a), nil)
	w.WriteHeader(http.StatusNoContent)
}
