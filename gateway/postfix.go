package gateway

import (
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/postfix"
)

// openPostfix starts the Postfix front ends ([postfix] policy_listen,
// milter_listen) when configured: the same chain, classifier, directory,
// Feedback-ID signer and trace as the SMTP listeners; chain is the one the
// SMTP listeners ask, so a message is judged the same on every front end.
func (g *Gateway) openPostfix(cfg *config.Config, chain policy.Chain) error {
	pc := cfg.Postfix
	if pc.PolicyListen == "" && pc.MilterListen == "" {
		return nil
	}
	var classify postfix.Classifier
	if g.classifier != nil {
		classify = postfix.Classifier(g.classifier)
	}
	g.Postfix = postfix.New(postfix.Options{
		Policy: chain, Directory: g.Directory,
		Classify: classify, ClassifyBytes: cfg.Classify.MaxBytes, FeedbackIDs: g.feedbackIDs,
		HelpURL: cfg.Admin.PublicURL, Trace: g.Trace, Logger: g.log,
	})
	if pc.PolicyListen != "" {
		a, err := g.Postfix.ListenPolicy(pc.PolicyListen)
		if err != nil {
			return err
		}
		g.Addrs[string(postfix.PolicyListener)] = a
	}
	if pc.MilterListen != "" {
		a, err := g.Postfix.ListenMilter(pc.MilterListen)
		if err != nil {
			return err
		}
		g.Addrs[string(postfix.MilterListener)] = a
	}
	return nil
}
