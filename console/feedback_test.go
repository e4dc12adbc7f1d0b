package console_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
)

// The tenant's overview shows its delivery feedback beside its sending
// state: the complaints matched to it, and only its own.
func TestConsoleShowsComplaints(t *testing.T) {
	g := startGateway(t, "127.0.0.1:1")
	f := newFixture(t, g)
	ctx := context.Background()
	for range 3 {
		if err := g.Feedback.AddComplaint(ctx, f.alpha.ID); err != nil {
			t.Fatal(err)
		}
	}
	overview := func(a account, id int64) string {
		c := newClient(t, baseURL(g))
		c.signInHTTP(a)
		_, page := c.get("/console/t/" + strconv.FormatInt(id, 10) + "/")
		return page
	}
	page := overview(f.alphaAdmin, f.alpha.ID)
	if !strings.Contains(page, `id="feedback"`) || !strings.Contains(page, "<strong>3</strong> complaints") {
		t.Fatalf("alpha's overview does not show its 3 complaints:\n%.3000s", page)
	}
	if page := overview(f.betaAdmin, f.beta.ID); !strings.Contains(page, "<strong>0</strong> complaints") {
		t.Fatalf("beta's overview does not show its own 0 complaints:\n%.3000s", page)
	}
}
