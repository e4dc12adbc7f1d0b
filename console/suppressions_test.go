package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// The suppressions page lists and searches the tenant's entries, removes
// one, and shows nothing of another tenant's.
func TestConsoleSuppressions(t *testing.T) {
	g := startGateway(t, "127.0.0.1:1")
	f := newFixture(t, g)
	ctx := context.Background()
	for _, a := range []string{"gone@example.net", "left@example.org"} {
		if _, _, err := g.Suppress.Add(ctx, f.beta.ID, a, "hard-bounce", "550 5.1.1 no such user", "system"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := g.Suppress.Add(ctx, f.alpha.ID, "alphas@example.com", "complaint", "", "system"); err != nil {
		t.Fatal(err)
	}
	admin := newClient(t, baseURL(g))
	admin.signInHTTP(f.betaAdmin)
	page := "/console/t/" + strconv.FormatInt(f.beta.ID, 10) + "/suppressions"
	_, body := admin.get(page)
	if !strings.Contains(body, "gone@example.net") || !strings.Contains(body, "550 5.1.1 no such user") || strings.Contains(body, "alphas@example.com") {
		t.Fatalf("suppressions page:\n%.3000s", body)
	}
	if _, body := admin.get(page + "?search=example.org"); strings.Contains(body, "gone@example.net") || !strings.Contains(body, "left@example.org") {
		t.Fatalf("search:\n%.3000s", body)
	}
	resp, _ := admin.post(page+"/remove", url.Values{"csrf": {csrfOf(t, body)}, "address": {"gone@example.net"}}, admin.base)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	if _, ok, _ := g.Suppress.Find(ctx, f.beta.ID, "gone@example.net"); ok {
		t.Fatal("still suppressed after removal")
	}
	if _, body := admin.get(page); !strings.Contains(body, "off the suppression list") {
		t.Fatalf("no confirmation:\n%.3000s", body)
	}
}
