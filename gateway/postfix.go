package gateway

import (
	"context"

	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/postfix"
)

// openPostfix starts the Postfix front ends ([postfix] policy_listen,
// milter_listen) when configured: the same chain, classifier, directory,
// Feedback-ID signer and trace as the SMTP listeners.
func (g *Gateway) openPostfix(cfg *config.Config) error {
	pc := cfg.Postfix
	if pc.PolicyListen == "" && pc.MilterListen == "" {
		return nil
	}
	var classify postfix.Classifier
	if g.classifier != nil {
		classify = postfix.Classifier(g.classifier)
	}
	g.Postfix = postfix.New(postfix.Options{
		Policy: chainPolicy{g.policyChain(cfg)}, Directory: g.Directory,
		Classify: classify, ClassifyBytes: cfg.Classify.MaxBytes, FeedbackIDs: g.feedbackIDs,
		HelpURL: cfg.Admin.PublicURL, Trace: g.Trace, Logger: g.log,
	})
	if pc.PolicyListen != "" {
		a, err := g.Postfix.ListenPolicy(pc.PolicyListen)
		if err != nil {
			return err
		}
		g.Addrs[postfix.PolicyListener] = a
	}
	if pc.MilterListen != "" {
		a, err := g.Postfix.ListenMilter(pc.MilterListen)
		if err != nil {
			return err
		}
		g.Addrs[postfix.MilterListener] = a
	}
	return nil
}

// chainPolicy is the one seam between the Postfix front ends and the
// chain the SMTP front end asks: whatever shape the chain's construction
// takes, the front ends see its three stages only.
type chainPolicy struct{ chain policy.Chain }

func (c chainPolicy) Mail(ctx context.Context, env *policy.Envelope) policy.Decision {
	return c.chain.Mail(ctx, env)
}

func (c chainPolicy) Rcpt(ctx context.Context, env *policy.Envelope, rcpt string) policy.Decision {
	return c.chain.Rcpt(ctx, env, rcpt)
}

func (c chainPolicy) Data(ctx context.Context, env *policy.Envelope, msg *policy.Message) policy.Decision {
	return c.chain.Data(ctx, env, msg)
}
