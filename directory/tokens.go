package directory

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/password"
)

// TokenScope is what an API token may act on: the operator role (all
// tenants) or one tenant. Exactly one of the two is set.
type TokenScope struct {
	Operator bool
	TenantID int64
}

func (s TokenScope) check() error {
	switch {
	case s.Operator && s.TenantID != 0:
		return fmt.Errorf("scope is operator or tenant, not both (tenant %d)", s.TenantID)
	case !s.Operator && s.TenantID <= 0:
		return errors.New("scope needs the operator role or a tenant")
	}
	return nil
}

// Token is an API token for automation. Its plaintext is shown once, by
// CreateToken.
type Token struct {
	ID        int64
	Name      string
	Scope     TokenScope
	CreatedBy string
	CreatedAt time.Time
	LastUsed  time.Time // zero if never; updated at most once a minute
	// LastUsedFrom is the client address of the use that last wrote
	// LastUsed ("" if unknown): written within seconds when it changes, so
	// a token used from a new address shows it at once.
	LastUsedFrom string
	RevokedAt    time.Time // zero while live
	Kind         string    // KindAPI, KindSignIn or KindSession
	AdminID      int64     // the signed-in admin, for sign-in tickets and sessions
	ExpiresAt    time.Time // zero for API tokens, which never expire
	// Touched is set by AuthenticateToken when this use updated LastUsed
	// (at most once a minute): the moment to record "token used" once,
	// not on every request.
	Touched bool
}

// Token kinds.
const (
	KindAPI     = "api"     // for automation; never expires
	KindSignIn  = "signin"  // between password and second factor; never authenticates a request
	KindSession = "session" // an admin's signed-in session; expires
)

// Live reports whether the token has not been revoked.
func (t Token) Live() bool { return t.RevokedAt.IsZero() }

const (
	tokenPrefix = "tg_"
	// tokenSecretLen symbols of password.Random are about 186 bits.
	tokenSecretLen = 32
	// lastUsedEvery bounds LastUsed writes (tokens, app passwords) to one a
	// minute per credential, so a busy script does not make every request
	// a write.
	lastUsedEvery = time.Minute
	// movedEvery bounds the writes of a token used from changing addresses
	// (two runners sharing it): a new address is recorded within this, not
	// on every request.
	movedEvery = 10 * time.Second
)

// hashTokenSecret returns the hex SHA-256 of a token's secret.
//
// A fast hash is right here, unlike for passwords: the secret is 32 random
// symbols (~186 bits), so even a leaked table cannot be brute-forced
// however fast the hash, and argon2id would cost ~19 MiB and tens of
// milliseconds on every API request, a denial-of-service lever for nothing.
func hashTokenSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateToken makes an API token and returns it with its plaintext
// "tg_<id>_<secret>", which is not stored and cannot be shown again. A
// tenant scope needs an existing tenant (else ErrNotFound).
func (d *Directory) CreateToken(ctx context.Context, by By, name string, scope TokenScope) (Token, string, error) {
	what := fmt.Sprintf("create API token %q", name)
	name, err := checkName(name)
	if err != nil {
		return Token{}, "", invalid(what, err)
	}
	createdBy, err := checkName(by.Actor)
	if err != nil {
		return Token{}, "", invalid(what, fmt.Errorf("created by: %v", err))
	}
	if err := scope.check(); err != nil {
		return Token{}, "", invalid(what, err)
	}
	secret := password.Random(tokenSecretLen)
	t := Token{Name: name, Scope: scope, CreatedBy: createdBy, Kind: KindAPI}
	var created int64
	t.CreatedAt, created = now()
	var tenant sql.NullInt64
	if !scope.Operator {
		tenant = sql.NullInt64{Int64: scope.TenantID, Valid: true}
	}
	err = d.db.Tx(ctx, func(tx *sql.Tx) error {
		if !scope.Operator {
			if _, err := getTenant(ctx, tx, scope.TenantID); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (name, operator, tenant_id, secret_hash, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			name, scope.Operator, tenant, hashTokenSecret(secret), createdBy, created).Scan(&t.ID); err != nil {
			return err
		}
		return by.record(ctx, tx, scope.TenantID, "token.create", fmt.Sprintf("token:%d", t.ID), nil, t)
	})
	if err != nil {
		return Token{}, "", err
	}
	return t, tokenPrefix + strconv.FormatInt(t.ID, 10) + "_" + secret, nil
}

// parseToken splits "tg_<id>_<secret>", or reports false.
func parseToken(s string) (id int64, secret string, ok bool) {
	rest, ok := strings.CutPrefix(s, tokenPrefix)
	if !ok {
		return 0, "", false
	}
	num, secret, ok := strings.Cut(rest, "_")
	if !ok || len(secret) != tokenSecretLen || num == "" || len(num) > 18 || strings.Trim(num, "0123456789") != "" {
		return 0, "", false
	}
	id, err := strconv.ParseInt(num, 10, 64)
	return id, secret, err == nil && id > 0
}

const tokenCols = `id, name, operator, tenant_id, created_by, created_at, last_used, revoked_at, kind, admin_id, expires_at, last_used_from`

func scanToken(row interface{ Scan(...any) error }, extra ...any) (Token, error) {
	var t Token
	var tenant, lastUsed, revoked, adminID, expires sql.NullInt64
	var created int64
	err := row.Scan(append([]any{&t.ID, &t.Name, &t.Scope.Operator, &tenant, &t.CreatedBy, &created, &lastUsed, &revoked,
		&t.Kind, &adminID, &expires, &t.LastUsedFrom}, extra...)...)
	t.Scope.TenantID = tenant.Int64
	t.AdminID = adminID.Int64
	if expires.Valid {
		t.ExpiresAt = fromNanos(expires.Int64)
	}
	t.CreatedAt = fromNanos(created)
	if lastUsed.Valid {
		t.LastUsed = fromNanos(lastUsed.Int64)
	}
	if revoked.Valid {
		t.RevokedAt = fromNanos(revoked.Int64)
	}
	return t, err
}

// AuthenticateToken is AuthenticateTokenFrom with no known client address.
func (d *Directory) AuthenticateToken(ctx context.Context, plaintext string) (Token, error) {
	return d.AuthenticateTokenFrom(ctx, plaintext, "")
}

// AuthenticateTokenFrom returns the live token whose plaintext this is,
// used by a client at address from ("" if unknown). Malformed, unknown,
// forged and revoked tokens all get ErrBadCredentials. It reads the
// database on every call, so a revocation takes effect on the next request
// on every node. LastUsed is written at most once a minute, or within
// seconds when the use comes from another address than the last recorded.
func (d *Directory) AuthenticateTokenFrom(ctx context.Context, plaintext, from string) (Token, error) {
	bad := fmt.Errorf("API token: %w", ErrBadCredentials)
	id, secret, ok := parseToken(plaintext)
	if !ok {
		return Token{}, bad
	}
	var stored string
	t, err := scanToken(d.db.Read.QueryRowContext(ctx, `SELECT `+tokenCols+`, secret_hash FROM api_tokens WHERE id = $1`, id), &stored)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, bad
	}
	if err != nil {
		return Token{}, fmt.Errorf("API token %d: %w", id, err)
	}
	if subtle.ConstantTimeCompare([]byte(hashTokenSecret(secret)), []byte(stored)) != 1 || !t.Live() {
		return Token{}, bad
	}
	// Sign-in tickets only lead to the second factor; expired sessions are done.
	if t.Kind == KindSignIn || (!t.ExpiresAt.IsZero() && !d.clock().Before(t.ExpiresAt)) {
		return Token{}, bad
	}
	at := d.clock()
	moved := from != "" && from != t.LastUsedFrom && at.Sub(t.LastUsed) >= movedEvery
	if at.Sub(t.LastUsed) >= lastUsedEvery || moved {
		if err := d.touchToken(ctx, t.ID, at, from, moved); err != nil {
			return Token{}, fmt.Errorf("API token %d: %w", id, err)
		}
		t.LastUsed = fromNanos(at.UnixNano())
		if from != "" {
			t.LastUsedFrom = from
		}
		t.Touched = true
	}
	return t, nil
}

