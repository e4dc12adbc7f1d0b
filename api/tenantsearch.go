package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/directory"
)

// defaultSearchLimit is a picker's page when ?limit= is not given.
const defaultSearchLimit = 20

// searchTenants is the operators' tenant picker: GET
// /api/v1/tenant-search?q=<name, domain or id prefix>&limit=&offset=.
// It answers one bounded page, so typing "a" against 10,000 tenants costs
// one page, not the table.
func (s *Server) searchTenants(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := v.Get("q")
	if len(q) > maxListQuery {
		s.fail(w, r, badField("q", "is %d bytes; at most %d", len(q), maxListQuery))
		return
	}
	num := func(name string, def, lo, hi int) (int, bool) {
		raw := v.Get(name)
		if raw == "" {
			return def, true
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < lo || n > hi {
			s.fail(w, r, badField(name, "%q is not a number in %d..%d", raw, lo, hi))
			return 0, false
		}
		return n, true
	}
	limit, ok := num("limit", defaultSearchLimit, 1, directory.MaxSearchLimit)
	if !ok {
		return
	}
	offset, ok := num("offset", 0, 0, maxListOffset)
	if !ok {
		return
	}
	ms, more, err := s.opts.Directory.SearchTenants(r.Context(), q, limit, offset)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := client.TenantSearch{Tenants: make([]client.TenantMatch, 0, len(ms)), More: more}
	now := time.Now()
	for _, m := range ms {
		ds := m.Domains
		if ds == nil {
			ds = []string{}
		}
		out.Tenants = append(out.Tenants, client.TenantMatch{ID: m.ID, Name: m.Name, Effective: string(m.LicenseAt(now)), Domains: ds})
	}
	writeJSON(w, http.StatusOK, out)
}
