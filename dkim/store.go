package dkim

import (
	"context"
	"crypto"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/store"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// ErrPending refuses a rotation or an upload while a newer generation is
// still waiting to be seen in DNS: publish (or check) that one first.
var ErrPending = errors.New("a new key is already waiting to be seen in DNS")

// ErrInvalid wraps what is wrong with an uploaded key or a selector.
var ErrInvalid = errors.New("invalid")

// ErrNoKeys says the domain has no DKIM keys yet.
var ErrNoKeys = errors.New("the domain has no DKIM keys")

// Store keeps the keys in the shared database, so every node of a fleet
// signs with the same ones.
type Store struct {
	db    *store.DB
	seal  *sealer
	audit *audit.Log
	now   func() time.Time
	ttl   time.Duration

	mu    sync.Mutex
	cache map[cacheKey]cached
}

type cacheKey struct {
	tenant int64
	domain string
}

type cached struct {
	at   time.Time
	keys []signingKey
}

// signingKey is an active key with its private half, ready to sign.
type signingKey struct {
	selector string
	signer   crypto.Signer
}

// Options configures Open.
type Options struct {
	// Key is the installation's 32-byte DKIM key (LoadKey).
	Key []byte
	// Audit records every key change; nil records none (tests).
	Audit *audit.Log
	// Refresh is how long a node signs with the keys it read before it
	// reads them again (another node may have rotated them); 30s if zero.
	Refresh time.Duration
	Now     func() time.Time
}

// Open applies the migrations and returns the store.
func Open(ctx context.Context, db *store.DB, o Options) (*Store, error) {
	z, err := newSealer(o.Key)
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(migrations, "migrations/"+db.Dialect)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, "dkim", sub); err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	s := &Store{db: db, seal: z, audit: o.Audit, now: o.Now, ttl: o.Refresh, cache: map[cacheKey]cached{}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.ttl <= 0 {
		s.ttl = 30 * time.Second
	}
	return s, nil
}

const keyColumns = `id, tenant_id, domain, selector, generation, algorithm, public_key, origin, state, created_at, active_at, retired_at`

// Keys lists a domain's keys, newest generation first.
func (s *Store) Keys(ctx context.Context, tenantID int64, domain string) ([]Key, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT `+keyColumns+` FROM dkim_keys WHERE tenant_id = $1 AND domain = $2
		ORDER BY generation DESC, algorithm`, tenantID, normDomain(domain))
	if err != nil {
		return nil, fmt.Errorf("dkim: keys of %s: %w", domain, err)
	}
	defer rows.Close()
	return scanKeys(rows)
}

type scanner interface {
	Next() bool
	Scan(...any) error
	Err() error
}

func scanKeys(rows scanner) ([]Key, error) {
	var out []Key
	for rows.Next() {
		var k Key
		var created int64
		var active, retired sql.NullInt64
		if err := rows.Scan(&k.ID, &k.TenantID, &k.Domain, &k.Selector, &k.Generation, &k.Algorithm, &k.PublicKey,
			&k.Origin, &k.State, &created, &active, &retired); err != nil {
			return nil, fmt.Errorf("dkim: scan key: %w", err)
		}
		k.CreatedAt = time.Unix(0, created).UTC()
		if active.Valid {
			k.ActiveAt = time.Unix(0, active.Int64).UTC()
		}
		if retired.Valid {
			k.RetiredAt = time.Unix(0, retired.Int64).UTC()
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// Ensure gives a verified domain its first keys (an Ed25519 and an
// RSA-2048 key, generation 1, pending until seen in DNS) unless it has
// keys already. It is safe to call from several nodes at once.
func (s *Store) Ensure(ctx context.Context, tenantID int64, domain, actor string) (keys []Key, created bool, err error) {
	domain = normDomain(domain)
	// Every node's sweep calls this for every verified domain: read first,
	// and make keys (an RSA key takes a while) only for a domain without.
	if keys, err := s.Keys(ctx, tenantID, domain); err != nil || len(keys) > 0 {
		return keys, false, err
	}
	signers, err := generate()
	if err != nil {
		return nil, false, err
	}
	err = s.write(ctx, tenantID, domain, func(tx *sql.Tx, existing []Key) error {
		if len(existing) > 0 {
			keys, created = existing, false
			return nil
		}
		keys, err = s.insert(ctx, tx, tenantID, domain, 1, signers, nil, "generated")
		if err != nil {
			return err
		}
		created = true
		return s.record(ctx, tx, actor, tenantID, "dkim.generate", domain, nil, keys)
	})
	return keys, created, err
}

// Rotate starts a new generation beside the active one: the tenant
// publishes its records, and once Check sees them it signs with them and
// retires the old generation.
func (s *Store) Rotate(ctx context.Context, tenantID int64, domain, actor string) ([]Key, error) {
	domain = normDomain(domain)
	signers, err := generate()
	if err != nil {
		return nil, err
	}
	var keys []Key
	err = s.write(ctx, tenantID, domain, func(tx *sql.Tx, existing []Key) error {
		gen, err := nextGeneration(existing)
		if err != nil {
			return err
		}
		keys, err = s.insert(ctx, tx, tenantID, domain, gen, signers, nil, "generated")
		if err != nil {
			return err
		}
		return s.record(ctx, tx, actor, tenantID, "dkim.rotate", domain, nil, keys)
	})
	return keys, err
}

// Upload adds the tenant's own private key as a new generation, used like
// a rotation: it signs once its record is seen. selector "" picks one.
func (s *Store) Upload(ctx context.Context, tenantID int64, domain, pemData, selector, actor string) (Key, error) {
	domain = normDomain(domain)
	signer, err := ParsePrivateKeyPEM([]byte(pemData))
	if err != nil {
		return Key{}, fmt.Errorf("%w key: %v", ErrInvalid, err)
	}
	if selector != "" {
		if err := ValidSelector(selector); err != nil {
			return Key{}, fmt.Errorf("%w selector: %v", ErrInvalid, err)
		}
	}
	var keys []Key
	err = s.write(ctx, tenantID, domain, func(tx *sql.Tx, existing []Key) error {
		gen, err := nextGeneration(existing)
		if err != nil {
			return err
		}
		for _, k := range existing {
			if k.Selector == selector {
				return fmt.Errorf("%w selector: %q is already used by generation %d of %s: choose another", ErrInvalid, selector, k.Generation, domain)
			}
		}
		var names []string
		if selector != "" {
			names = []string{selector}
		}
		keys, err = s.insert(ctx, tx, tenantID, domain, gen, []crypto.Signer{signer}, names, "uploaded")
		if err != nil {
			return err
		}
		return s.record(ctx, tx, actor, tenantID, "dkim.upload", domain, nil, keys)
	})
	if err != nil {
		return Key{}, err
	}
	return keys[0], nil
}

// activate makes generation gen the signing one and retires every older
// active generation.
func (s *Store) activate(ctx context.Context, tenantID int64, domain string, gen int, actor string) error {
	err := s.write(ctx, tenantID, domain, func(tx *sql.Tx, existing []Key) error {
		var before []Key
		for _, k := range existing {
			if k.State != Retired {
				before = append(before, k)
			}
		}
		now := s.now().UnixNano()
		if _, err := tx.ExecContext(ctx, `UPDATE dkim_keys SET state = 'active', active_at = $1
			WHERE tenant_id = $2 AND domain = $3 AND generation = $4 AND state = 'pending'`, now, tenantID, domain, gen); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE dkim_keys SET state = 'retired', retired_at = $1
			WHERE tenant_id = $2 AND domain = $3 AND generation < $4 AND state <> 'retired'`, now, tenantID, domain, gen); err != nil {
			return err
		}
		after, err := keysTx(ctx, tx, tenantID, domain)
		if err != nil {
			return err
		}
		return s.record(ctx, tx, actor, tenantID, "dkim.activate", domain, before, after)
	})
	s.forget(tenantID, domain)
	return err
}