// touchToken records a token's use at at from address from: like touch,
// at most once a minute, unless moved (the address differs from the one
// stored), which is written after movedEvery.
func (d *Directory) touchToken(ctx context.Context, id int64, at time.Time, from string, moved bool) error {
	return d.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used = $1, last_used_from = CASE WHEN $2 = '' THEN last_used_from ELSE $2 END
			WHERE id = $3 AND (last_used IS NULL OR last_used <= $4 OR ($5 AND last_used_from <> $2 AND last_used <= $6))`,
			at.UnixNano(), from, id, at.Add(-lastUsedEvery).UnixNano(), moved, at.Add(-movedEvery).UnixNano())
		return err
	})
}

// touch sets last_used of one row of table (api_tokens or app_passwords)
// to at, unless another node did so within lastUsedEvery.
func (d *Directory) touch(ctx context.Context, table string, id int64, at time.Time) error {
	return d.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE `+table+` SET last_used = $1 WHERE id = $2 AND (last_used IS NULL OR last_used <= $3)`,
			at.UnixNano(), id, at.Add(-lastUsedEvery).UnixNano())
		return err
	})
}

// Token returns the token with id, revoked or not (ErrNotFound if none), so
// a caller can check its scope before revoking it.
func (d *Directory) Token(ctx context.Context, id int64) (Token, error) {
	t, err := scanToken(d.db.Read.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, fmt.Errorf("API token %d: %w", id, ErrNotFound)
	}
	return t, err
}

// RevokeToken revokes a token at once. Revoking a revoked token is a no-op;
// an unknown id is ErrNotFound. It does not check scope: the caller does
// (see Token).
func (d *Directory) RevokeToken(ctx context.Context, by By, id int64) error {
	_, revoked := now()
	return d.db.Tx(ctx, func(tx *sql.Tx) error {
		before, err := scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("revoke API token %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, revoked, id); err != nil {
			return err
		}
		return by.record(ctx, tx, before.Scope.TenantID, "token.revoke", fmt.Sprintf("token:%d", id), before, nil)
	})
}

// Tokens lists tokens by ID, revoked ones included: for the operator scope
// every token, for a tenant scope that tenant's (ErrNotFound if the tenant
// does not exist).
func (d *Directory) Tokens(ctx context.Context, scope TokenScope) ([]Token, error) {
	if err := scope.check(); err != nil {
		return nil, invalid("list API tokens", err)
	}
	query := `SELECT ` + tokenCols + ` FROM api_tokens WHERE kind <> 'signin' ORDER BY id`
	var args []any
	if !scope.Operator {
		if _, err := d.Tenant(ctx, scope.TenantID); err != nil {
			return nil, fmt.Errorf("list API tokens: %w", err)
		}
		query = `SELECT ` + tokenCols + ` FROM api_tokens WHERE tenant_id = $1 AND kind <> 'signin' ORDER BY id`
		args = append(args, scope.TenantID)
	}
	rows, err := d.db.Read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
