package directory

import (
	"fmt"
	"strings"
	"testing"
)

func TestSearchTenants(t *testing.T) { forEachDir(t, testSearchTenants) }

// A prefix finds tenants by name or accepted domain, case-insensitively;
// LIKE's wildcards in the query match only themselves; pages do not
// overlap and say when there are more; bad bounds are refused.
func testSearchTenants(t *testing.T, d *Directory) {
	ctx := t.Context()
	acme := tenantWithDomain(t, d, "Acme Corp", "widgets.test")
	tenantWithDomain(t, d, "acme-labs", "labs.test")
	other := tenantWithDomain(t, d, "Globex", "acme-mail.test")
	tenantWithDomain(t, d, "under_score", "u.test")
	tenantWithDomain(t, d, "underXscore", "x.test")

	names := func(ms []TenantMatch) string {
		var s []string
		for _, m := range ms {
			s = append(s, m.Name+fmt.Sprint(m.Domains))
		}
		return strings.Join(s, ",")
	}
	got, more, err := d.SearchTenants(ctx, "ACME", 10, 0)
	if err != nil || more {
		t.Fatal(err, more)
	}
	// Globex matches by its domain, and says which.
	if n := names(got); n != "Acme Corp[],acme-labs[],Globex[acme-mail.test]" {
		t.Fatalf("search acme: %s", n)
	}
	if got, _, _ = d.SearchTenants(ctx, "widg", 10, 0); len(got) != 1 || got[0].ID != acme.ID || got[0].Domains[0] != "widgets.test" {
		t.Fatalf("search by domain: %+v", got)
	}
	if got, _, _ = d.SearchTenants(ctx, fmt.Sprint(other.ID), 10, 0); len(got) != 1 || got[0].ID != other.ID {
		t.Fatalf("search by id %d: %+v", other.ID, got)
	}
	if got, _, _ = d.SearchTenants(ctx, "under_", 10, 0); names(got) != "under_score[]" {
		t.Fatalf("'_' matched more than itself: %s", names(got))
	}
	if got, _, _ = d.SearchTenants(ctx, "%", 10, 0); len(got) != 0 {
		t.Fatalf("'%%' matched: %s", names(got))
	}
	if got, _, _ = d.SearchTenants(ctx, "zzz", 10, 0); len(got) != 0 {
		t.Fatalf("zzz matched: %s", names(got))
	}
	// Paging: two pages of two and one of one, in order, none repeated.
	var all []string
	for off := 0; ; off += 2 {
		page, more, err := d.SearchTenants(ctx, "", 2, off)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, names(page))
		if !more {
			break
		}
	}
	if j := strings.Join(all, "|"); j != "Acme Corp[],acme-labs[]|Globex[],under_score[]|underXscore[]" {
		t.Fatalf("pages: %s", j)
	}
	for _, c := range []struct{ limit, offset int }{{0, 0}, {MaxSearchLimit + 1, 0}, {10, -1}} {
		_, _, err := d.SearchTenants(ctx, "a", c.limit, c.offset)
		wantErr(t, err, ErrInvalid, "search tenants")
	}
}
