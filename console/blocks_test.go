package console_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/directory"
)

// The operators' blocks page lists every tenant's live blocks in pages of
// 50 with the total, sorted and searched by the API; a bad sort or state is
// a 400 naming it; a tenant admin gets no such page (404, as for every
// operator page) and never sees another tenant's name.
func TestConsoleBlocksPage(t *testing.T) {
	g := startGateway(t, "127.0.0.1:1")
	f := newFixture(t, g)
	ctx := context.Background()
	for i := range 55 {
		tn, err := g.Directory.CreateTenant(ctx, directory.By{}, fmt.Sprintf("blk-%02d", i), directory.Trial, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := g.Blocks.BlockTenant(ctx, blocks.Block{TenantID: tn.ID, Reason: blocks.ReasonOperator, Rule: "operator"}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	ops := newClient(t, baseURL(g))
	ops.signInHTTP(f.operator)
	get := func(c *client, path string, status int, want ...string) string {
		t.Helper()
		resp, page := c.get(path)
		page = html.UnescapeString(page)
		if resp.StatusCode != status {
			t.Fatalf("GET %s: %d, want %d:\n%.2000s", path, resp.StatusCode, status, page)
		}
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Errorf("GET %s lacks %q", path, w)
			}
		}
		return page
	}
	get(ops, "/console/unblock-requests", 200, `href="/console/blocks"`)
	page := get(ops, "/console/blocks?sort=tenant", 200, "1–50 of 55 blocks", "blk-00", "blk-49", `id="next-page"`, "live")
	if strings.Contains(page, "blk-50") {
		t.Error("page 1 holds row 51")
	}
	page = get(ops, "/console/blocks?sort=tenant&page=2", 200, "51–55 of 55 blocks", "blk-50", "blk-54", `id="prev-page"`)
	if strings.Contains(page, "blk-49") {
		t.Error("page 2 holds row 50")
	}
	page = get(ops, "/console/blocks?sort=tenant&order=desc", 200, "blk-54")
	if i, j := strings.Index(page, "blk-54"), strings.Index(page, "blk-53"); i < 0 || j < i {
		t.Error("descending order is not descending")
	}
	get(ops, "/console/blocks?q=blk-1", 200, "1–10 of 10 blocks matching “blk-1”")
	get(ops, "/console/blocks?state=released", 200, "0 blocks", "No released blocks.")
	get(ops, "/console/blocks?sort=colour", 400, `sort: "colour" is not one of`)
	get(ops, "/console/blocks?state=frozen", 400, `state: "frozen" is not live, released or all`)

	admin := newClient(t, baseURL(g))
	admin.signInHTTP(f.alphaAdmin)
	if resp, page := admin.get("/console/blocks"); resp.StatusCode != http.StatusNotFound || strings.Contains(page, "blk-0") {
		t.Errorf("a tenant admin's GET /console/blocks: %d", resp.StatusCode)
	}
}
