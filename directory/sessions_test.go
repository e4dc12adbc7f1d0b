package directory

import (
	"testing"
	"time"
)

func TestSignInSessions(t *testing.T) { forEachDir(t, testSignInSessions) }

func testSignInSessions(t *testing.T, d *Directory) {
	ctx := t.Context()
	tn := must[Tenant](t)(d.CreateTenant(ctx, By{}, "acme", Licensed, 5))
	a := must[Admin](t)(d.CreateAdmin(ctx, By{}, tn.ID, "boss@acme.test", "correct horse battery", TenantAdmin))
	ticket, err := d.StartSignIn(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	// A ticket is no session.
	_, err = d.AuthenticateToken(ctx, ticket)
	wantErr(t, err, ErrBadCredentials)
	got, id, err := d.SignInTicket(ctx, ticket)
	if err != nil || got.ID != a.ID {
		t.Fatalf("ticket: %+v %v", got, err)
	}
	sess, plain, err := d.IssueSession(ctx, id, got)
	if err != nil || sess.Kind != KindSession || sess.ExpiresAt.IsZero() {
		t.Fatalf("session: %+v %v", sess, err)
	}
	tok, err := d.AuthenticateToken(ctx, plain)
	if err != nil || tok.Scope.TenantID != tn.ID || tok.Scope.Operator || tok.AdminID != a.ID {
		t.Fatalf("session authenticates as %+v %v", tok, err)
	}
	// A ticket is spent by its session.
	_, _, err = d.IssueSession(ctx, id, got)
	wantErr(t, err, ErrBadCredentials)
	_, _, err = d.SignInTicket(ctx, ticket)
	wantErr(t, err, ErrBadCredentials)
	// Tickets and sessions expire.
	later, _ := d.StartSignIn(ctx, a)
	d.clock = func() time.Time { return time.Now().Add(SignInTTL + time.Second) }
	_, _, err = d.SignInTicket(ctx, later)
	wantErr(t, err, ErrBadCredentials)
	d.clock = func() time.Time { return time.Now().Add(SessionTTL + time.Second) }
	_, err = d.AuthenticateToken(ctx, plain)
	wantErr(t, err, ErrBadCredentials)
	d.clock = time.Now
	// Tickets are not listed among tokens; sessions are.
	ts := must[[]Token](t)(d.Tokens(ctx, TokenScope{TenantID: tn.ID}))
	if len(ts) != 1 || ts[0].Kind != KindSession {
		t.Fatalf("listed tokens %+v", ts)
	}
}
