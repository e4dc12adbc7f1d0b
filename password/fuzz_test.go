package password

import (
	"errors"
	"testing"
)

// FuzzVerify checks that no stored string, however broken, panics Verify or
// gets past the parameter caps.
func FuzzVerify(f *testing.F) {
	good, _ := Hash("pw")
	for _, s := range []string{good, "", "$", "$argon2id$v=19$m=64,t=1,p=1$$",
		"$argon2id$v=19$m=1048577,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$ZmVkY2JhOTg3NjU0MzIxMA",
		"$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$ZmVkY2JhOTg3NjU0MzIxMA"} {
		f.Add("pw", s)
	}
	f.Fuzz(func(t *testing.T, secret, phc string) {
		p, _, _, err := decode(phc)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("decode error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if p.Memory > 4096 || p.Time > 2 {
			return // valid but too slow for fuzzing; the caps were checked by decode
		}
		if _, err := Verify(secret, phc); err != nil {
			t.Fatalf("decode accepted %q but Verify failed: %v", phc, err)
		}
	})
}
