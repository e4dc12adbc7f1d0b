package classify

import (
	"bytes"
	"slices"
	"testing"
)

func TestClassifyMIMEDecoding(t *testing.T) {
	raw := msg([]string{
		"From: =?iso-8859-1?Q?Ren=E9_M=FCller?= <rene@Mail.Example.CO.UK>",
		"Reply-To: other@elsewhere.example",
		"Subject: =?koi8-r?B?8NLJ18XU?= world", // "Привет" in KOI8-R
		"X-Mailer: Pegasus Mail 4.0",
		"MIME-Version: 1.0",
		`Content-Type: multipart/mixed; boundary="outer"`,
	}, `--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9 cr=E8me, see http://Shop.Example.com/deal?id=3D1 now
--inner
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PGh0bWw+PHN0eWxlPi5oaWRkZW57fTwvc3R5bGU+PHNjcmlwdD52YXIgc2VjcmV0PTE8L3NjcmlwdD48
cD5WaXNpYmxlICZhbXA7IGNsZWFyPC9wPjxhIGhyZWY9Imh0dHBzOi8vdHJhY2sucGhpc2guZXhhbXBs
ZS5vcmcvY2xpY2siPmxpbms8L2E+PGltZyBzcmM9InguZ2lmIj48L2h0bWw+
--inner--
--outer
Content-Type: application/octet-stream; name="invoice.EXE"
Content-Transfer-Encoding: base64

TVqQAAMAAAAEAAAA
--outer--
`)
	d, c := parseDoc(raw, Caps{})
	if d.subject != "Привет world" {
		t.Errorf("subject %q: RFC 2047 KOI8-R not decoded", d.subject)
	}
	if d.fromName != "René Müller" || d.fromDomain != "mail.example.co.uk" || d.replyDomain != "elsewhere.example" {
		t.Errorf("from %q @ %q, reply-to %q", d.fromName, d.fromDomain, d.replyDomain)
	}
	for _, want := range []string{"Café crème", "Visible & clear"} {
		if !bytes.Contains(d.text, []byte(want)) {
			t.Errorf("text lacks %q (charset, QP, base64 or HTML entities): %q", want, d.text)
		}
	}
	if bytes.Contains(d.text, []byte("secret")) || bytes.Contains(d.text, []byte("hidden")) {
		t.Errorf("script or style content counted as text: %q", d.text)
	}
	if !d.hasPlain || !d.hasHTML || d.images != 1 || !slices.Equal(d.attachments, []string{"exe"}) {
		t.Errorf("structure: plain=%v html=%v images=%d attachments=%v", d.hasPlain, d.hasHTML, d.images, d.attachments)
	}
	if !slices.Contains(d.hosts, "track.phish.example.org") || !slices.Contains(d.hosts, "shop.example.com") {
		t.Errorf("link hosts %v", d.hosts)
	}
	for _, f := range []struct {
		kind byte
		tok  string
	}{
		{kindSubject, "привет"}, {kindBody, "café"}, {kindURL, "example.org"}, {kindURL, "example.com"},
		{kindFrom, "example.co.uk"}, {kindFromName, "rené"}, {kindMailer, "pegasus"}, {kindAttach, "exe"},
		{kindRule, "REPLYTO_OTHER_DOMAIN"},
	} {
		if _, ok := c.seen[hashFeature(f.kind, []byte(f.tok))&c.mask]; !ok {
			t.Errorf("feature %c:%s not extracted", f.kind, f.tok)
		}
	}
	r := classifyOK(t, defaultEngine(t), Input{Raw: raw})
	if !hasReason(r, "ATTACH_EXECUTABLE") {
		t.Errorf("executable attachment not a reason: %v", r.Reasons)
	}
}

func TestClassifyTokenizer(t *testing.T) {
	var got []string
	var hosts []string
	var st textStats
	text := []byte("Don't MISS: $100 OFF at www.Shop.example/x?y=1 or https://user:pw@[2001:db8::1]:8080/p — Ünïcode ok 1234567 x")
	scanText(text, nil, &st, func(w []byte) { got = append(got, string(w)) }, func(h string) { hosts = append(hosts, h) })
	want := []string{"dont", "miss", "$100", "off", "at", "or", "ünïcode", "ok"}
	if !slices.Equal(got, want) {
		t.Errorf("words %q, want %q", got, want)
	}
	if !slices.Equal(hosts, []string{"www.shop.example", "2001:db8::1"}) {
		t.Errorf("hosts %q", hosts)
	}
	if !isIPHost("2001:db8::1") || !isIPHost("192.0.2.1") || isIPHost("example.com") {
		t.Error("isIPHost")
	}
}

func TestClassifyMboxEnvelopeLine(t *testing.T) {
	d, _ := parseDoc([]byte("From someone@example.org  Thu Aug 22 12:36:23 2002\nSubject: hi\n\nbody\n"), Caps{})
	if d.subject != "hi" || d.malformed {
		t.Errorf("envelope line not skipped: subject %q malformed %v", d.subject, d.malformed)
	}
}
