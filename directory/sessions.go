package directory

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tollgate-mail/tollgate/password"
)

// Admin sign-in is two steps on the token table, so it works on any node
// of a fleet: SignIn's password check yields a sign-in ticket (valid
// SignInTTL, good for nothing but the second factor), and the second factor
// turns it into a session token (valid SessionTTL) in one transaction.
const (
	SignInTTL  = 5 * time.Minute
	SessionTTL = 12 * time.Hour
)

// StartSignIn issues the sign-in ticket for an admin whose password SignIn
// accepted.
func (d *Directory) StartSignIn(ctx context.Context, a Admin) (string, error) {
	_, plain, err := d.insertKindToken(ctx, nil, KindSignIn, "signin:"+a.Email, scopeOfAdmin(a), a.ID, "admin:"+a.Email, d.clock().Add(SignInTTL))
	return plain, err
}

// SignInTicket resolves a live, unexpired sign-in ticket to its admin and
// the ticket's id. Anything else is ErrBadCredentials.
func (d *Directory) SignInTicket(ctx context.Context, ticket string) (Admin, int64, error) {
	bad := fmt.Errorf("sign-in ticket: %w", ErrBadCredentials)
	id, secret, ok := parseToken(ticket)
	if !ok {
		return Admin{}, 0, bad
	}
	var stored string
	t, err := scanToken(d.db.Read.QueryRowContext(ctx, `SELECT `+tokenCols+`, secret_hash FROM api_tokens WHERE id = $1`, id), &stored)
	if errors.Is(err, sql.ErrNoRows) {
		return Admin{}, 0, bad
	}
	if err != nil {
		return Admin{}, 0, fmt.Errorf("sign-in ticket %d: %w", id, err)
	}
	if !equalHash(hashTokenSecret(secret), stored) || !t.Live() || t.Kind != KindSignIn || !d.clock().Before(t.ExpiresAt) {
		return Admin{}, 0, bad
	}
	a, err := d.Admin(ctx, t.AdminID)
	if err != nil {
		return Admin{}, 0, bad
	}
	return a, t.ID, nil
}

// IssueSession spends the sign-in ticket and issues the admin's session
// token, in one transaction: a ticket yields one session at most.
func (d *Directory) IssueSession(ctx context.Context, ticketID int64, a Admin) (Token, string, error) {
	var tok Token
	var plain string
	err := d.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND kind = 'signin' AND revoked_at IS NULL`,
			d.clock().UnixNano(), ticketID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("sign-in ticket %d: %w", ticketID, ErrBadCredentials)
		}
		tok, plain, err = d.insertKindToken(ctx, tx, KindSession, "session:"+a.Email, scopeOfAdmin(a), a.ID, "admin:"+a.Email, d.clock().Add(SessionTTL))
		return err
	})
	return tok, plain, err
}

func scopeOfAdmin(a Admin) TokenScope {
	if a.Role == Operator {
		return TokenScope{Operator: true}
	}
	return TokenScope{TenantID: a.TenantID}
}

// insertKindToken adds a token row, in tx if given or in its own
// transaction, and returns it with its plaintext.
func (d *Directory) insertKindToken(ctx context.Context, tx *sql.Tx, kind, name string, scope TokenScope, adminID int64, createdBy string, expires time.Time) (Token, string, error) {
	secret := password.Random(tokenSecretLen)
	t := Token{Name: name, Scope: scope, CreatedBy: createdBy, Kind: kind, AdminID: adminID, ExpiresAt: expires}
	var created int64
	t.CreatedAt, created = now()
	var tenant sql.NullInt64
	if !scope.Operator {
		tenant = sql.NullInt64{Int64: scope.TenantID, Valid: true}
	}
	insert := func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO api_tokens (name, operator, tenant_id, secret_hash, created_by, created_at, kind, admin_id, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			name, scope.Operator, tenant, hashTokenSecret(secret), createdBy, created, kind, adminID, expires.UnixNano()).Scan(&t.ID)
	}
	var err error
	if tx != nil {
		err = insert(tx)
	} else {
		err = d.db.Tx(ctx, insert)
	}
	if err != nil {
		return Token{}, "", fmt.Errorf("issue %s token for admin %d: %w", kind, adminID, err)
	}
	return t, tokenPrefix + strconv.FormatInt(t.ID, 10) + "_" + secret, nil
}

func equalHash(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// RevokeAdminSessions ends every signed-in session of an admin (after a
// password change or an MFA reset: whoever held one must sign in again).
func (d *Directory) RevokeAdminSessions(ctx context.Context, adminID int64) (int64, error) {
	var n int64
	err := d.db.Tx(ctx, func(tx *sql.Tx) (err error) {
		n, err = revokeSessionsTx(ctx, tx, adminID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("revoke sessions of admin %d: %w", adminID, err)
	}
	return n, nil
}

// revokeSessionsTx ends every session of the admin inside tx.
func revokeSessionsTx(ctx context.Context, tx *sql.Tx, adminID int64) (int64, error) {
	_, revoked := now()
	res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE admin_id = $2 AND kind = $3 AND revoked_at IS NULL`,
		revoked, adminID, KindSession)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
