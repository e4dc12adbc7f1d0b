package console

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/client"
)

// blocksPath is the operators' page of every tenant's blocks.
const blocksPath = Prefix + "blocks"

// blockSorts are the blocks page's sorts (the API's keys).
var blockSorts = []listSort{{"created", "Since"}, {"tenant", "Tenant"}, {"reason", "Reason"}, {"released", "Lifted"}}

// blocksData is what blocks.html draws.
type blocksData struct {
	Rows   []client.Block
	State  string
	States []string
	List   listView
}

// blocksPage lists every tenant's blocks (live by default), searched,
// sorted and paged by GET /api/v1/blocks, so an operator of 10,000 tenants
// sees what is stopped now without opening each tenant.
func (c *Console) blocksPage(q *req) error {
	st := q.r.URL.Query().Get("state")
	switch st {
	case "":
		st = blocks.StateLive
	case blocks.StateLive, blocks.StateReleased, "all":
	default:
		return &apiError{Status: http.StatusBadRequest, Code: "invalid", Message: fmt.Sprintf("state: %q is not live, released or all", st)}
	}
	rows, lv, err := listPage[client.Block](q, "/api/v1/blocks?state="+st, "blocks", "blocks",
		blockSorts, "created", url.Values{"state": {st}})
	if err != nil {
		return err
	}
	return q.render(http.StatusOK, "blocks.html", "Blocks", "blocks",
		blocksData{rows, st, []string{blocks.StateLive, blocks.StateReleased, "all"}, lv})
}
