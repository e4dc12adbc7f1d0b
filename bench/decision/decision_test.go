package decision

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/counters"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/feedback"
	"github.com/tollgate-mail/tollgate/password"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/protect"
	"github.com/tollgate-mail/tollgate/store"
)

// The directory's size, from the performance target.
const (
	numTenants     = 100_000
	usersPerTenant = 10
	numUsers       = numTenants * usersPerTenant
	// senderPool is how many random users are resolved up front (as SMTP
	// AUTH would) and drawn from during the run.
	senderPool = 1 << 16
	// populateVersion changes the cache key when the population below
	// changes without a schema change.
	populateVersion = "decision-bench-v1"
)

// redisAddr is where the Redis variant looks; it skips when nothing answers.
const redisAddr = "127.0.0.1:6379"

var quiet = slog.New(slog.DiscardHandler)

// env is what every benchmark shares: one copy of the populated database
// opened as the gateway opens it.
type env struct {
	dir     string
	db      *store.DB
	dirx    *directory.Directory
	blocks  *blocks.Store
	senders []sender
	loadDur time.Duration
	// rtt counts Redis round trips in the Redis variant (nil otherwise).
	rtt *roundTrips
}

// sender is one user resolved as SMTP AUTH leaves it, with the addresses of
// its test message.
type sender struct {
	attr       policy.Attribution
	ip         netip.Addr
	from       string
	headerFrom string
	internal   string // a recipient in the tenant's verified domain
	external   string // a recipient elsewhere
}

var (
	shared     *env
	sharedErr  error
	sharedOnce sync.Once
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.blocks.Close()
		shared.dirx.Close()
		shared.db.Close()
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// setup returns the shared environment, populating the cached database on
// the first run ever and copying it to a scratch file on every run (the
// benchmark writes daily stats and would write blocks, which must not leak
// into the next run).
func setup(b *testing.B) *env {
	b.Helper()
	if testing.Short() {
		b.Skip("populates a 100,000-tenant directory; not in -short")
	}
	sharedOnce.Do(func() { shared, sharedErr = open(b) })
	if sharedErr != nil {
		b.Fatal(sharedErr)
	}
	return shared
}

func open(b *testing.B) (*env, error) {
	ctx := context.Background()
	cached, err := cachedDB(b)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tollgate-bench-decision-run-")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "tollgate.db")
	if err := copyFile(cached, path); err != nil {
		return nil, err
	}
	db, err := store.OpenSQLite(ctx, path)
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir, db: db}
	start := time.Now()
	if e.dirx, err = directory.Open(ctx, db); err != nil { // as gateway.Start: default refresh, snapshot of every tenant
		return nil, err
	}
	e.loadDur = time.Since(start)
	if e.blocks, err = blocks.Open(ctx, db, blocks.Options{Logger: quiet}); err != nil {
		return nil, err
	}
	if e.senders, err = loadSenders(ctx, db); err != nil {
		return nil, err
	}
	b.Logf("directory: %d tenants, %d users; snapshot loaded in %v", numTenants, numUsers, e.loadDur.Round(time.Millisecond))
	return e, nil
}

// cachedDB returns the path of the populated database under os.TempDir(),
// building it when no file for the current schema exists.
func cachedDB(b *testing.B) (string, error) {
	key, err := schemaKey()
	if err != nil {
		return "", err
	}
	path := filepath.Join(os.TempDir(), "tollgate-bench-decision-"+key+".db")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	b.Logf("populating %s (once per schema)", path)
	start := time.Now()
	tmp := fmt.Sprintf("%s.tmp-%d", path, os.Getpid())
	if err := populate(tmp); err != nil {
		removeDB(tmp)
		return "", fmt.Errorf("populate: %w", err)
	}
	os.Remove(tmp + "-wal") // checkpointed and empty
	os.Remove(tmp + "-shm")
	if err := os.Rename(tmp, path); err != nil {
		removeDB(tmp)
		return "", err
	}
	b.Logf("populated in %v", time.Since(start).Round(time.Second))
	return path, nil
}

