package classify

import (
	"log/slog"
	"time"

	"github.com/tollgate-mail/tollgate/counters"
)

// Caps bound the work done on one message, so a hostile message (a 50 MB
// line, 100 levels of multipart nesting, a huge base64 part, an HTML bomb)
// costs bounded time and memory. Exceeding a cap is not an error: the engine
// scores what it read and says so in a reason (TRUNCATED, MIME_LIMIT).
type Caps struct {
	// MaxScanBytes is how much of Raw is parsed at all.
	MaxScanBytes int
	// MaxDepth is how deep multiparts are followed.
	MaxDepth int
	// MaxParts is how many MIME parts are looked at.
	MaxParts int
	// MaxDecodedBytes is how much decoded text (all text parts together,
	// HTML before tag stripping) is tokenised.
	MaxDecodedBytes int
}

// DefaultCaps are sized so the corpus' largest messages are scanned whole
// while a hostile one costs a few milliseconds at most.
func DefaultCaps() Caps {
	return Caps{
		MaxScanBytes:    1 << 20,
		MaxDepth:        10,
		MaxParts:        100,
		MaxDecodedBytes: 256 << 10,
	}
}

// withDefaults fills zero or negative fields from DefaultCaps.
func (c Caps) withDefaults() Caps {
	d := DefaultCaps()
	if c.MaxScanBytes <= 0 {
		c.MaxScanBytes = d.MaxScanBytes
	}
	if c.MaxDepth <= 0 {
		c.MaxDepth = d.MaxDepth
	}
	if c.MaxParts <= 0 {
		c.MaxParts = d.MaxParts
	}
	if c.MaxDecodedBytes <= 0 {
		c.MaxDecodedBytes = d.MaxDecodedBytes
	}
	return c
}

// Options configure the built-in engine. The zero value is usable: default
// caps, the model's own threshold, no campaign counting.
type Options struct {
	Caps Caps
	// SpamThreshold overrides the model's threshold on Score (0 keeps the
	// model's: chosen at training for a 0.5 % ham false-positive rate, and
	// never below MinThreshold).
	SpamThreshold float64
	// BulkThreshold is the bulk level from which a message that is not spam
	// gets the bulk verdict (default 5).
	BulkThreshold int
	// Campaigns, when set, counts each tenant's recipients per content
	// fingerprint, so the same content sent to many recipients scores higher.
	Campaigns counters.Counter
	// CampaignWindow is the window of those counts (default 1 hour).
	CampaignWindow time.Duration
	// CampaignRecipients is the count of recipients within the window from
	// which the content counts as a campaign (default 200).
	CampaignRecipients int64
	// Corrections, when set, are consulted for every message of a tenant
	// with a fingerprint: an admin's "not spam" or "spam" on similar
	// content overrides the model's verdict (with a CORRECTED_ reason).
	Corrections Corrections
	// Logger receives warnings (a failing campaign counter); default
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock for campaign counts (default time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	o.Caps = o.Caps.withDefaults()
	if o.BulkThreshold <= 0 {
		o.BulkThreshold = 5
	}
	if o.CampaignWindow <= 0 {
		o.CampaignWindow = time.Hour
	}
	if o.CampaignRecipients <= 0 {
		o.CampaignRecipients = 200
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
