package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/tollgate-mail/tollgate/password"
)

// AppPassword is a generated password a user gives one mail client or
// device instead of the main password, revocable on its own.
type AppPassword struct {
	ID, UserID int64
	Name       string
	CreatedAt  time.Time
	LastUsed   time.Time // zero if never; updated at most once a minute
	RevokedAt  time.Time // zero while live
}

// Live reports whether the app password has not been revoked.
func (p AppPassword) Live() bool { return p.RevokedAt.IsZero() }

const (
	// MaxAppPasswords is how many live app passwords a user may have. A
	// wrong SMTP password costs one argon2id hash plus one per live app
	// password, so this bounds the cost of every failed login.
	MaxAppPasswords = 20
	// appPasswordLen symbols of password.Random are about 139 bits.
	appPasswordLen = 24
)

// CreateAppPassword generates an app password for the user and returns it
// with its plaintext, which is stored only as an argon2id hash and cannot be
// shown again. An unknown user is ErrNotFound; a user with MaxAppPasswords
// live ones gets ErrConflict.
func (d *Directory) CreateAppPassword(ctx context.Context, by By, userID int64, name string) (AppPassword, string, error) {
	what := fmt.Sprintf("create app password %q for user %d", name, userID)
	name, err := checkName(name)
	if err != nil {
		return AppPassword{}, "", invalid(what, err)
	}
	plain := password.Random(appPasswordLen)
	hash, err := password.HashContext(ctx, plain)
	if err != nil {
		return AppPassword{}, "", fmt.Errorf("%s: %w", what, err)
	}
	p := AppPassword{UserID: userID, Name: name}
	var created int64
	p.CreatedAt, created = now()
	err = d.db.Tx(ctx, func(tx *sql.Tx) error {
		// Count and insert as one step, so concurrent creations on two
		// nodes cannot pass the cap together.
		if err := d.db.Lock(ctx, tx, "directory/app-passwords:"+strconv.FormatInt(userID, 10)); err != nil {
			return err
		}
		var live int
		u, err := getUser(ctx, tx, userID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w: no such user", what, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM app_passwords WHERE user_id = $1 AND revoked_at IS NULL`, userID).Scan(&live); err != nil {
			return err
		}
		if live >= MaxAppPasswords {
			return fmt.Errorf("%s: %w: the user has %d live app passwords, the most allowed; revoke one first", what, ErrConflict, live)
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO app_passwords (user_id, name, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			userID, name, hash, created).Scan(&p.ID); err != nil {
			return err
		}
		return by.record(ctx, tx, u.TenantID, "app_password.create", fmt.Sprintf("user:%d/app_password:%d", userID, p.ID), nil, p)
	})
	if err != nil {
		return AppPassword{}, "", err
	}
	return p, plain, nil
}

// AppPasswords lists the user's app passwords by ID, revoked ones included.
// An unknown user is ErrNotFound.
func (d *Directory) AppPasswords(ctx context.Context, userID int64) ([]AppPassword, error) {
	var n int
	if err := d.db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE id = $1`, userID).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("list app passwords of user %d: %w", userID, ErrNotFound)
	}
	rows, err := d.db.Read.QueryContext(ctx, `SELECT id, user_id, name, created_at, last_used, revoked_at FROM app_passwords WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AppPassword
	for rows.Next() {
		var p AppPassword
		var created int64
		var lastUsed, revoked sql.NullInt64
		if err := rows.Scan(&p.ID, &p.UserID, &p.Name, &created, &lastUsed, &revoked); err != nil {
			return nil, err
		}
		p.CreatedAt = fromNanos(created)
		if lastUsed.Valid {
			p.LastUsed = fromNanos(lastUsed.Int64)
		}
		if revoked.Valid {
			p.RevokedAt = fromNanos(revoked.Int64)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// RevokeAppPassword revokes one of the user's app passwords; the next SMTP
// login with it fails, on every node. Revoking a revoked one is a no-op; an
// id that is not this user's is ErrNotFound.
func (d *Directory) RevokeAppPassword(ctx context.Context, by By, userID, id int64) error {
	_, revoked := now()
	return d.db.Tx(ctx, func(tx *sql.Tx) error {
		var tenantID int64
		err := tx.QueryRowContext(ctx, `SELECT u.tenant_id FROM app_passwords p JOIN users u ON u.id = p.user_id WHERE p.id = $1 AND p.user_id = $2`,
			id, userID).Scan(&tenantID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("revoke app password %d of user %d: %w", id, userID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE app_passwords SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, revoked, id); err != nil {
			return err
		}
		return by.record(ctx, tx, tenantID, "app_password.revoke", fmt.Sprintf("user:%d/app_password:%d", userID, id), nil, nil)
	})
}

// matchAppPassword checks pw against the user's live app passwords and
// returns the id of the one that matched (0 for none). Only a password of the generated length is
// tried, so a mistyped main password costs no more than before; otherwise
// it costs one hash per live app password (at most MaxAppPasswords: the
// LIMIT holds that bound even if the cap were bypassed). The list is read
// on every login, so a revocation counts at once.
func (d *Directory) matchAppPassword(ctx context.Context, userID int64, pw string) (int64, error) {
	if len(pw) != appPasswordLen {
		return 0, nil
	}
	rows, err := d.db.Read.QueryContext(ctx, `SELECT id, password_hash, last_used FROM app_passwords
		WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id LIMIT `+strconv.Itoa(MaxAppPasswords), userID)
	if err != nil {
		return 0, err
	}
	type cand struct {
		id       int64
		hash     string
		lastUsed sql.NullInt64
	}
	var cands []cand
	for rows.Next() {
		var c cand
		if err := rows.Scan(&c.id, &c.hash, &c.lastUsed); err != nil {
			rows.Close()
			return 0, err
		}
		cands = append(cands, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, c := range cands {
		ok, err := password.VerifyContext(ctx, pw, c.hash)
		if errors.Is(err, password.ErrMalformed) {
			slog.Error("directory: unusable app password hash", "user", userID, "app_password", c.id, "err", err)
			continue
		}
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		if at := d.clock(); !c.lastUsed.Valid || at.UnixNano()-c.lastUsed.Int64 >= int64(lastUsedEvery) {
			if err := d.touch(ctx, "app_passwords", c.id, at); err != nil {
				// The login is good; a missed LastUsed is not worth
				// refusing it.
				slog.Warn("directory: record app password use", "app_password", c.id, "err", err)
			}
		}
		return c.id, nil
	}
	return 0, nil
}