// write runs fn in a transaction that holds the domain's key lock and sees
// its current keys.
func (s *Store) write(ctx context.Context, tenantID int64, domain string, fn func(*sql.Tx, []Key) error) error {
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.db.Lock(ctx, tx, fmt.Sprintf("dkim:%d:%s", tenantID, domain)); err != nil {
			return err
		}
		existing, err := keysTx(ctx, tx, tenantID, domain)
		if err != nil {
			return err
		}
		return fn(tx, existing)
	})
	if err != nil {
		return fmt.Errorf("dkim: %s: %w", domain, err)
	}
	return nil
}

func keysTx(ctx context.Context, tx *sql.Tx, tenantID int64, domain string) ([]Key, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+keyColumns+` FROM dkim_keys WHERE tenant_id = $1 AND domain = $2
		ORDER BY generation DESC, algorithm`, tenantID, domain)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanKeys(rows)
}

func (s *Store) insert(ctx context.Context, tx *sql.Tx, tenantID int64, domain string, gen int, signers []crypto.Signer, names []string, origin string) ([]Key, error) {
	now := s.now()
	var out []Key
	for i, sg := range signers {
		algo, pub, err := describe(sg)
		if err != nil {
			return nil, err
		}
		sel := selectorFor(gen, algo)
		if i < len(names) {
			sel = names[i]
		}
		sealed, err := s.seal.seal(sg, aad(tenantID, domain, sel))
		if err != nil {
			return nil, err
		}
		k := Key{TenantID: tenantID, Domain: domain, Selector: sel, Generation: gen, Algorithm: algo, PublicKey: pub,
			Origin: origin, State: Pending, CreatedAt: now.UTC()}
		if err := tx.QueryRowContext(ctx, `INSERT INTO dkim_keys (tenant_id, domain, selector, generation, algorithm, public_key,
			private_sealed, origin, state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			tenantID, domain, sel, gen, algo, pub, sealed, origin, Pending, now.UnixNano()).Scan(&k.ID); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// record appends an audit entry in the same transaction as the change.
func (s *Store) record(ctx context.Context, tx *sql.Tx, actor string, tenantID int64, action, domain string, before, after []Key) error {
	if s.audit == nil {
		return nil
	}
	if actor == "" {
		actor = "system"
	}
	e := audit.Entry{Actor: actor, TenantID: tenantID, Action: action, Target: "domain:" + domain}
	if before != nil {
		e.Before, _ = json.Marshal(auditView(before))
	}
	if after != nil {
		e.After, _ = json.Marshal(auditView(after))
	}
	_, err := s.audit.AppendTx(ctx, tx, e)
	return err
}

// auditView is what the audit log keeps of keys: never a private key.
func auditView(keys []Key) []map[string]any {
	out := []map[string]any{}
	for _, k := range keys {
		out = append(out, map[string]any{"selector": k.Selector, "algorithm": k.Algorithm, "generation": k.Generation,
			"state": k.State, "origin": k.Origin})
	}
	return out
}

func nextGeneration(existing []Key) (int, error) {
	if len(existing) == 0 {
		return 1, nil
	}
	for _, k := range existing {
		if k.State == Pending {
			return 0, fmt.Errorf("%w (selector %s): publish it and check, then rotate again", ErrPending, k.Selector)
		}
	}
	return existing[0].Generation + 1, nil // newest first
}

func generate() ([]crypto.Signer, error) {
	var out []crypto.Signer
	for _, algo := range []string{Ed25519, RSA} {
		k, err := newKey(algo)
		if err != nil {
			return nil, fmt.Errorf("dkim: generate %s key: %w", algo, err)
		}
		out = append(out, k)
	}
	return out, nil
}

func aad(tenantID int64, domain, selector string) string {
	return fmt.Sprintf("tollgate-dkim:%d:%s:%s", tenantID, domain, selector)
}

func normDomain(d string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
}

// signingKeys returns the active keys of a domain with their private
// halves, from a cache refreshed every Refresh.
func (s *Store) signingKeys(ctx context.Context, tenantID int64, domain string) ([]signingKey, error) {
	ck := cacheKey{tenantID, domain}
	s.mu.Lock()
	c, ok := s.cache[ck]
	s.mu.Unlock()
	if ok && s.now().Sub(c.at) < s.ttl {
		return c.keys, nil
	}
	rows, err := s.db.Read.QueryContext(ctx, `SELECT selector, private_sealed FROM dkim_keys
		WHERE tenant_id = $1 AND domain = $2 AND state = 'active' ORDER BY algorithm`, tenantID, domain)
	if err != nil {
		return nil, fmt.Errorf("dkim: signing keys of %s: %w", domain, err)
	}
	defer rows.Close()
	var keys []signingKey
	for rows.Next() {
		var sel, sealed string
		if err := rows.Scan(&sel, &sealed); err != nil {
			return nil, err
		}
		sg, err := s.seal.open(sealed, aad(tenantID, domain, sel))
		if err != nil {
			return nil, fmt.Errorf("dkim: key %s of %s: %w", sel, domain, err)
		}
		keys = append(keys, signingKey{selector: sel, signer: sg})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.cache[ck] = cached{at: s.now(), keys: keys}
	s.mu.Unlock()
	return keys, nil
}

func (s *Store) forget(tenantID int64, domain string) {
	s.mu.Lock()
	delete(s.cache, cacheKey{tenantID, domain})
	s.mu.Unlock()
}
