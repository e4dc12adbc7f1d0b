package classify

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/counters"
)

// The campaign fingerprint is a MinHash of the body's word 3-shingles, cut
// into bands. Two messages whose shingle sets overlap by a Jaccard
// similarity s share at least one band with probability 1-(1-s^4)^4: 0.88
// at s=0.8, 0.99 at s=0.9. So the same template with the names, numbers and
// links changed still matches, while unrelated mail does not.
const (
	numMins     = 16 // MinHash values
	bandRows    = 4  // values per band
	numBands    = numMins / bandRows
	minShingles = 8 // fewer shingles (about ten words) is too little text to call a campaign
)

// fingerprinter accumulates the MinHash of a body's shingles as the
// tokenizer emits words.
type fingerprinter struct {
	mins         [numMins]uint64
	shingles     int
	prev1, prev2 uint64
}

func (f *fingerprinter) reset() {
	*f = fingerprinter{}
	for i := range f.mins {
		f.mins[i] = math.MaxUint64
	}
}

// word adds a body word. Words with digits are skipped: they are the
// amounts, dates and ids a template fills in.
func (f *fingerprinter) word(w []byte) {
	for _, c := range w {
		if '0' <= c && c <= '9' {
			return
		}
	}
	h := uint64(14695981039346656037)
	for _, c := range w {
		h = (h ^ uint64(c)) * 1099511628211
	}
	if f.prev2 != 0 {
		s := mix64(f.prev2*31 + f.prev1*7 + h)
		f.shingles++
		// k hash functions from two by double hashing: h_i = a + i*b.
		a, b := s, mix64(s^0x9e3779b97f4a7c15)|1
		for i := range f.mins {
			if v := a + uint64(i)*b; v < f.mins[i] {
				f.mins[i] = v
			}
		}
	}
	f.prev2, f.prev1 = f.prev1, h
}

// bands returns the band keys, or nil when the text is too short.
func (f *fingerprinter) bands() []string {
	if f.shingles < minShingles {
		return nil
	}
	out := make([]string, numBands)
	var buf [8 * bandRows]byte
	for b := range numBands {
		for r := range bandRows {
			binary.LittleEndian.PutUint64(buf[8*r:], f.mins[b*bandRows+r])
		}
		h := uint64(14695981039346656037)
		for _, c := range buf {
			h = (h ^ uint64(c)) * 1099511628211
		}
		out[b] = hex.EncodeToString(binary.BigEndian.AppendUint32(nil, uint32(h^h>>32)))
	}
	return out
}

// mix64 is the SplitMix64 finaliser: spreads the bits of a weak hash.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// campaignTimeout bounds the campaign counting of one message.
const campaignTimeout = 250 * time.Millisecond

// campaignCount adds the message's recipients to each band's count for the
// tenant and returns the largest count: the recipients this tenant sent
// similar content to within the window, this message included.
func campaignCount(ctx context.Context, c counters.Counter, tenant string, bands []string, recipients int, window time.Duration, now time.Time) (int64, error) {
	// The counts are a hint, not the verdict: a slow counter store must
	// not hold the SMTP client, so they get a short deadline of their own.
	ctx, cancel := context.WithTimeout(ctx, campaignTimeout)
	defer cancel()
	var most int64
	n := int64(max(recipients, 1))
	for _, b := range bands {
		key := "classify:campaign:" + tenant + ":" + b
		total, err := c.Add(ctx, key, n, window, now)
		if err != nil {
			return 0, fmt.Errorf("counting campaign %s: %w", b, err)
		}
		most = max(most, total)
	}
	return most, nil
}

// campaignWeight is the score added for a campaign of count recipients
// against a threshold: 1 at the threshold, half a point more per doubling,
// at most 2. Volume alone marks mail bulk (the bulk level); it tips only
// content that is already doubtful into spam, so a clean newsletter to
// many recipients is bulk, not spam.
func campaignWeight(count, threshold int64) float64 {
	return min(2, 1+0.5*math.Log2(float64(count)/float64(threshold)))
}

// joinBands is the fingerprint as shown: the band keys joined with dashes.
func joinBands(b []string) string { return strings.Join(b, "-") }