// schemaKey hashes the directory's SQLite migrations and the population's
// version, so a schema change builds a new file.
func schemaKey() (string, error) {
	files, err := filepath.Glob(filepath.Join("..", "..", "directory", "migrations", "sqlite", "*.sql"))
	if err != nil || len(files) == 0 {
		return "", fmt.Errorf("directory migrations not found (run from bench/decision): %v", err)
	}
	sort.Strings(files)
	h := sha256.New()
	fmt.Fprintf(h, "%s %d %d\n", populateVersion, numTenants, numUsers)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// populate migrates a fresh database through directory.Open and fills it
// with plain SQL in one transaction per table: tenant i (a quarter on
// trial, the rest licensed with 1–200 seats, a tenth of those with an end
// date a year out) owns the verified domain ti.example and users
// u<n>@ti.example, all sharing one argon2id hash computed once.
func populate(path string) error {
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	d, err := directory.Open(ctx, db)
	if err != nil {
		return err
	}
	d.Close()
	hash, err := password.Hash("bench-password")
	if err != nil {
		return err
	}
	now := time.Now()
	created := now.Add(-30 * 24 * time.Hour).UnixNano()
	expires := now.Add(365 * 24 * time.Hour).UnixNano()
	const series = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) `
	stmts := []struct {
		q    string
		args []any
	}{
		{series + `INSERT INTO tenants (id, name, license, seats, created_at, license_expires)
			SELECT i, 'tenant-' || i, CASE WHEN i % 4 = 0 THEN 'trial' ELSE 'licensed' END,
				CASE WHEN i % 4 = 0 THEN 0 ELSE 1 + i % 200 END, ?,
				CASE WHEN i % 4 <> 0 AND i % 10 = 1 THEN ? ELSE 0 END FROM n`,
			[]any{numTenants, created, expires}},
		{series + `INSERT INTO domains (id, tenant_id, name, verified, token, created_at)
			SELECT i, i, 't' || i || '.example', TRUE, 'token-' || i, ? FROM n`,
			[]any{numTenants, created}},
		{series + `INSERT INTO users (id, tenant_id, address, password_hash, created_at)
			SELECT i, (i - 1) % ? + 1, 'u' || i || '@t' || ((i - 1) % ? + 1) || '.example', ?, ? FROM n`,
			[]any{numUsers, numTenants, numTenants, hash, created}},
	}
	for _, s := range stmts {
		if err := db.Tx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, s.q, s.args...)
			return err
		}); err != nil {
			return err
		}
	}
	if _, err := db.Write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return err
	}
	return nil
}

// loadSenders resolves senderPool random users with their tenant and
// verified domain, in one query.
func loadSenders(ctx context.Context, db *store.DB) ([]sender, error) {
	r := rand.New(rand.NewPCG(1, 2))
	ids := make([]int64, senderPool)
	for i := range ids {
		ids[i] = 1 + r.Int64N(numUsers)
	}
	js, _ := json.Marshal(ids)
	rows, err := db.Read.QueryContext(ctx, `SELECT u.id, u.address, t.id, t.name, d.name
		FROM json_each(?) j JOIN users u ON u.id = j.value JOIN tenants t ON t.id = u.tenant_id
		JOIN domains d ON d.tenant_id = t.id AND d.verified`, string(js))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]sender, 0, senderPool)
	for rows.Next() {
		var s sender
		var domain string
		if err := rows.Scan(&s.attr.UserID, &s.attr.User, &s.attr.TenantID, &s.attr.Tenant, &domain); err != nil {
			return nil, err
		}
		s.attr.Method = "auth"
		n := len(out)
		s.ip = netip.AddrFrom4([4]byte{198, 18, byte(s.attr.TenantID >> 8), byte(s.attr.TenantID)})
		s.from = s.attr.User
		s.headerFrom = "Bench Sender <" + s.attr.User + ">"
		s.internal = fmt.Sprintf("colleague%d@%s", n%7, domain)
		s.external = fmt.Sprintf("someone%d@customer%d.example.net", n, n%1000)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) != senderPool {
		return nil, fmt.Errorf("resolved %d of %d users", len(out), senderPool)
	}
	return out, nil
}

// chain builds the engine and the chain as gateway.openProtection and
// gateway.policyChain do, with the default [policy] settings (no IP
// reputation: its tracker is measured on its own).
func (e *env) chain(b testing.TB, c counters.Counter) policy.Chain {
	cfg := config.Default()
	// The evidence beyond the verdict is on as the gateway runs it: the
	// delivery feedback read from the same counters (one batch per tenant
	// per feedback TTL), and a fingerprint on the spam verdict for the
	// campaign spread.
	eng := &protect.Engine{Defaults: cfg.Policy.Settings, Counters: c, Blocks: e.blocks, Tenants: e.dirx,
		Logger: quiet, Alert: func(protect.Alert) {}, Feedback: feedbackOf(c)}
	ch, err := eng.Chain(protect.ChainOptions{Probation: e.dirx, ProbationQuota: cfg.Policy.ConnectorProbationQuota})
	if err != nil {
		b.Fatal(err)
	}
	return ch
}

// session is one goroutine's reusable transaction state.
type session struct {
	env policy.Envelope
	msg policy.Message
	// rtt and stages, in the serial Redis rows, attribute the round trips
	// to the SMTP step that made them (nil otherwise).
	rtt    *roundTrips
	stages *stageTrips
}

// decide runs one message through the chain as smtpd does: MAIL FROM, two
// RCPT TO (one internal, one external) and the end of DATA. It returns the
// first refusal, or Accepted.
func (s *session) decide(ctx context.Context, ch policy.Chain, snd *sender, verdict policy.Verdict) policy.Decision {
	a := snd.attr
	a.ClientIP = snd.ip
	s.env = policy.Envelope{Attribution: a, Listener: "submission", Helo: "client.example",
		TLS: true, From: snd.from, Rcpts: s.env.Rcpts[:0]}
	mark := s.rtt.load()
	if d := ch.Mail(ctx, &s.env); d.Action != policy.Accept {
		return d
	}
	mark = s.stages.note(stageMail, s.rtt, mark)
	for _, rcpt := range [2]string{snd.internal, snd.external} {
		if d := ch.Rcpt(ctx, &s.env, rcpt); d.Action != policy.Accept {
			return d
		}
		s.env.Rcpts = append(s.env.Rcpts, rcpt)
		mark = s.stages.note(stageRcpt, s.rtt, mark)
	}
	s.msg = policy.Message{QueueID: "bench", Size: 4096, MessageID: "<bench@client.example>",
		Subject: "Quarterly report", HeaderFrom: snd.headerFrom, Verdict: verdict}
	d := ch.Data(ctx, &s.env, &s.msg)
	s.stages.note(stageData, s.rtt, mark)
	return d
}

var verdicts = []struct {
	name string
	v    policy.Verdict
}{
	{"clean", policy.Verdict{Class: "clean", Score: 0.02, Engine: "builtin"}},
	{"spam", policy.Verdict{Class: "spam", Score: 0.97, Bulk: 2, Engine: "builtin", Fingerprint: "9f3a61c2-04be77d1-c5e2a9f0"}},
}

// BenchmarkDecision measures one full decision (MAIL + 2×RCPT + DATA) for
// random users of random tenants, serially and from concurrent sessions,
// with embedded counters and with Redis. Besides ns/op and allocs/op it
// reports the p50 and p99 of the per-decision latency.
func BenchmarkDecision(b *testing.B) {
	e := setup(b)
	b.Run("counters=memory", func(b *testing.B) {
		e.run(b, func() (counters.Counter, func()) { e.rtt = nil; return counters.NewMemory(), func() {} })
	})
	b.Run("counters=redis", func(b *testing.B) {
		prefix := fmt.Sprintf("tollgate-bench-decision:%d:%d:", os.Getpid(), time.Now().UnixNano())
		probe, err := counters.NewRedis(&redis.Options{Addr: redisAddr, DialTimeout: time.Second}, prefix)
		if err != nil {
			b.Skipf("Redis at %s unreachable, skipping the Redis variant: %v", redisAddr, err)
		}
		probe.Close()
		client := redis.NewClient(&redis.Options{Addr: redisAddr})
		defer client.Close()
		defer deletePrefix(client, prefix)
		e.run(b, func() (counters.Counter, func()) {
			e.rtt = &roundTrips{}
			c, err := counters.NewRedis(&redis.Options{Addr: redisAddr, PoolSize: 32, Dialer: e.rtt.dialer}, prefix)
			if err != nil {
				b.Fatal(err)
			}
			return c, func() { c.Close() }
		})
	})
}

func (e *env) run(b *testing.B, open func() (counters.Counter, func())) {
	for _, v := range verdicts {
		for _, parallel := range []bool{false, true} {
			name := "verdict=" + v.name + "/serial"
			if parallel {
				name = "verdict=" + v.name + "/parallel"
			}
			b.Run(name, func(b *testing.B) {
				c, done := open()
				defer done()
				ch := e.chain(b, c)
				if parallel {
					e.measureParallel(b, ch, v.v)
				} else {
					e.measure(b, ch, v.v)
				}
			})
		}
	}
}

func (e *env) measure(b *testing.B, ch policy.Chain, verdict policy.Verdict) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(uint64(b.N), 3))
	lat := make([]time.Duration, b.N)
	var s session
	s.env.Rcpts = make([]string, 0, 4)
	if e.rtt != nil {
		s.rtt, s.stages = e.rtt, &stageTrips{}
	}
	var refused refusals
	allocs := decisionAllocs(ctx, ch, e.senders, verdict)
	b.ReportAllocs()
	rtt0 := e.rtt.load()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		snd := &e.senders[r.IntN(len(e.senders))]
		start := time.Now()
		d := s.decide(ctx, ch, snd, verdict)
		lat[i] = time.Since(start)
		if d.Action != policy.Accept {
			refused.note(d)
		}
	}
	b.StopTimer()
	e.rtt.report(b, rtt0, len(lat))
	s.stages.report(b, len(lat))
	report(b, lat, &refused)
	b.ReportMetric(allocs, "decision-allocs/op")
}

// measureParallel runs decisions from GOMAXPROCS goroutines at once (the
// latency then includes waiting for the other goroutines' CPU).
func (e *env) measureParallel(b *testing.B, ch policy.Chain, verdict policy.Verdict) {
	ctx := context.Background()
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var seed atomic.Uint64
	var refused refusals
	allocs := decisionAllocs(ctx, ch, e.senders, verdict)
	b.ReportAllocs()
	rtt0 := e.rtt.load()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(seed.Add(1), uint64(b.N)))
		var s session
		s.env.Rcpts = make([]string, 0, 4)
		for pb.Next() {
			snd := &e.senders[r.IntN(len(e.senders))]
			start := time.Now()
			d := s.decide(ctx, ch, snd, verdict)
			lat[next.Add(1)-1] = time.Since(start)
			if d.Action != policy.Accept {
				refused.note(d)
			}
		}
	})
	b.StopTimer()
	e.rtt.report(b, rtt0, int(next.Load()))
	report(b, lat[:next.Load()], &refused)
	b.ReportMetric(allocs, "decision-allocs/op")
}

// decisionAllocs is the allocations of one decision alone. allocs/op counts
// the whole process, so it includes the directory's and the block store's
// background reloads (the directory's allocates some millions of objects
// every 5 s); the least of three short AllocsPerRun is a decision's own.
func decisionAllocs(ctx context.Context, ch policy.Chain, senders []sender, verdict policy.Verdict) float64 {
	var s session
	s.env.Rcpts = make([]string, 0, 4)
	i := 0
	best := -1.0
	for range 3 {
		n := testing.AllocsPerRun(100, func() {
			s.decide(ctx, ch, &senders[i%len(senders)], verdict)
			i += 7919
		})
		if best < 0 || n < best {
			best = n
		}
	}
	return best
}

// refusals counts decisions that were not Accept: with random senders over
// 100,000 tenants none should cross a limit, so any is reported.
type refusals struct {
	mu    sync.Mutex
	n     int
	first policy.Decision
}

func (r *refusals) note(d policy.Decision) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		r.first = d
	}
	r.n++
}

func report(b *testing.B, lat []time.Duration, refused *refusals) {
	if refused.n > 0 {
		b.Errorf("%d of %d decisions refused; first: %v", refused.n, len(lat), refused.first)
	}
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		i := int(p*float64(len(lat))+0.5) - 1
		return lat[min(max(i, 0), len(lat)-1)]
	}
	b.ReportMetric(float64(pct(0.50).Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(pct(0.99).Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(lat[len(lat)-1].Nanoseconds()), "max-ns")
}

// BenchmarkSnapshotLoad measures what the directory's refresher does every
// 5 s in the background: read all 100,000 tenants and their verified
// domains into a new snapshot. It competes with decisions for the CPU, so
// it is what shows in their tail. Run it with a small -benchtime (5x).
func BenchmarkSnapshotLoad(b *testing.B) {
	e := setup(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, err := directory.Open(ctx, e.db) // migrations are up to date: Open is one snapshot load
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		d.Close()
		b.StartTimer()
	}
}

func deletePrefix(c *redis.Client, prefix string) {
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) == 1000 {
			c.Del(ctx, keys...)
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		c.Del(ctx, keys...)
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func removeDB(path string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
}

// feedbackOf is the delivery feedback source the engine reads; BENCH_NO_FEEDBACK=1 leaves it out (to measure its cost).
func feedbackOf(c counters.Counter) policy.FeedbackSource {
	if os.Getenv("BENCH_NO_FEEDBACK") != "" {
		return nil
	}
	return feedback.NewSource(c, 0, quiet)
}
