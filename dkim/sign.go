package dkim

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"

	"github.com/emersion/go-message/textproto"
	msgauth "github.com/emersion/go-msgauth/dkim"
	"golang.org/x/net/idna"
)

// signedFields are the header fields a signature covers: those a reader
// sees and a forger would change, and Feedback-ID, which names the tenant
// to the mailbox provider. From is listed twice (oversigned), so a second
// From added on the way breaks the signature instead of going unseen; the
// same holds for a Subject, Reply-To or To added where there was none.
var signedFields = []string{
	"From", "From", "Reply-To", "Reply-To", "Subject", "Subject", "Date", "To", "To", "Cc",
	"Message-ID", "In-Reply-To", "References", "MIME-Version", "Content-Type",
	"Content-Transfer-Encoding", "Content-Disposition", "List-Id", "List-Unsubscribe",
	"List-Unsubscribe-Post", "Feedback-ID", "Sender",
}

// signatures reads a whole message once and returns its DKIM-Signature
// fields, one per key, in order, each ending in CRLF.
func signatures(msg io.Reader, domain string, keys []signingKey) (string, error) {
	var signers []*msgauth.Signer
	var ws []io.Writer
	closeAll := func() {
		for _, s := range signers {
			s.Close()
		}
	}
	for _, k := range keys {
		s, err := msgauth.NewSigner(&msgauth.SignOptions{
			Domain: domain, Selector: k.selector, Signer: k.signer,
			HeaderCanonicalization: msgauth.CanonicalizationRelaxed,
			BodyCanonicalization:   msgauth.CanonicalizationRelaxed,
			HeaderKeys:             signedFields,
		})
		if err != nil {
			closeAll()
			return "", fmt.Errorf("dkim: signer for %s: %w", k.selector, err)
		}
		signers = append(signers, s)
		ws = append(ws, s)
	}
	if _, err := io.Copy(io.MultiWriter(ws...), msg); err != nil {
		closeAll()
		return "", fmt.Errorf("dkim: sign: %w", err)
	}
	var b strings.Builder
	for i, s := range signers {
		if err := s.Close(); err != nil {
			closeAll()
			return "", fmt.Errorf("dkim: sign with %s: %w", keys[i].selector, err)
		}
		b.WriteString(s.Signature())
	}
	return b.String(), nil
}

// errNoFrom says the message has no single author domain to sign for.
var errNoFrom = errors.New("no single From domain")

// FromDomain returns the domain of the message's header From (A-labels,
// lowercase): the domain DMARC aligns a signature with. A message with no
// From, several From fields, or authors in several domains has none.
func FromDomain(msg io.Reader) (string, error) {
	h, err := textproto.ReadHeader(bufio.NewReader(msg))
	if err != nil {
		return "", fmt.Errorf("dkim: read header: %w", err)
	}
	fields := h.Values("From")
	if len(fields) != 1 {
		return "", errNoFrom
	}
	addrs, err := mail.ParseAddressList(fields[0])
	if err != nil || len(addrs) == 0 {
		return "", errNoFrom
	}
	domain := ""
	for _, a := range addrs {
		at := strings.LastIndexByte(a.Address, '@')
		if at < 0 {
			return "", errNoFrom
		}
		d, err := idna.Lookup.ToASCII(normDomain(a.Address[at+1:]))
		if err != nil || d == "" || (domain != "" && d != domain) {
			return "", errNoFrom
		}
		domain = d
	}
	return domain, nil
}
