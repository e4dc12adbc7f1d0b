package blocks

import (
	"strings"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/directory"
)

// The checklist flags live API tokens created or used in the week before
// the block or since (with creator, last use and its address), and admins
// without MFA; old, revoked and session tokens pass.
func TestChecklistTokensAndMFA(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	b := Block{CreatedAt: at}
	old := at.Add(-30 * 24 * time.Hour)
	tokens := []directory.Token{
		{Name: "deploy-bot", Kind: directory.KindAPI, CreatedAt: at.Add(-2 * time.Hour), CreatedBy: "token:bootstrap",
			LastUsed: at.Add(-time.Hour), LastUsedFrom: "203.0.113.66"},
		{Name: "backup", Kind: directory.KindAPI, CreatedAt: old, CreatedBy: "admin:boss@a.example", LastUsed: at.Add(-3 * 24 * time.Hour)},
		{Name: "ancient", Kind: directory.KindAPI, CreatedAt: old, LastUsed: old},
		{Name: "gone", Kind: directory.KindAPI, CreatedAt: at.Add(-time.Hour), RevokedAt: at},
		{Name: "session-x", Kind: directory.KindSession, CreatedAt: at},
	}
	admins := []directory.Admin{
		{Email: "boss@a.example", TOTPEnabled: true, PasswordChangedAt: at.Add(time.Hour)},
		{Email: "aide@a.example", PasswordChangedAt: at.Add(time.Hour)},
	}
	items := map[string]CheckItem{}
	for _, it := range Checklist(b, nil, admins, tokens) {
		items[it.Check] = it
	}
	tok := items["no-recent-tokens"]
	if tok.OK || !strings.Contains(tok.Detail, "deploy-bot (created 2026-12-01T10:00:00Z by token:bootstrap, last used 2026-12-01T11:00:00Z from 203.0.113.66)") ||
		!strings.Contains(tok.Detail, "backup") {
		t.Errorf("no-recent-tokens: %+v", tok)
	}
	for _, not := range []string{"ancient", "gone", "session-x"} {
		if strings.Contains(tok.Detail, not) {
			t.Errorf("no-recent-tokens names %q: %s", not, tok.Detail)
		}
	}
	if m := items["mfa-for-every-admin"]; m.OK || !strings.HasSuffix(m.Detail, ": aide@a.example") {
		t.Errorf("mfa-for-every-admin: %+v", m)
	}
	if p := items["admin-passwords-changed"]; !p.OK {
		t.Errorf("admin-passwords-changed: %+v", p)
	}
	if len(items) != 4 {
		t.Errorf("%d items, want 4: %v", len(items), items)
	}
	// Nothing recent: the item passes.
	for _, it := range Checklist(b, nil, admins, tokens[2:]) {
		if it.Check == "no-recent-tokens" && !it.OK {
			t.Errorf("old and revoked tokens flagged: %+v", it)
		}
	}
}
