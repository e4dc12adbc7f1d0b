package dkim

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkSign measures what signing adds per message at delivery: one
// pass over the message feeding an Ed25519 and an RSA-2048 signer.
func BenchmarkSign(b *testing.B) {
	var keys []signingKey
	for _, algo := range []string{Ed25519, RSA} {
		k, err := newKey(algo)
		if err != nil {
			b.Fatal(err)
		}
		keys = append(keys, signingKey{selector: selectorFor(1, algo), signer: k})
	}
	line := strings.Repeat("x", 76) + "\r\n"
	one := sample + strings.Repeat(line, (1<<10)/len(line))
	for i, algo := range []string{Ed25519, RSA} {
		b.Run("1KiB/"+algo+"-only", func(b *testing.B) {
			for b.Loop() {
				if _, err := signatures(strings.NewReader(one), "acme.test", keys[i:i+1]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, size := range []int{1 << 10, 50 << 10} {
		msg := sample + strings.Repeat(line, size/len(line))
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if _, err := signatures(strings.NewReader(msg), "acme.test", keys); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
