package reputation

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/dnstest"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// The hot path: Assess on cached IPs with 1,000 list entries, 10,000
// tenants' exceptions and (in the dnsbl case) two zones answered from the
// cache; and the check's refusal, which builds the figures.
//
//	go test -run '^$' -bench . -benchmem ./reputation/
func BenchmarkAssess(b *testing.B) {
	for _, withDNSBL := range []bool{false, true} {
		b.Run(fmt.Sprintf("dnsbl=%v", withDNSBL), func(b *testing.B) {
			tr, ips := benchTracker(b, withDNSBL)
			ctx := context.Background()
			now := time.Now().Add(48 * time.Hour)
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				tr.Assess(ctx, int64(i%10_000)+1, ips[i%len(ips)], now)
				i++
			}
		})
	}
}

func BenchmarkCheckRefusal(b *testing.B) {
	tr, _ := benchTracker(b, false)
	check, _ := NewCheck(tr, func(int64) bool { return true })
	now := time.Now().Add(48 * time.Hour)
	check.Now = func() time.Time { return now }
	env := &policy.Envelope{Attribution: policy.Attribution{TenantID: 42, ClientIP: netip.MustParseAddr("203.0.113.9")}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if d := check.Mail(ctx, env); d.Action != policy.Reject {
			b.Fatal(d)
		}
	}
}

func benchTracker(b *testing.B, withDNSBL bool) (*Tracker, []netip.Addr) {
	cfg := Config{MinMessages: 10, NewIPAge: time.Hour}
	if withDNSBL {
		srv := dnstest.Start(b)
		cfg.DNSBL = DNSBLConfig{Zones: []string{"a.test", "b.test"}, Server: srv.Addr}
	}
	tr := open(b, storetest.SQLite(b), cfg)
	ctx := context.Background()
	for i := range 1000 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)
		if _, err := tr.db.Write.ExecContext(ctx, `INSERT INTO reputation_lists (kind, prefix, reason, created_by, created_at)
			VALUES ('deny', $1, 'bench', 'bench', 0)`, p.String()); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 10_000 {
		if _, err := tr.db.Write.ExecContext(ctx, `INSERT INTO reputation_exceptions (tenant_id, prefix, reason, created_by, created_at, expires_at)
			VALUES ($1, $2, 'bench', 'bench', 0, $3)`, i+1, fmt.Sprintf("198.18.%d.0/24", i%256), time.Now().Add(1000*time.Hour).UnixNano()); err != nil {
			b.Fatal(err)
		}
	}
	if err := tr.reloadLists(ctx); err != nil {
		b.Fatal(err)
	}
	ips := make([]netip.Addr, 1024)
	for i := range ips {
		ips[i] = netip.AddrFrom4([4]byte{192, 0, byte(i >> 8), byte(i)})
		observe(tr, ips[i].String(), 20, i%5)
	}
	if err := tr.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	now := time.Now().Add(48 * time.Hour)
	for _, ip := range ips { // warm both caches
		tr.Assess(ctx, 1, ip, now)
	}
	return tr, ips
}
