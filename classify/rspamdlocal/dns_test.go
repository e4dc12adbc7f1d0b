package rspamdlocal

import (
	"bytes"
	"net"
	"testing"
	"time"
)

// TestClassifyDNSStubRefuses: the stub answers a real query (with an EDNS
// record) with REFUSED, the same id and question, and nothing else.
func TestClassifyDNSStubRefuses(t *testing.T) {
	c, err := startRefusingDNS()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn, err := net.Dial("udp", c.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	question := []byte{7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1} // example.com A IN
	query := append([]byte{0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1}, question...)
	query = append(query, 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0) // OPT record
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(query); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	r := buf[:n]
	if len(r) != 12+len(question) || r[0] != 0xbe || r[1] != 0xef || r[2]&0x80 == 0 || r[3]&0x0f != 5 ||
		r[5] != 1 || r[7] != 0 || r[11] != 0 || !bytes.Equal(r[12:], question) {
		t.Errorf("answer % x", r)
	}
	if got := refuse([]byte{1, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63}); len(got) != 12 || got[5] != 0 {
		t.Errorf("a truncated question: % x", got)
	}
}
