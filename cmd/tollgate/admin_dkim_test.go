package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/dnstest"
)

// The DKIM commands over a dev server whose resolver is a DNS server on
// loopback: keys are made for the verified demo domain with a dev key
// (0600) sealing them, checked before and after publishing, and bad input
// is refused naming it.
func TestAdminDKIM(t *testing.T) {
	dns := dnstest.Start(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tollgate.toml")
	if err := os.WriteFile(cfg, []byte("[dkim]\nenabled = true\n[delivery]\nresolver = \""+dns.Addr+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url, _, stop := devServerArgs(t, dir, "--config", cfg)
	defer stop()
	if fi, err := os.Stat(filepath.Join(dir, "tollgate-data", "dkim-key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("dev DKIM key file: %v %v", fi, err)
	}
	var keys struct {
		Keys []struct{ Name, Record, State string }
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(keys.Keys) != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the verified demo domain got no DKIM keys")
		}
		out, err := admin(t, dir, url, "--json", "dkim", "--tenant", "1", "demo.test")
		if err == nil {
			json.Unmarshal([]byte(out), &keys)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out := mustAdmin(t, dir, url, "dkim", "--tenant", "1", "demo.test"); !strings.Contains(out, "._domainkey.demo.test. IN TXT \"v=DKIM1; k=ed25519; p=") || !strings.Contains(out, "pending") {
		t.Fatalf("dkim: %s", out)
	}
	if out := mustAdmin(t, dir, url, "dkim-check", "--tenant", "1", "demo.test"); !strings.Contains(out, "no TXT record") || strings.Contains(out, "now signs") {
		t.Fatalf("dkim-check before publishing: %s", out)
	}
	for _, k := range keys.Keys {
		dns.Set(t, k.Name, strings.Replace(k.Record, " IN TXT ", " 60 IN TXT ", 1))
	}
	if out := mustAdmin(t, dir, url, "dkim-check", "--tenant", "1", "demo.test"); !strings.Contains(out, "generation 1 now signs") {
		t.Fatalf("dkim-check after publishing: %s", out)
	}
	if out := mustAdmin(t, dir, url, "dkim-rotate", "--tenant", "1", "demo.test"); !strings.Contains(out, "tg2e") {
		t.Fatalf("dkim-rotate: %s", out)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"dkim-upload", "--tenant", "1", "--key", filepath.Join(dir, "nope.pem"), "demo.test"}, "nope.pem"},
		{[]string{"dkim-upload", "--tenant", "1", "demo.test"}, "--key"},
		{[]string{"dkim", "demo.test"}, "--tenant"},
		{[]string{"dkim-rotate", "--tenant", "1", "demo.test"}, "waiting to be seen"},
		{[]string{"dkim", "--tenant", "1", "nosuch.test"}, "404"},
	} {
		if out, err := admin(t, dir, url, bad.args...); err == nil || !strings.Contains(out, bad.want) {
			t.Errorf("%v: %v %s, want an error naming %q", bad.args, err, out, bad.want)
		}
	}
	if out := mustAdmin(t, dir, url, "dkim-upload", "--help"); !strings.Contains(out, "-selector") {
		t.Errorf("dkim-upload --help: %s", out)
	}
}
