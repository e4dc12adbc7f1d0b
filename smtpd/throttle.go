package smtpd

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/counters"
)

// authThrottle counts failed SMTP AUTH attempts per client address and per
// account in the shared counters (counters.Counter: Redis across a fleet,
// the embedded file on one node), so a lockout holds on every node and
// across restarts. Past the limit within the window, the address is
// disconnected and the account refused, whichever connection or node they
// try from.
type authThrottle struct {
	c      counters.Counter
	max    int64
	window time.Duration
}

func newAuthThrottle(c counters.Counter, max int, window time.Duration) *authThrottle {
	return &authThrottle{c: c, max: int64(max), window: window}
}

// ipKey is the counter key of a client address: an IPv4 address or an IPv6
// /64, the same unit as the per-address connection cap.
func ipKey(ip netip.Addr) string { return "smtp-auth-fail:ip:" + addrKey(ip).String() }

// userKey is the counter key of a login. The directory finds users by the
// trimmed, lower-cased address (local part included), so every spelling
// that reaches the same account shares one key: "User@Demo.test " and
// "user@demo.test" are one account to the throttle as to the login.
func userKey(login string) string { return "smtp-auth-fail:user:" + normLogin(login) }

func normLogin(login string) string { return strings.ToLower(strings.TrimSpace(login)) }

// blocked reports whether key is at or over the limit.
func (t *authThrottle) blocked(ctx context.Context, key string) (bool, error) {
	n, err := t.c.Count(ctx, key, t.window, time.Now())
	if err != nil {
		return false, fmt.Errorf("auth throttle: %w", err)
	}
	return n >= t.max, nil
}

// fail records a failure for key and returns the count in the window.
func (t *authThrottle) fail(ctx context.Context, key string) (int64, error) {
	n, err := t.c.Add(ctx, key, 1, t.window, time.Now())
	if err != nil {
		return 0, fmt.Errorf("auth throttle: %w", err)
	}
	return n, nil
}
