package gateway_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	msgauth "github.com/emersion/go-msgauth/dkim"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/dkim"
	"github.com/tollgate-mail/tollgate/dnstest"
	"github.com/tollgate-mail/tollgate/dnsverify"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// dkimConfig turns signing on with a key file and points the resolver at
// the test's DNS server; the sweep runs every second.
func dkimConfig(t testing.TB, cfg *config.Config, dns *dnstest.Server, key []byte) {
	t.Helper()
	kf := filepath.Join(t.TempDir(), "dkim-key")
	if err := os.WriteFile(kf, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.DKIM.Enabled, cfg.DKIM.KeyFile = true, kf
	cfg.DKIM.CheckInterval = config.D(time.Second)
	cfg.Delivery.Resolver = dns.Addr
}

// publishKeys waits for the domain's keys and publishes their records.
func publishKeys(t testing.TB, g *gateway.Gateway, dns *dnstest.Server, tenantID int64, domain string) []dkim.Key {
	t.Helper()
	var keys []dkim.Key
	waitTB(t, "keys for "+domain, func() bool {
		keys, _ = g.DKIM.Keys(context.Background(), tenantID, domain)
		return len(keys) == 2
	})
	for _, k := range keys {
		dns.Set(t, k.RecordName(), strings.Replace(k.DNSRecord(), " IN TXT ", " 60 IN TXT ", 1))
	}
	waitTB(t, "keys seen in DNS", func() bool {
		keys, _ = g.DKIM.Keys(context.Background(), tenantID, domain)
		return len(keys) == 2 && keys[0].State == dkim.Active && keys[1].State == dkim.Active
	})
	return keys
}

// waitTB is waitUntil for benchmarks too.
func waitTB(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// verifyAt checks a received message's signatures with go-msgauth against
// the test DNS server; it returns the selectors that verified for domain.
func verifyAt(t *testing.T, dns *dnstest.Server, msg []byte, domain string) []string {
	t.Helper()
	r := dnsverify.New(dns.Addr)
	vs, err := msgauth.VerifyWithOptions(bytes.NewReader(msg), &msgauth.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) { return r.LookupTXT(context.Background(), name) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var ok []string
	for _, v := range vs {
		if v.Err != nil {
			t.Errorf("signature for %s failed: %v\n%s", v.Domain, v.Err, msg)
		} else if v.Domain == domain {
			ok = append(ok, v.Domain)
		}
	}
	return ok
}

// Mail from a verified domain leaves with an Ed25519 and an RSA signature
// that a verifier checks against the published records, over real SMTP;
// the signatures cover what Tollgate added (they are on top); mail from a
// domain the tenant has not verified leaves unsigned.
func TestDKIMSignsOutboundMail(t *testing.T) {
	dns := dnstest.Start(t)
	sink := startSink(t, devsink.Hooks{})
	cfg := testConfig(t, sink.Addr())
	dkimConfig(t, cfg, dns, bytes.Repeat([]byte{3}, 32))
	g := start(t, cfg, true)
	tn, err := g.Directory.TenantByName(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	keys := publishKeys(t, g, dns, tn.ID, "demo.test")
	var records []string
	for _, k := range keys {
		records = append(records, strings.Replace(k.DNSRecord(), " IN TXT ", " 60 IN TXT ", 1))
	}

	c := dial(t, addr(g, "relay"))
	if err := send(c, "a@demo.test", []string{"someone@example.net"}, testMessage("signed", "hello")); err != nil {
		t.Fatal(err)
	}
	msg := "From: a@elsewhere.test\r\nTo: someone@example.net\r\nSubject: unsigned\r\n\r\nhi\r\n"
	if err := send(c, "a@demo.test", []string{"someone@example.net"}, msg); err != nil {
		t.Fatal(err)
	}
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 2 }) {
		t.Fatal("messages did not arrive")
	}
	for _, m := range sink.Messages() {
		switch m.Subject {
		case "signed":
			if got := verifyAt(t, dns, m.Data, "demo.test"); len(got) != 2 {
				t.Fatalf("%d signatures verified, want 2 (ed25519 and rsa):\n%s", len(got), m.Data)
			}
			if !bytes.HasPrefix(m.Data, []byte("DKIM-Signature:")) || !bytes.Contains(m.Data, []byte("a=ed25519-sha256")) ||
				!bytes.Contains(m.Data, []byte("a=rsa-sha256")) {
				t.Fatalf("signatures not on top, or an algorithm missing:\n%s", m.Data)
			}
			opendkimVerifies(t, records, m.Data)
		case "unsigned":
			if bytes.Contains(m.Data, []byte("DKIM-Signature:")) {
				t.Fatalf("signed mail from a domain the tenant has not verified:\n%s", m.Data)
			}
		}
	}
}

// Without a key the start fails, naming where the key is looked for.
func TestDKIMNeedsKey(t *testing.T) {
	t.Setenv(dkim.EnvKey, "")
	cfg := testConfig(t, "127.0.0.1:1")
	cfg.DKIM.Enabled = true
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	_, err := gateway.Start(context.Background(), cfg, testLogger(t))
	if err == nil || !strings.Contains(err.Error(), "key_file") || !strings.Contains(err.Error(), dkim.EnvKey) {
		t.Fatalf("start without a DKIM key: %v", err)
	}
}

// opendkimVerifies checks msg with Debian's opendkim-testmsg where it is
// installed (apt-get install opendkim-tools), and that it refuses msg with
// its body changed. The tool reads /etc/resolv.conf and takes no DNS port,
// so it runs in a user, mount and network namespace of its own, where a
// resolv.conf naming 127.0.0.1 is bound over the real one and this test
// binary answers on that namespace's loopback port 53 with records (no
// traffic leaves the namespace's own loopback).
func opendkimVerifies(t *testing.T, records []string, msg []byte) {
	t.Helper()
	bin, err := exec.LookPath("opendkim-testmsg")
	if err != nil {
		t.Log("opendkim-testmsg is not installed (apt-get install opendkim-tools): skipping its check")
		return
	}
	if err := exec.Command("unshare", "-rmn", "true").Run(); err != nil {
		t.Logf("no user namespaces here (%v): skipping the opendkim-testmsg check", err)
		return
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("resolv.conf", []byte("nameserver 127.0.0.1\noptions timeout:2 attempts:1\n"))
	write("records", []byte(strings.Join(records, "\n")))
	// The tool reads a file as a local MTA keeps it: lines end in LF.
	msg = bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n"))
	write("good.eml", msg)
	write("bad.eml", bytes.Replace(msg, []byte("hello"), []byte("jello"), 1))
	script := `set -e
ip link set lo up
mount --bind "$D/resolv.conf" /etc/resolv.conf
TOLLGATE_DNS_HELPER="$D" "$SELF" -test.run='^TestDNSHelperProcess$' >"$D/helper.log" 2>&1 </dev/null &
helper=$!
trap 'kill $helper 2>/dev/null' EXIT
for i in $(seq 100); do [ -e "$D/ready" ] && break; sleep 0.05; done
[ -e "$D/ready" ] || { echo "DNS helper did not start"; exit 3; }
set +e
"$BIN" < "$D/good.eml"; echo "good=$?"
"$BIN" < "$D/bad.eml"; echo "bad=$?"`
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "-rmn", "sh", "-c", script)
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = append(os.Environ(), "D="+dir, "SELF="+os.Args[0], "BIN="+bin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("opendkim-testmsg run: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "dkim_chunk(): Syntax error") {
		// Debian 12's opendkim-testmsg (2.11.0~beta2) answers so for every
		// message, even an unsigned two-line one, in signing mode too.
		t.Logf("opendkim-testmsg here rejects every input with dkim_chunk(): Syntax error (a broken build): skipping its check\n%s", out)
		return
	}
	if !strings.Contains(string(out), "good=0") || strings.Contains(string(out), "bad=0") {
		t.Fatalf("opendkim-testmsg: want the signed message to verify and the changed one not:\n%s", out)
	}
	t.Logf("opendkim-testmsg verified the signatures:\n%s", out)
}

// TestDNSHelperProcess is not a test: opendkimVerifies runs this binary in
// its namespace to answer DNS on 127.0.0.1:53 until it is killed.
func TestDNSHelperProcess(t *testing.T) {
	dir := os.Getenv("TOLLGATE_DNS_HELPER")
	if dir == "" {
		t.Skip("helper process for opendkimVerifies")
	}
	b, err := os.ReadFile(filepath.Join(dir, "records"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			recs = append(recs, l)
		}
	}
	dnstest.StartAt(t, "127.0.0.1:53", recs...)
	if err := os.WriteFile(filepath.Join(dir, "ready"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	select {}
}

// Two nodes on one PostgreSQL sign with the same keys: keys made and seen
// in DNS by node A's sweep sign mail relayed through node B, and a
// rotation completed on A reaches B within the refresh interval.
func TestFleetSignsWithSharedKeys(t *testing.T) {
	dsn := storetest.PostgresDSN(t) // skips, naming the server, when PostgreSQL is unreachable
	dns := dnstest.Start(t)
	sink := startSink(t, devsink.Hooks{})
	key := bytes.Repeat([]byte{9}, 32)
	cfgA, cfgB := testConfig(t, sink.Addr()), testConfig(t, sink.Addr())
	cfgA.Store.PostgresDSN, cfgB.Store.PostgresDSN = dsn, dsn
	dkimConfig(t, cfgA, dns, key)
	dkimConfig(t, cfgB, dns, key)
	cfgB.DKIM.Refresh = config.D(time.Second)
	a := start(t, cfgA, false)
	b := start(t, cfgB, false)
	ctx := context.Background()
	tn, err := a.Directory.CreateTenant(ctx, directory.By{}, "acme", directory.Licensed, 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Directory.AddDomain(ctx, directory.By{}, tn.ID, "acme.test"); err != nil {
		t.Fatal(err)
	}
	if err := a.Directory.MarkDomainVerified(ctx, directory.By{}, tn.ID, "acme.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Directory.CreateConnector(ctx, directory.By{Actor: "test"}, tn.ID, "onprem", []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}); err != nil {
		t.Fatal(err)
	}
	keys := publishKeys(t, a, dns, tn.ID, "acme.test")
	waitUntil(t, "node B attributes 127.0.0.2 and knows acme.test", func() bool {
		_, _, ok := b.Directory.ConnectorForIP(netip.MustParseAddr("127.0.0.2"))
		return ok && b.Directory.IsVerifiedDomain(tn.ID, "acme.test")
	})
	sendVia := func(subject string) []byte {
		t.Helper()
		before := len(sink.Messages())
		cl := dialFrom(t, "127.0.0.2", addr(b, "relay"))
		msg := "From: ann@acme.test\r\nTo: x@example.net\r\nSubject: " + subject + "\r\n\r\nfleet\r\n"
		if err := send(cl, "ann@acme.test", []string{"x@example.net"}, msg); err != nil {
			t.Fatal(err)
		}
		if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == before+1 }) {
			t.Fatal("message through node B did not arrive")
		}
		return sink.Messages()[before].Data
	}
	got := sendVia("first")
	if n := len(verifyAt(t, dns, got, "acme.test")); n != 2 || !bytes.Contains(got, []byte("s="+keys[0].Selector)) {
		t.Fatalf("node B signed %d times with keys made on node A:\n%s", n, got)
	}
	next, err := a.DKIM.Rotate(ctx, tn.ID, "acme.test", "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range next {
		dns.Set(t, k.RecordName(), strings.Replace(k.DNSRecord(), " IN TXT ", " 60 IN TXT ", 1))
	}
	waitUntil(t, "the new generation active", func() bool {
		ks, _ := a.DKIM.Keys(ctx, tn.ID, "acme.test")
		return len(ks) == 4 && ks[0].State == dkim.Active && ks[2].State == dkim.Retired
	})
	deadline := time.Now().Add(waitFor)
	for {
		got = sendVia("after rotation")
		if bytes.Contains(got, []byte("s="+next[0].Selector)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node B still signs with the retired keys:\n%s", got)
		}
		time.Sleep(500 * time.Millisecond) // node B rereads its keys every second
	}
	if n := len(verifyAt(t, dns, got, "acme.test")); n != 2 {
		t.Fatalf("%d signatures verified after rotation", n)
	}
}
