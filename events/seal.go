package events

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// ErrNoKey says the installation has no key to seal a webhook's signing
// secret with, so none can be stored.
var ErrNoKey = errors.New("no installation key to seal the webhook's signing secret with: the operator sets [dkim] key_file or TOLLGATE_DKIM_KEY (the key the DKIM private keys are sealed with)")

// secretAAD binds a sealed secret to its tenant's row: copied to another
// tenant's row it does not open.
func secretAAD(tenantID int64) string {
	return "event_webhooks:" + strconv.FormatInt(tenantID, 10)
}

func (s *Store) sealSecret(tenantID int64, secret string) (string, error) {
	if s.seal == nil {
		return "", ErrNoKey
	}
	return s.seal.Seal([]byte(secret), secretAAD(tenantID))
}

// openSecret returns a row's secret: the sealed one opened, or a plain one
// left by a version before sealing (Open seals those; this reads one a node
// of the older version wrote since).
func (s *Store) openSecret(tenantID int64, plain, sealed string) (string, error) {
	if sealed == "" {
		return plain, nil
	}
	if s.seal == nil {
		return "", fmt.Errorf("events: webhook of tenant %d: %w", tenantID, ErrNoKey)
	}
	b, err := s.seal.Open(sealed, secretAAD(tenantID))
	if err != nil {
		return "", fmt.Errorf("events: webhook secret of tenant %d: %w", tenantID, err)
	}
	return string(b), nil
}

// sealPlain seals the secrets stored in plain text (rows written before
// migration 0002), at start, so none stays readable in the database until
// its webhook is next used; each row's update is conditional on it still
// being plain, so two nodes starting at once seal each row once. Without
// a key it refuses to start when such rows (or sealed ones) exist, naming
// the setting, rather than send with secrets it cannot protect or open.
func (s *Store) sealPlain(ctx context.Context) error {
	type row struct {
		id     int64
		secret string
	}
	rows, err := s.db.Write.QueryContext(ctx, `SELECT tenant_id, secret, secret_sealed FROM event_webhooks`)
	if err != nil {
		return fmt.Errorf("events: seal stored secrets: %w", err)
	}
	var plain []row
	n := 0
	for rows.Next() {
		var r row
		var sealed string
		if err := rows.Scan(&r.id, &r.secret, &sealed); err != nil {
			rows.Close()
			return fmt.Errorf("events: seal stored secrets: %w", err)
		}
		n++
		if sealed == "" {
			plain = append(plain, r)
		} else if s.seal != nil {
			if _, err := s.openSecret(r.id, "", sealed); err != nil {
				rows.Close()
				return err
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("events: seal stored secrets: %w", err)
	}
	if n > 0 && s.seal == nil {
		return fmt.Errorf("events: %d tenant webhooks are stored: %w", n, ErrNoKey)
	}
	for _, r := range plain {
		sealed, err := s.sealSecret(r.id, r.secret)
		if err != nil {
			return err
		}
		if _, err := s.db.Write.ExecContext(ctx, `UPDATE event_webhooks SET secret = '', secret_sealed = $1 WHERE tenant_id = $2 AND secret_sealed = ''`,
			sealed, r.id); err != nil {
			return fmt.Errorf("events: seal the secret of tenant %d: %w", r.id, err)
		}
	}
	return nil
}
