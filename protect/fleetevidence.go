package protect

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/counters"
)

// A fleet's nodes share a tenant's recent spam through the counters when
// they are shared (counters.Recents, on Redis): each node pushes the spam
// and bulk it counts to one capped list per tenant, and a block reads the
// list back and merges it with the node's own ring, so its samples and top
// senders are the fleet's, not a third of them. The shared list is best
// effort: pushes run off the message's path and are dropped when too many
// are in flight, and a block whose read fails keeps this node's ring and
// says so in its evidence.
const (
	// pushTimeout bounds one push; a push never delays a decision.
	pushTimeout = 2 * time.Second
	// readTimeout bounds the block's read of the shared list: the block
	// is decided already, the samples must not hold its reply for long.
	readTimeout = time.Second
	// maxPushes is how many pushes may be in flight; past it a push is
	// dropped (the node's own ring still has the message).
	maxPushes = 64
	// warnEvery rate-limits the warning for failed pushes.
	warnEvery = time.Minute
)

// The clip lengths of a shared item's fields: the subject is clipped to 200
// characters at DATA already, the others are bounded by SMTP's line limit;
// clipping here keeps one item under a kilobyte whatever a caller passes.
const (
	clipSubject   = 200
	clipSender    = 320
	clipMessageID = 256
	clipShort     = 128 // connector names, queue IDs
)

// LocalEvidenceNote is the Extra key a block's evidence carries when the
// fleet's shared list could not be read and the samples and top senders
// are the deciding node's only.
const LocalEvidenceNote = "evidence_scope"

// fleetEvidence is the engine's state for the shared list.
type fleetEvidence struct {
	once     sync.Once
	node     string // this engine's random prefix of item IDs
	seq      atomic.Uint64
	slots    chan struct{}
	inflight atomic.Int64 // pushes running (a counter, not a WaitGroup: pushes start while a flush waits)
	lastWarn atomic.Int64 // Unix ns of the last push warning
	dropped  atomic.Int64
}

func (f *fleetEvidence) init() {
	f.once.Do(func() {
		var b [6]byte
		_, _ = rand.Read(b[:])
		f.node = hex.EncodeToString(b[:])
		f.slots = make(chan struct{}, maxPushes)
	})
}

// sharedItem is one remembered message as the shared list holds it.
type sharedItem struct {
	ID        string        `json:"id"`
	At        int64         `json:"at"` // Unix ms
	Sender    string        `json:"sender,omitempty"`
	Connector string        `json:"connector,omitempty"`
	Sample    blocks.Sample `json:"sample"`
}

func evidenceKey(tenant int64) string { return "evidence:t:" + strconv.FormatInt(tenant, 10) }

// clipText cuts s to at most n bytes between characters, never inside one.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func clipSeen(s seen) seen {
	s.sender = clipText(s.sender, clipSender)
	s.connector = clipText(s.connector, clipShort)
	s.sample.Subject = clipText(s.sample.Subject, clipSubject)
	s.sample.Sender = clipText(s.sample.Sender, clipSender)
	s.sample.MessageID = clipText(s.sample.MessageID, clipMessageID)
	s.sample.QueueID = clipText(s.sample.QueueID, clipShort)
	return s
}

// remember keeps a counted message for a block's evidence: in this node's
// ring, and, on shared counters, pushed to the fleet's list in the
// background.
func (e *Engine) remember(tenant int64, window time.Duration, s seen) {
	f := &e.fleet
	f.init()
	s = clipSeen(s)
	s.id = f.node + "-" + strconv.FormatUint(f.seq.Add(1), 36)
	e.recent.add(tenant, s)
	rs, ok := e.Counters.(counters.Recents)
	if !ok {
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // Message-IDs are all '<' and '>': kept as one byte each
	if err := enc.Encode(sharedItem{ID: s.id, At: s.at.UnixMilli(), Sender: s.sender, Connector: s.connector, Sample: s.sample}); err != nil {
		return // plain strings and numbers: cannot fail
	}
	item := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	select {
	case f.slots <- struct{}{}:
	default:
		if f.dropped.Add(1); e.warnPush() {
			e.log().Warn("protect: too many evidence pushes in flight; dropped one (this node's ring keeps it)", "tenant", tenant, "dropped", f.dropped.Load())
		}
		return
	}
	f.inflight.Add(1)
	go func() {
		defer func() { <-f.slots; f.inflight.Add(-1) }()
		ctx, cancel := context.WithTimeout(context.Background(), pushTimeout)
		defer cancel()
		// The list expires a window after the last push (plus a minute
		// for clock skew between nodes): a block reads one window back.
		if err := rs.PushRecent(ctx, evidenceKey(tenant), item, ringSize, window+time.Minute); err != nil && e.warnPush() {
			e.log().Warn("protect: push a message to the fleet's block evidence; a block will show what this node kept", "tenant", tenant, "err", err)
		}
	}()
}

// warnPush reports whether a push warning is due (at most one a minute).
func (e *Engine) warnPush() bool {
	now := time.Now().UnixNano()
	last := e.fleet.lastWarn.Load()
	return now-last >= int64(warnEvery) && e.fleet.lastWarn.CompareAndSwap(last, now)
}

// FlushEvidence waits until no push is in flight, or ctx ends: before the
// counters close, and in tests that read the list.
func (e *Engine) FlushEvidence(ctx context.Context) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for e.fleet.inflight.Load() > 0 {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// recentEvidence is the tenant's remembered messages newer than since,
// newest first, at most ringSize: the fleet's shared list merged with this
// node's ring (which holds pushes still in flight), or this node's ring
// alone, with a note saying so, when the shared list cannot be read.
func (e *Engine) recentEvidence(ctx context.Context, tenant int64, since time.Time) (out []seen, note string) {
	local := e.recent.since(tenant, since)
	rs, ok := e.Counters.(counters.Recents)
	if !ok {
		return local, ""
	}
	items, err := readRecent(ctx, rs, evidenceKey(tenant))
	if err != nil {
		e.log().Warn("protect: read the fleet's block evidence; the block shows this node's samples only", "tenant", tenant, "err", err)
		return local, "this node's samples and senders only: the fleet's shared evidence could not be read"
	}
	byID := make(map[string]bool, len(local)+len(items))
	for _, s := range local {
		byID[s.id] = true
	}
	out = local
	for _, raw := range items {
		var it sharedItem
		if json.Unmarshal(raw, &it) != nil || it.ID == "" || byID[it.ID] {
			continue // another version's item, or one this node has
		}
		byID[it.ID] = true
		s := clipSeen(seen{id: it.ID, at: time.UnixMilli(it.At), sender: it.Sender, connector: it.Connector, sample: it.Sample})
		if s.at.After(since) {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b seen) int { return b.at.Compare(a.at) })
	if len(out) > ringSize {
		out = out[:ringSize]
	}
	return out, ""
}

// readRecent reads the shared list within readTimeout whatever the client
// does: the read runs on its own goroutine, and is given up (and cancelled)
// at the bound. A client's own timeouts do not cover everything (a new
// connection's handshake to a hung server took five seconds in the test).
func readRecent(ctx context.Context, rs counters.Recents, key string) ([][]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	type result struct {
		items [][]byte
		err   error
	}
	done := make(chan result, 1)
	go func() {
		items, err := rs.Recent(ctx, key, ringSize)
		done <- result{items, err}
	}()
	select {
	case r := <-done:
		return r.items, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("read the shared evidence: %w", ctx.Err())
	}
}
