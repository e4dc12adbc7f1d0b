package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// The sender binding and aliases through the CLI: the binding is set and
// refused for an unknown mode, an alias in the tenant's domain is added,
// listed and removed, and one outside it is refused naming the reason.
func TestAdminSenderBindingAndAliases(t *testing.T) {
	dir := t.TempDir()
	url, _ := devServer(t, dir)
	var ts struct {
		Tenants []struct {
			ID   int64
			Name string
		}
	}
	if err := json.Unmarshal([]byte(mustAdmin(t, dir, url, "--json", "tenants")), &ts); err != nil || len(ts.Tenants) == 0 {
		t.Fatalf("tenants: %v %+v", err, ts)
	}
	tid := fmt.Sprint(ts.Tenants[0].ID)
	var us struct {
		Users []struct {
			ID      int64
			Address string
		}
	}
	if err := json.Unmarshal([]byte(mustAdmin(t, dir, url, "--json", "users", "--tenant", tid)), &us); err != nil || len(us.Users) == 0 {
		t.Fatalf("users: %v %+v", err, us)
	}
	uid := fmt.Sprint(us.Users[0].ID)
	domain := us.Users[0].Address[strings.LastIndexByte(us.Users[0].Address, '@')+1:]

	wantOut(t, "sender-binding login", mustAdmin(t, dir, url, "sender-binding", "--tenant", tid, "login"), "may send only as their login")
	wantFail(t, dir, url, []string{"strict"}, "sender-binding", "--tenant", tid, "strict")
	out := mustAdmin(t, dir, url, "alias-add", "--tenant", tid, "--user", uid, "Sales@"+domain)
	var aid int64
	if _, err := fmt.Sscanf(out, "added alias %d", &aid); err != nil {
		t.Fatalf("alias-add: %v %q", err, out)
	}
	wantFail(t, dir, url, []string{"other.example", "not a verified domain"}, "alias-add", "--tenant", tid, "--user", uid, "ceo@other.example")
	wantFail(t, dir, url, []string{"--user"}, "aliases", "--tenant", tid)
	wantOut(t, "aliases", mustAdmin(t, dir, url, "aliases", "--tenant", tid, "--user", uid), "sales@"+domain)
	wantOut(t, "alias-remove", mustAdmin(t, dir, url, "alias-remove", "--tenant", tid, "--user", uid, fmt.Sprint(aid)), "removed alias")
	if out := mustAdmin(t, dir, url, "aliases", "--tenant", tid, "--user", uid); strings.Contains(out, "sales@") {
		t.Fatalf("alias still listed:\n%s", out)
	}
	wantOut(t, "sender-binding off", mustAdmin(t, dir, url, "sender-binding", "--tenant", tid, "off"), "binding off")
	wantOut(t, "audit", mustAdmin(t, dir, url, "audit", "--tenant", tid), "tenant.sender_binding", "user.alias.add", "user.alias.remove")
}
