package blocks

import (
	"context"
	"fmt"
)

// Block states an operator lists by (AllBlocks).
const (
	StateLive     = "live"     // not released
	StateReleased = "released" // lifted by an operator or an approved request
	StateAll      = ""         // both
)

// AllBlocks lists every tenant's blocks in state (StateLive, StateReleased
// or StateAll), newest first: the operators' view across the fleet. The
// caller searches, sorts and pages the rows; a fleet has far fewer blocks
// than tenants, and the live ones are the snapshot's anyway.
func (s *Store) AllBlocks(ctx context.Context, state string) ([]Block, error) {
	where := ""
	switch state {
	case StateLive:
		where = ` WHERE released_at IS NULL`
	case StateReleased:
		where = ` WHERE released_at IS NOT NULL`
	case StateAll:
	default:
		return nil, fmt.Errorf("list blocks: %w: state %q is not live, released or all", ErrInvalid, state)
	}
	rows, err := s.db.Read.QueryContext(ctx, `SELECT `+blockCols+` FROM tenant_blocks`+where+` ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list blocks: %w", err)
	}
	defer rows.Close()
	out := []Block{}
	for rows.Next() {
		b, err := scanBlock(rows)
		if err != nil {
			return nil, fmt.Errorf("list blocks: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
