package queue

import (
	"context"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/store"
)

// The attribution the front end made travels with the message: after a
// restart the hold sees the same tenant, connector, user, app password,
// method and address by id.
func TestAttributionSurvivesTheSpool(t *testing.T) {
	dir := t.TempDir()
	tr := newRecorder()
	tr.block = make(chan struct{}) // nothing is delivered before the restart
	q := openQueue(t, dir, tr)
	a := policy.Attribution{TenantID: 7, Tenant: "acme", UserID: 11, User: "alice@acme.test", ConnectorID: 0,
		AppPasswordID: 13, Method: policy.MethodAuth, ClientIP: netip.MustParseAddr("192.0.2.9")}
	w, err := q.Create()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("Subject: x\r\n\r\nbody\r\n"))
	m, err := q.Commit(context.Background(), w, Envelope{From: "alice@acme.test", Attribution: a,
		Rcpts: []Recipient{{Addr: "x@example.net"}}})
	if err != nil {
		t.Fatal(err)
	}
	q.Close()

	held := make(chan policy.Attribution, 1)
	q2, err := Open(context.Background(), Options{Dir: dir, RetrySchedule: []time.Duration{time.Hour}, MaxAge: time.Hour,
		Transport: newRecorder(), ScanInterval: 20 * time.Millisecond, Hostname: "gw.test",
		Hold: func(m *Message) *Hold { held <- m.Attribution; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer q2.Close()
	q2.Start()
	select {
	case got := <-held:
		if got != a {
			t.Fatalf("message %s came back from the spool attributed to\n%+v\nnot\n%+v", m.ID, got, a)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the recovered message was never attempted")
	}
}

// A spool written before the attribution was kept by id (schema version
// 1: names and the address only) opens, and its message is delivered with
// the attribution it has.
func TestOldFormatSpoolDelivers(t *testing.T) {
	dir := t.TempDir()
	first, err := fs.ReadFile(migrations, "migrations/0001_queue.sql")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, filepath.Join(dir, "queue.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, "queue", fstest.MapFS{"0001_queue.sql": {Data: first}}); err != nil {
		t.Fatal(err)
	}
	const id = "0000000000000000ABCD"
	body := "From: ann@acme.test\r\nSubject: old\r\n\r\nqueued by the previous version\r\n"
	now := time.Now()
	if _, err := db.Write.ExecContext(ctx, `INSERT INTO messages (id, sender, kind, pool, tenant_id, tenant, user_name,
		connector, client_ip, size, received_at, attempts, next_attempt) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		id, "ann@acme.test", "message", "normal", 7, "acme", "", "onprem", "192.0.2.7", len(body), now.UnixNano(), 1,
		now.UnixNano()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Write.ExecContext(ctx, `INSERT INTO recipients (message_id, idx, addr) VALUES (?, 0, ?)`, id, "x@example.net"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := os.MkdirAll(filepath.Join(dir, "msg"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "msg", id), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}

	tr := newRecorder()
	held := make(chan policy.Attribution, 1)
	q, err := Open(ctx, Options{Dir: dir, RetrySchedule: []time.Duration{time.Hour}, MaxAge: time.Hour, Transport: tr,
		ScanInterval: 20 * time.Millisecond, Hostname: "gw.test",
		Hold: func(m *Message) *Hold { held <- m.Attribution; return nil }})
	if err != nil {
		t.Fatalf("a version-1 spool does not open: %v", err)
	}
	defer q.Close()
	q.Start()
	waitUntil(t, "the old message delivered", func() bool { return tr.count(id) == 1 })
	if got := tr.body(id); got != body {
		t.Fatalf("delivered body %q, want %q", got, body)
	}
	want := policy.Attribution{TenantID: 7, Tenant: "acme", Connector: "onprem", ClientIP: netip.MustParseAddr("192.0.2.7")}
	if got := <-held; got != want {
		t.Fatalf("the old message's attribution read back as\n%+v\nwant\n%+v", got, want)
	}
	waitUntil(t, "the delivered message removed", func() bool { return spooled(t, q) == 0 })
}
