package classify

import (
	"context"
	"errors"
	"strings"
	"testing"
)

var spamMsg = msg([]string{
	"From: Great Offers <deals@sendgreatoffers.example>",
	"To: someone@example.org",
	"Subject: FREE!!! Make $$$ FAST - limited time offer",
	"MIME-Version: 1.0",
	"Content-Type: text/html; charset=us-ascii",
}, `<html><body><p>Dear friend, you have been selected to receive a FREE offer!</p>
<p>Make money fast from home. Click here to claim your cash prize now. 100% guaranteed, no risk,
order now and save. To be removed from our mailing list click <a href="http://192.0.2.7/remove">here</a>.</p>
<img src="http://192.0.2.7/a.gif"><img src="http://192.0.2.7/b.gif"><img src="http://192.0.2.7/c.gif">
</body></html>`)

var hamMsg = msg([]string{
	"From: Alice Example <alice@example.org>",
	"To: bob@example.org",
	"Subject: Re: build failure on the test machine",
	"Message-ID: <1234@example.org>",
	"Content-Type: text/plain; charset=utf-8",
}, `Bob wrote:
> the build fails with a missing header file

I think the package was upgraded yesterday; the patch I sent to the list
should fix it. Can you rebuild with the latest version from CVS and tell me
whether the error is still there? I'll look at the logs tomorrow morning.

Thanks,
Alice
`)

func TestClassifyVerdicts(t *testing.T) {
	e := defaultEngine(t)
	spam := classifyOK(t, e, Input{Raw: spamMsg, Recipients: 1})
	if spam.Verdict != Spam || spam.Engine != "builtin" {
		t.Errorf("spam sample: %+v", spam)
	}
	ham := classifyOK(t, e, Input{Raw: hamMsg, Recipients: 1})
	if ham.Verdict != Clean {
		t.Errorf("ham sample: %+v", ham)
	}
	if ham.Score >= spam.Score {
		t.Errorf("ham scores %v, not below spam's %v", ham.Score, spam.Score)
	}
	spamWord := false
	for _, r := range spam.Reasons {
		spamWord = spamWord || (strings.HasPrefix(r.Name, "body:") && r.Weight > 0)
	}
	if !hasReason(spam, "rule:LINK_IP") || !spamWord {
		t.Errorf("spam reasons miss the IP-link rule or a spam word: %+v", spam.Reasons)
	}
	// Reasons are ordered largest first (token and rule reasons, then the
	// bulk points).
	var last float64 = 1e9
	for _, r := range spam.Reasons {
		if strings.HasPrefix(r.Name, "bulk:") {
			break
		}
		if w := abs(r.Weight); w > last {
			t.Errorf("reasons out of order: %+v", spam.Reasons)
		} else {
			last = w
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestClassifyScoreIsSumOfFeatures(t *testing.T) {
	// The score is the bias plus each distinct feature's weight once:
	// repeating a word does not add it twice (2 and 3 words fall in the
	// same WORDS_ bucket, so only the repetition differs).
	e := defaultEngine(t)
	one := msg([]string{"Subject: hello"}, "viagra offer\n")
	many := msg([]string{"Subject: hello"}, "viagra offer viagra\n")
	a, b := classifyOK(t, e, Input{Raw: one}), classifyOK(t, e, Input{Raw: many})
	if a.Score != b.Score {
		t.Errorf("a repeated word changed the score: %v vs %v", a.Score, b.Score)
	}
}

func TestClassifyErrors(t *testing.T) {
	e := defaultEngine(t)
	if _, err := e.Classify(context.Background(), Input{}); err == nil {
		t.Error("an empty message must be an error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Classify(ctx, Input{Raw: hamMsg}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestClassifyThresholdOption(t *testing.T) {
	e := neverSpam(t)
	if r := classifyOK(t, e, Input{Raw: spamMsg}); r.Verdict == Spam {
		t.Errorf("a threshold above every score still says spam: %+v", r)
	}
}

func TestClassifyConcurrent(t *testing.T) {
	// Pooled scorers must not leak state between concurrent calls.
	e := defaultEngine(t)
	want := map[bool]Result{true: classifyOK(t, e, Input{Raw: spamMsg}), false: classifyOK(t, e, Input{Raw: hamMsg})}
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 50 {
				spam := (g+i)%2 == 0
				raw := hamMsg
				if spam {
					raw = spamMsg
				}
				r, err := e.Classify(context.Background(), Input{Raw: raw})
				if err == nil && (r.Score != want[spam].Score || len(r.Reasons) != len(want[spam].Reasons)) {
					err = errors.New("result differs under concurrency")
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
