package dkim

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/tollgate-mail/tollgate/queue"
)

// Transport signs each tenant message on its way out and hands it to Next.
// A message is signed when its header From domain is a verified domain of
// the tenant that sent it and that domain has active keys (seen in DNS):
// with every active key, so an Ed25519 and an RSA signature, since many
// receivers verify only RSA. Signing at delivery, after the spool, covers
// every header Tollgate added at acceptance.
//
// A message that cannot be signed (its keys do not open, its header does
// not parse) goes unsigned, with an error in the log: a missing signature
// costs the tenant less than mail held back.
type Transport struct {
	Next queue.Transport
	Keys *Store
	// Owns reports whether domain is a verified domain of the tenant
	// (directory.IsVerifiedDomain).
	Owns func(tenantID int64, domain string) bool
	Log  *slog.Logger
}

// Deliver implements queue.Transport.
func (t *Transport) Deliver(ctx context.Context, d *queue.Delivery) []queue.Result {
	if d.TenantID != 0 && d.Kind != "dsn" {
		signed, err := t.sign(ctx, d)
		if err != nil && t.Log != nil {
			t.Log.Error("DKIM signing failed; delivering unsigned", "queue_id", d.ID, "tenant_id", d.TenantID, "err", err)
		}
		if signed != nil {
			d = signed
		}
	}
	return t.Next.Deliver(ctx, d)
}

// sign returns d with its signatures on top, or nil when it is not to be
// signed.
func (t *Transport) sign(ctx context.Context, d *queue.Delivery) (*queue.Delivery, error) {
	domain, err := FromDomain(io.NewSectionReader(d.Body, 0, d.Size))
	if errors.Is(err, errNoFrom) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if t.Owns != nil && !t.Owns(d.TenantID, domain) {
		return nil, nil
	}
	keys, err := t.Keys.signingKeys(ctx, d.TenantID, domain)
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	sigs, err := signatures(io.NewSectionReader(d.Body, 0, d.Size), domain, keys)
	if err != nil {
		return nil, err
	}
	out := *d
	head := []byte(sigs)
	out.Size = d.Size + int64(len(head))
	out.Body = io.NewSectionReader(prefixed{head: head, rest: d.Body}, 0, out.Size)
	return &out, nil
}

// prefixed reads head, then rest, without copying the message.
type prefixed struct {
	head []byte
	rest io.ReaderAt
}

func (p prefixed) ReadAt(b []byte, off int64) (int, error) {
	n := 0
	if off < int64(len(p.head)) {
		n = copy(b, p.head[off:])
		if n == len(b) {
			return n, nil
		}
	}
	m, err := p.rest.ReadAt(b[n:], off+int64(n)-int64(len(p.head)))
	return n + m, err
}
