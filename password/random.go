package password

import "crypto/rand"

// alphabet is URL-safe and leaves out look-alikes (0 O o 1 l I) so generated
// passwords survive being read aloud or copied by hand. 56 symbols give about
// 5.8 bits each: Random(22) is over 128 bits.
const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// Random returns n characters from crypto/rand for generated passwords,
// tokens and the like.
func Random(n int) string {
	if n <= 0 {
		return ""
	}
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2+8)
	// Rejection sampling: bytes ≥ 224 (= 4·56) are dropped so every symbol
	// is equally likely.
	for len(out) < n {
		rand.Read(buf) // never fails (Go 1.24+ crashes the program instead)
		for _, b := range buf {
			if int(b) < 4*len(alphabet) && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}
