package main

import (
	"flag"
	"fmt"
	"net/url"
)

// `tollgate admin blocks list`: every tenant's blocks for an operator, the
// API's GET /api/v1/blocks, live ones by default: which tenants are stopped
// now, and why, without opening each.
func init() {
	adminCommands = append(adminCommands,
		adminCommand{"blocks list", "", "list every tenant's blocks, live by default, with the tenant, reason and figures (operators)", func(fs *flag.FlagSet) any {
			return &blocksOpts{state: fs.String("state", "live", "live, released or all"), search: addListSearch(fs, blockSorts...)}
		}, (*adminClient).allBlocks},
	)
}

// blockSorts are the sort keys of both blocks lists (the API checks them).
var blockSorts = []string{"created", "tenant", "reason", "released"}

type blocksOpts struct {
	state  *string
	search *listSearch
}

func (c *adminClient) allBlocks(o any, args []string) error {
	opts := o.(*blocksOpts)
	if len(args) > 0 {
		return fmt.Errorf("unexpected argument %q (use --q to search)", args[0])
	}
	switch *opts.state {
	case "live", "released", "all":
	default:
		return fmt.Errorf("--state %q: give live, released or all", *opts.state)
	}
	var r struct {
		Blocks []blockRow
		Total  int
	}
	if err := c.get("/api/v1/blocks"+opts.search.query(url.Values{"state": {*opts.state}}), &r); err != nil {
		return operatorOnly(err)
	}
	tw := c.table("ID\tTENANT\tSINCE\tREASON\tRULE\tSTATE\tFIGURES")
	for _, b := range r.Blocks {
		fmt.Fprintf(tw, "%d\t%d %s\t%s\t%s\t%s\t%s\t%s\n", b.ID, b.TenantID, b.Tenant, when(b.CreatedAt), b.Reason, b.Rule, blockState(b), figures(b.Figures))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if opts.search.footer(c, len(r.Blocks), r.Total, "blocks"); !c.json && *opts.search.q == "" && *opts.search.limit == 0 && *opts.search.offset == 0 {
		fmt.Fprintf(c.out, "%d %s block(s)\n", r.Total, *opts.state)
	}
	return nil
}

// blockState is a block's state column: live, or when and by whom it was
// released, and on what probation.
func blockState(b blockRow) string {
	if b.ReleasedAt.IsZero() {
		return "live"
	}
	return fmt.Sprintf("released %s by %s (probation %d/day, %d days)", when(b.ReleasedAt), b.ReleasedBy, b.ProbationQuota, b.ProbationDays)
}
