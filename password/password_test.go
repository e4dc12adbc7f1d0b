package password

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// cheap keeps the suite fast; one test below exercises DefaultParams.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestMain(m *testing.M) {
	SetParams(cheap)
	m.Run()
}

func TestHashVerify(t *testing.T) {
	phc, err := Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("unexpected PHC %q", phc)
	}
	if ok, err := Verify("correct horse", phc); !ok || err != nil {
		t.Fatalf("Verify(right) = %v, %v", ok, err)
	}
	if ok, err := Verify("correct horse!", phc); ok || err != nil {
		t.Fatalf("Verify(wrong) = %v, %v", ok, err)
	}
	other, _ := Hash("correct horse")
	if other == phc {
		t.Fatal("two hashes of one secret are equal: salt not random")
	}
}

func TestDefaultParamsFormat(t *testing.T) {
	defer SetParams(cheap)
	SetParams(DefaultParams)
	phc, err := Hash("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("unexpected PHC %q", phc)
	}
	if ok, _ := Verify("s3cret", phc); !ok {
		t.Fatal("default params do not verify")
	}
}

// The encoding is pinned exactly, so a change in padding, alphabet or field
// order breaks this test rather than every stored password.
func TestEncodeDecode(t *testing.T) {
	p := Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 16}
	phc := encode(p, []byte("0123456789abcdef"), []byte("fedcba9876543210"))
	const want = "$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$ZmVkY2JhOTg3NjU0MzIxMA"
	if phc != want {
		t.Fatalf("encode = %q, want %q", phc, want)
	}
	got, salt, key, err := decode(phc)
	if err != nil || got != p || string(salt) != "0123456789abcdef" || string(key) != "fedcba9876543210" {
		t.Fatalf("decode = %+v %q %q %v", got, salt, key, err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	good, _ := Hash("pw")
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	cases := map[string]string{
		"empty":          "",
		"bcrypt":         "$2a$10$abcdefghijklmnopqrstuu5555555555555555555555555555555",
		"argon2i":        "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"version 16":     "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"no version":     "$argon2id$m=64,t=1,p=1$" + salt + "$" + key,
		"order":          "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,
		"extra param":    "$argon2id$v=19$m=64,t=1,p=1,k=2$" + salt + "$" + key,
		"leading zero":   "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key,
		"negative":       "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key,
		"t=0":            "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"p=0":            "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"huge memory":    "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key,
		"huge time":      "$argon2id$v=19$m=64,t=11,p=1$" + salt + "$" + key,
		"huge threads":   "$argon2id$v=19$m=1024,t=1,p=17$" + salt + "$" + key,
		"m < 8p":         "$argon2id$v=19$m=8,t=1,p=2$" + salt + "$" + key,
		"padded salt":    "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key,
		"bad base64":     "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:10] + "*" + key[11:],
		"short hash":     "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:20],
		"long hash":      "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat(key, 3),
		"short salt":     "$argon2id$v=19$m=64,t=1,p=1$AAAA$" + key,
		"trailing field": good + "$",
		"overflow":       "$argon2id$v=19$m=99999999999999999999,t=1,p=1$" + salt + "$" + key,
	}
	for name, phc := range cases {
		ok, err := Verify("pw", phc)
		if ok || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Verify(%q) = %v, %v; want ErrMalformed", name, phc, ok, err)
		}
	}
}

func TestSetParamsRejectsUnverifiable(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("SetParams accepted t=0")
		}
	}()
	SetParams(Params{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32})
}

func TestConcurrencyBound(t *testing.T) {
	defer SetConcurrency(runtime.NumCPU())
	SetConcurrency(1)
	phc, err := Hash("x")
	if err != nil {
		t.Fatal(err)
	}
	// With the only slot held, context-aware calls must give up.
	release, err := acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := VerifyContext(ctx, "x", phc); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("VerifyContext with no free slot = %v, want DeadlineExceeded", err)
	}
	if _, err := HashContext(ctx, "x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("HashContext with no free slot = %v, want DeadlineExceeded", err)
	}
	release()

	// Many callers queue on the slots (the channel's capacity is the bound)
	// and all finish.
	SetConcurrency(2)
	if c := cap(*slots.Load()); c != 2 {
		t.Fatalf("slots = %d, want 2", c)
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if ok, err := Verify("x", phc); !ok || err != nil {
				t.Errorf("Verify = %v, %v", ok, err)
			}
		})
	}
	wg.Wait()
}

func TestRandom(t *testing.T) {
	if Random(0) != "" || Random(-1) != "" {
		t.Fatal("Random(<=0) not empty")
	}
	if len(alphabet) != 56 {
		t.Fatalf("alphabet has %d symbols", len(alphabet))
	}
	seen := map[string]bool{}
	for range 100 {
		s := Random(24)
		if len(s) != 24 || seen[s] {
			t.Fatalf("Random(24) = %q", s)
		}
		seen[s] = true
		if strings.ContainsAny(s, "0Oo1lI+/=_-") {
			t.Fatalf("Random produced an ambiguous or unsafe char: %q", s)
		}
	}
}
