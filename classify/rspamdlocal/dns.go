package rspamdlocal

import (
	"errors"
	"fmt"
	"net"
)

// startRefusingDNS answers every DNS query on a loopback UDP port with
// REFUSED, so rspamd's resolver fails fast and never asks a real server.
func startRefusingDNS() (*net.UDPConn, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("starting the DNS stub: %w", err)
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil || n < 12 {
				continue
			}
			reply := refuse(buf[:n])
			c.WriteToUDP(reply, from)
		}
	}()
	return c, nil
}

// refuse turns a query into its REFUSED answer: same id and question, the
// response bit set, recursion available, rcode 5, no records (an EDNS
// record after the question is dropped).
func refuse(q []byte) []byte {
	end := questionEnd(q)
	r := append([]byte(nil), q[:end]...)
	r[2] = r[2]&0x79 | 0x80 // QR=1, keep opcode and RD, clear AA and TC
	r[3] = 0x80 | 5         // RA=1, RCODE=REFUSED
	if end == 12 {
		r[4], r[5] = 0, 0 // no parsable question: none echoed
	} else {
		r[4], r[5] = 0, 1
	}
	r[6], r[7], r[8], r[9], r[10], r[11] = 0, 0, 0, 0, 0, 0
	return r
}

// questionEnd is the offset after the first question (name, type, class),
// or 12 (the header alone) if it cannot be parsed.
func questionEnd(q []byte) int {
	i := 12
	for i < len(q) {
		l := int(q[i])
		if l == 0 {
			if i+5 <= len(q) {
				return i + 5
			}
			return 12
		}
		if l&0xc0 != 0 { // compression pointers have no place in a query's first name
			return 12
		}
		i += 1 + l
	}
	return 12
}
