package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/dkim"
)

func toDKIMKey(k dkim.Key) client.DKIMKey {
	j := client.DKIMKey{Selector: k.Selector, Algorithm: k.Algorithm, Generation: k.Generation, State: k.State, Origin: k.Origin,
		Name: k.RecordName(), Value: k.RecordValue(), Record: k.DNSRecord(), CreatedAt: k.CreatedAt}
	if !k.ActiveAt.IsZero() {
		j.ActiveAt = &k.ActiveAt
	}
	if !k.RetiredAt.IsZero() {
		j.RetiredAt = &k.RetiredAt
	}
	return j
}

func dkimList(keys []dkim.Key) []client.DKIMKey {
	out := []client.DKIMKey{}
	for _, k := range keys {
		out = append(out, toDKIMKey(k))
	}
	return out
}

// withDKIM adds a domain's DKIM records to its resource.
func (s *Server) withDKIM(r *http.Request, d directory.Domain) client.Domain {
	j := toDomain(d)
	if s.opts.DKIM == nil {
		return j
	}
	keys, err := s.opts.DKIM.Keys(r.Context(), d.TenantID, d.Name)
	if err != nil {
		s.opts.Logger.Warn("DKIM keys of a domain", "domain", d.Name, "err", err)
		return j
	}
	l := dkimList(keys)
	j.DKIM = &l
	return j
}

// dkimDomain finds the tenant's domain named in the path, which must be
// verified: keys are only for domains the tenant has proved it owns.
func (s *Server) dkimDomain(w http.ResponseWriter, r *http.Request) (directory.Domain, bool) {
	t, ok := s.tenant(w, r)
	if !ok {
		return directory.Domain{}, false
	}
	if s.opts.DKIM == nil {
		s.fail(w, r, &apiError{Status: http.StatusConflict, Code: "dkim_off", Message: "DKIM signing is off on this gateway ([dkim] enabled = false)"})
		return directory.Domain{}, false
	}
	name := r.PathValue("domain")
	doms, err := s.opts.Directory.Domains(r.Context(), t.ID)
	if err != nil {
		s.fail(w, r, err)
		return directory.Domain{}, false
	}
	for _, d := range doms {
		if d.Name == strings.ToLower(strings.TrimSuffix(name, ".")) {
			if !d.Verified {
				s.fail(w, r, &apiError{Status: http.StatusConflict, Code: "not_verified",
					Message: fmt.Sprintf("domain %q is not verified yet: verify it first (its TXT record), then it gets DKIM keys", d.Name)})
				return directory.Domain{}, false
			}
			return d, true
		}
	}
	s.fail(w, r, fmt.Errorf("domain %q of tenant %d: %w", name, t.ID, directory.ErrNotFound))
	return directory.Domain{}, false
}

func (s *Server) dkimFail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, dkim.ErrPending):
		s.fail(w, r, &apiError{Status: http.StatusConflict, Code: "dkim_pending", Message: err.Error()})
	case errors.Is(err, dkim.ErrInvalid):
		s.fail(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid", Message: err.Error()})
	case errors.Is(err, dkim.ErrNoKeys):
		s.fail(w, r, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: err.Error()})
	case errors.Is(err, dkim.ErrLookup):
		s.fail(w, r, &apiError{Status: http.StatusServiceUnavailable, Code: "dns_lookup_failed", Message: err.Error()})
	default:
		s.fail(w, r, err)
	}
}

func (s *Server) listDKIM(w http.ResponseWriter, r *http.Request) {
	d, ok := s.dkimDomain(w, r)
	if !ok {
		return
	}
	keys, err := s.opts.DKIM.Keys(r.Context(), d.TenantID, d.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": dkimList(keys)})
}

// ensureDKIM gives an already verified domain its keys on demand.
func (s *Server) ensureDKIM(w http.ResponseWriter, r *http.Request) {
	d, ok := s.dkimDomain(w, r)
	if !ok {
		return
	}
	keys, created, err := s.opts.DKIM.Ensure(r.Context(), d.TenantID, d.Name, principalOf(r.Context()).Name)
	if err != nil {
		s.dkimFail(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]any{"keys": dkimList(keys)})
}

func (s *Server) checkDKIM(w http.ResponseWriter, r *http.Request) {
	d, ok := s.dkimDomain(w, r)
	if !ok {
		return
	}
	res, err := s.opts.DKIM.Check(r.Context(), d.TenantID, d.Name, s.opts.DKIMResolver, principalOf(r.Context()).Name)
	if err != nil {
		s.dkimFail(w, r, err)
		return
	}
	out := []client.DKIMKey{}
	for _, st := range res.Keys {
		j := toDKIMKey(st.Key)
		pub := st.Published
		j.Published, j.Detail = &pub, st.Detail
		out = append(out, j)
	}
	keys, err := s.opts.DKIM.Keys(r.Context(), d.TenantID, d.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"checked": out, "activated": res.Activated, "keys": dkimList(keys)})
}

func (s *Server) rotateDKIM(w http.ResponseWriter, r *http.Request) {
	d, ok := s.dkimDomain(w, r)
	if !ok {
		return
	}
	keys, err := s.opts.DKIM.Rotate(r.Context(), d.TenantID, d.Name, principalOf(r.Context()).Name)
	if err != nil {
		s.dkimFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"keys": dkimList(keys)})
}

// uploadDKIM takes a tenant's own private key (PEM) as a new generation.
func (s *Server) uploadDKIM(w http.ResponseWriter, r *http.Request) {
	d, ok := s.dkimDomain(w, r)
	if !ok {
		return
	}
	var req struct {
		PEM      string `json:"pem"`
		Selector string `json:"selector"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.PEM == "" {
		s.fail(w, r, badField("pem", "is required: the private key in PEM (PKCS#8 or PKCS#1)"))
		return
	}
	k, err := s.opts.DKIM.Upload(r.Context(), d.TenantID, d.Name, req.PEM, req.Selector, principalOf(r.Context()).Name)
	if err != nil {
		s.dkimFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toDKIMKey(k))
}
