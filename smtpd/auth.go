package smtpd

import (
	"context"
	"crypto/tls"
	"errors"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/metrics"
	"github.com/tollgate-mail/tollgate/policy"
)

var (
	errAuthLocked = &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
		Message: "Too many failed logins for this account; try again later"}
	errAuthIPLocked = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
		Message: "Too many failed logins from your address; closing connection"}
	errAuthInTransaction = &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1},
		Message: "AUTH is not allowed during a mail transaction; send RSET first"}
	errAuthTemp = &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
		Message: "Temporary authentication failure"}
)

// AuthMechanisms implements smtp.AuthSession. go-smtp offers them only after
// TLS (AllowInsecureAuth is off).
func (s *session) AuthMechanisms() []string { return []string{sasl.Plain, sasl.Login} }

// Auth implements smtp.AuthSession.
func (s *session) Auth(mech string) (sasl.Server, error) {
	if s.mail != nil || s.env.From != "" {
		// RFC 4954 4: no AUTH during a mail transaction. Allowing it would
		// let a client pass MAIL FROM unattributed (the relay port) and
		// take a tenant afterwards, skipping every check made at MAIL.
		return nil, errAuthInTransaction
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && identity != username {
				return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8},
					Message: "Authorization identity must match the login"}
			}
			return s.login(username, password)
		}), nil
	case sasl.Login:
		return &loginServer{check: s.login}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// login checks a username and password, with throttling per client
// address and per account that holds across connections and nodes.
func (s *session) login(username, password string) error {
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	ipKey, userKey := ipKey(s.env.ClientIP), userKey(username)
	th := s.srv.throttle
	if b, err := th.blocked(ctx, ipKey); err != nil || b {
		if err != nil {
			s.log.Error("authentication throttle unavailable", "err", err)
			return errAuthTemp
		}
		s.disconnectAfterReply()
		return errAuthIPLocked
	}
	if b, err := th.blocked(ctx, userKey); err != nil || b {
		if err != nil {
			s.log.Error("authentication throttle unavailable", "err", err)
			return errAuthTemp
		}
		return s.refused(errAuthLocked)
	}
	user, tenant, err := s.srv.opts.Directory.Authenticate(ctx, username, password)
	if err != nil {
		if ctx.Err() != nil || !isBadCredentials(err) {
			s.log.Error("authentication backend failed", "err", err)
			return errAuthTemp
		}
		metrics.AuthFailures.Inc()
		n, err := th.fail(ctx, ipKey)
		if err == nil {
			_, err = th.fail(ctx, userKey)
		}
		if err != nil {
			s.log.Error("authentication throttle unavailable", "err", err)
		}
		s.record("auth", "reject", "auth", "bad credentials", "user", username)
		// A delay per failure slows guessing within one connection...
		time.Sleep(s.srv.opts.Limits.AuthFailureDelay.Duration)
		// ...and past the limit the client is cut off.
		if n >= th.max {
			s.disconnectAfterReply()
			return errAuthIPLocked
		}
		return s.refused(smtp.ErrAuthFailed)
	}
	s.env.Attribution = policy.Attribution{
		TenantID: tenant.ID, Tenant: tenant.Name, UserID: user.ID, User: user.Address, Method: policy.MethodAuth,
		AppPasswordID: user.AppPasswordID, ClientIP: s.env.ClientIP,
	}
	s.markAttributed()
	s.record("auth", "accept", "auth", "", "user", user.Address, "tenant", tenant.Name,
		"user_id", idString(user.ID), "app_password_id", idString(user.AppPasswordID))
	return nil
}

func isBadCredentials(err error) bool {
	return errors.Is(err, errBadCredentials)
}

// disconnectAfterReply closes the connection as soon as go-smtp has written
// the reply to the current command. (Shutting the read side is not enough:
// Linux still delivers data that arrives after SHUT_RD.)
func (s *session) disconnectAfterReply() {
	if lc := s.limited(); lc != nil {
		lc.hangUp.Store(true)
	}
}

// limited is the session's connection under TLS, or nil if it is not one
// the connection limiter handed out (never in production).
func (s *session) limited() *limitedConn {
	c := s.conn.Conn()
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	lc, _ := c.(*limitedConn)
	return lc
}

// markAttributed lifts the unattributed timeout: the session belongs to a
// tenant now.
func (s *session) markAttributed() {
	if lc := s.limited(); lc != nil {
		lc.attributed.Store(true)
	}
}

// loginServer is the AUTH LOGIN mechanism (draft-murchison-sasl-login),
// which go-sasl offers only as a client: the server asks for the user name
// and then the password, each as base64 "Username:" / "Password:" challenges.
type loginServer struct {
	check    func(username, password string) error
	username string
	step     int
}

func (l *loginServer) Next(response []byte) (challenge []byte, done bool, err error) {
	switch l.step {
	case 0:
		l.step = 1
		if len(response) > 0 { // initial response: AUTH LOGIN <base64 user>
			l.username = string(response)
			l.step = 2
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.username = string(response)
		l.step = 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.check(l.username, string(response))
	}
	return nil, false, errors.New("unexpected response")
}
