package gateway_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/dnstest"
)

// BenchmarkRelay measures accepted-and-delivered messages through an
// in-process gateway to an in-memory sink, 10 sessions, one connection per
// message (as smtp-source does). For the figures beside Postfix, see
// bench/relaybench and docs/benchmarks.md.
//
// BenchmarkRelay/dkim=on signs every message (Ed25519 and RSA-2048) at
// delivery, for the cost of signing beside the relay's.
func BenchmarkRelay(b *testing.B) {
	for _, signed := range []bool{false, true} {
		for _, size := range []int{1024, 50 * 1024} {
			benchRelay(b, size, signed)
		}
	}
}

func benchRelay(b *testing.B, size int, signed bool) {
	name := fmt.Sprintf("size=%d", size)
	if signed {
		name = "dkim=on/" + name
	}
	b.Run(name, func(b *testing.B) {
		sink, err := devsink.Start("127.0.0.1:0", "", nil, devsink.Hooks{Data: func(m *devsink.Message) error {
			m.Data = nil
			return nil
		}})
		if err != nil {
			b.Fatal(err)
		}
		defer sink.Close()
		cfg := testConfig(b, sink.Addr())
		// One sender sends thousands a minute: raise the per-sender
		// limits (every check still runs and counts), and classify
		// with the built-in model as production does.
		cfg.Policy.UserMessagesPerMinute, cfg.Policy.UserRecipientsPerDay = 1e9, 1e9
		cfg.Policy.UserExternalPerHour, cfg.Policy.UserInternalPerHour = 0, 0
		cfg.Policy.TenantExternalPerDay, cfg.Policy.UnregisteredPerDay = 1e9, 1e9
		cfg.Classify.Engine = "builtin"
		// The same body thousands of times is a campaign: bulk, which
		// would block the tenant. The benchmark is about throughput.
		cfg.Policy.TenantSpamCount, cfg.Policy.UserSpamPerHour = 1e9, 0
		var dns *dnstest.Server
		if signed {
			dns = dnstest.Start(b)
			dkimConfig(b, cfg, dns, bytes.Repeat([]byte{1}, 32))
		}
		g := start(b, cfg, true)
		if signed {
			tn, err := g.Directory.TenantByName(context.Background(), "demo")
			if err != nil {
				b.Fatal(err)
			}
			publishKeys(b, g, dns, tn.ID, "demo.test")
		}
		body := benchBody(size)
		relay := addr(g, "relay")
		b.SetBytes(int64(len(body)))
		b.ResetTimer()
		var wg sync.WaitGroup
		next := make(chan struct{}, b.N)
		for i := 0; i < b.N; i++ {
			next <- struct{}{}
		}
		close(next)
		for w := 0; w < 10; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range next {
					if err := plainSend(relay, body); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if !sink.Wait(waitFor*3, func(m []*devsink.Message) bool { return len(m) == b.N }) {
			b.Fatalf("delivered %d of %d", sink.Count(), b.N)
		}
	})
}

func plainSend(addr, body string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("bench.test"); err != nil {
		return err
	}
	if err := c.SendMail("a@demo.test", []string{"x@example.net"}, strings.NewReader(body)); err != nil {
		return err
	}
	return c.Quit()
}

// benchBody is an ordinary business message of about size bytes: what the
// built-in classifier sees as clean, as most relayed mail is.
func benchBody(size int) string {
	const para = "Hi Sam, thanks for the notes from Tuesday's meeting. I have attached the revised schedule for the\r\n" +
		"warehouse move and the budget figures we discussed. Could you check the dates against your team's\r\n" +
		"holidays and let me know by Friday? Best regards, Alex\r\n\r\n"
	var b strings.Builder
	b.WriteString("From: Alex <alex@demo.test>\r\nTo: sam@example.net\r\nSubject: Revised schedule for the warehouse move\r\n\r\n")
	for b.Len() < size {
		b.WriteString(para)
	}
	return b.String()
}
