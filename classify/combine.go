package classify

import (
	"context"
	"errors"
	"log/slog"
	"sync"
)

// Fallback asks Primary and, when it fails (rspamd down, slow or
// answering nonsense), Secondary, so mail is never left unclassified
// because one engine is out. The fallback is logged and shown in the
// result: Engine says which engine answered and an ENGINE_FALLBACK reason
// carries the primary's error.
type Fallback struct {
	Primary, Secondary Classifier
	Logger             *slog.Logger // default slog.Default()
}

func (f Fallback) Classify(ctx context.Context, in Input) (Result, error) {
	r, err := f.Primary.Classify(ctx, in)
	if err == nil {
		return r, nil
	}
	if ctx.Err() != nil {
		return Result{}, err // the caller gave up: no time for a second engine
	}
	logger(f.Logger).Warn("classify: primary engine failed, using the fallback", "err", err)
	r2, err2 := f.Secondary.Classify(ctx, in)
	if err2 != nil {
		return Result{}, errors.Join(err, err2)
	}
	return withFallbackReason(r2, err), nil
}

func withFallbackReason(r Result, err error) Result {
	r.Reasons = append(r.Reasons, Reason{Name: "ENGINE_FALLBACK: " + err.Error(), Weight: 0})
	return r
}

// Both asks both engines at once and keeps the more severe verdict (spam
// over clean), with that engine's score and reasons first and the other's
// after them; the bulk level is the higher, and the message is bulk if
// either engine says so. If one engine
// fails, the other's result stands (with an ENGINE_FALLBACK reason); only
// both failing is an error. Use it to run rspamd beside the built-in
// engine, so neither alone can let spam through.
type Both struct {
	A, B   Classifier
	Logger *slog.Logger // default slog.Default()
}

func (b Both) Classify(ctx context.Context, in Input) (Result, error) {
	var ra, rb Result
	var ea, eb error
	var wg sync.WaitGroup
	wg.Go(func() { rb, eb = b.B.Classify(ctx, in) })
	ra, ea = b.A.Classify(ctx, in)
	wg.Wait()
	switch {
	case ea != nil && eb != nil:
		return Result{}, errors.Join(ea, eb)
	case ea != nil:
		logger(b.Logger).Warn("classify: engine failed, using the other", "err", ea)
		return withFallbackReason(rb, ea), nil
	case eb != nil:
		logger(b.Logger).Warn("classify: engine failed, using the other", "err", eb)
		return withFallbackReason(ra, eb), nil
	}
	first, second := ra, rb
	// An admin's correction of this content wins; otherwise the more
	// severe verdict.
	if rb.Corrected && !ra.Corrected || !ra.Corrected && severity(rb.Verdict) > severity(ra.Verdict) {
		first, second = rb, ra
	}
	out := first
	out.Engine = ra.Engine + "+" + rb.Engine
	out.Bulk = max(ra.Bulk, rb.Bulk)
	out.IsBulk = ra.IsBulk || rb.IsBulk
	out.Reasons = append(append([]Reason(nil), first.Reasons...), prefixed(second.Engine, second.Reasons)...)
	if out.Fingerprint == "" {
		out.Fingerprint = second.Fingerprint
	}
	if len(out.Tokens) == 0 {
		out.Tokens = second.Tokens
	}
	return out, nil
}

func severity(v Verdict) int {
	switch v {
	case Spam:
		return 2
	case Bulk:
		return 1
	}
	return 0
}

// prefixed names another engine's reasons after it, since their weights are
// in that engine's units.
func prefixed(engine string, rs []Reason) []Reason {
	out := make([]Reason, len(rs))
	for i, r := range rs {
		out[i] = Reason{Name: engine + ":" + r.Name, Weight: r.Weight}
	}
	return out
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
