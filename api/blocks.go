package api

import (
	"net/http"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/client"
)

// listAllBlocks is the operators' blocks across every tenant: GET
// /api/v1/blocks?state=live|released|all (live by default: what is stopped
// now) with the tenant lists' q, sort, order, limit and offset and the
// total, so an operator of 10,000 tenants pages through them rather than
// opening each tenant.
func (s *Server) listAllBlocks(w http.ResponseWriter, r *http.Request) {
	if !s.protection(w, r) {
		return
	}
	state := r.URL.Query().Get("state")
	switch state {
	case "":
		state = blocks.StateLive
	case "all":
		state = blocks.StateAll
	case blocks.StateLive, blocks.StateReleased:
	default:
		s.fail(w, r, badField("state", "%q is not live, released or all", state))
		return
	}
	bs, err := s.opts.Blocks.AllBlocks(r.Context(), state)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The tenants' names, for the rows and for q: one read of the tenant
	// table rather than one per block.
	names := map[int64]string{}
	if len(bs) > 0 {
		ts, err := s.opts.Directory.Tenants(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, t := range ts {
			names[t.ID] = t.Name
		}
	}
	pageList(s, w, r, "blocks", bs, nil, func(b blocks.Block) client.Block {
		j := toBlock(b)
		j.Tenant = names[b.TenantID]
		return j
	}, blockList)
}
