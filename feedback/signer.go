package feedback

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Signer tags Feedback-IDs with a keyed hash of the tenant id, so that a
// complaint report counts against a tenant only if its original carries a
// Feedback-ID this installation wrote. Without it anyone could mail the
// feedback address a made-up report naming a tenant number and push that
// tenant towards a pause. The tag is the same for all of a tenant's mail
// (mailbox providers group complaint statistics by each field, and a
// per-message value would defeat that), so someone who received a
// tenant's mail can still complain about it — which is what a complaint is.
//
// The key is the installation's secret "feedback-id" in the store, so every
// node of a fleet writes and accepts the same tags.
type Signer struct{ key []byte }

// NewSigner returns a Signer with key (at least 16 bytes).
func NewSigner(key []byte) *Signer { return &Signer{key: append([]byte(nil), key...)} }

// Tag is the tenant's tag: 16 hex digits of HMAC-SHA256(key, id).
func (s *Signer) Tag(tenantID int64) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("feedback-id:" + strconv.FormatInt(tenantID, 10)))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// ID is the Feedback-ID for a message of the tenant that came in as kind.
func (s *Signer) ID(tenantID int64, kind string) FeedbackID {
	return FeedbackID{TenantID: tenantID, Kind: kind, Tag: s.Tag(tenantID)}
}

// Verify reports whether f carries the tag this installation writes for
// its tenant.
func (s *Signer) Verify(f FeedbackID) bool {
	return hmac.Equal([]byte(f.Tag), []byte(s.Tag(f.TenantID)))
}
