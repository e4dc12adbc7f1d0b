package mfa

import (
	"testing"

	"github.com/tollgate-mail/tollgate/password"
)

// TestMain uses cheap argon2id parameters so recovery-code tests stay fast,
// and restores the previous ones afterwards.
func TestMain(m *testing.M) {
	old := password.CurrentParams()
	password.SetParams(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	defer password.SetParams(old)
	m.Run()
}
