package classify

import (
	"bytes"
	"io"

	"golang.org/x/net/html"
)

// htmlTricks are the HTML constructs phishing and filter evasion use and
// ordinary mail does not, found while the text is extracted.
type htmlTricks struct {
	// linkTextHost: a link whose visible text names a host ("https://www.paypal.com/...")
	// while its target is on another registrable domain (the sender's own
	// domain excepted: tracking links show the sender's address and point
	// at the mailing platform).
	linkTextHosts []linkPair
	// hiddenLetters: letters of text inside elements styled invisible
	// (display:none, visibility:hidden, font-size:0): a preheader is short;
	// filler meant to dilute a filter's word counts is long.
	hiddenLetters int
	form          bool // a <form>: a login page inside the mail
	script        bool // <script>, which no mail client runs
	metaRefresh   bool // <meta http-equiv="refresh">: a redirect on opening
}

// linkPair is an anchor's target host and the host its text names.
type linkPair struct{ href, text string }

// maxLinkPairs bounds the anchors remembered per message.
const maxLinkPairs = 16

// appendHTML reads one text/html part (within the decoded cap), appends its
// visible text to d.text and collects its link targets. It uses the
// streaming tokenizer rather than building a tree, so deep nesting (an HTML
// bomb) costs no more than flat markup. Text inside invisible elements is
// counted, not scored: it is what the reader never sees.
func (d *document) appendHTML(r io.Reader, caps Caps) {
	d.html = d.readCapped(d.html[:0], r, caps.MaxDecodedBytes)
	if len(d.text) > 0 {
		d.text = append(d.text, '\n')
	}
	z := html.NewTokenizer(bytes.NewReader(d.html))
	z.SetMaxBuf(len(d.html) + 1)
	skip := 0 // inside <script> or <style>: not visible text
	// hidden: the tag name of the invisible element we are in and how deep
	// in same-named tags; "" when visible.
	var hiddenTag string
	hiddenDepth := 0
	anchorHost, inAnchor := "", false
	anchorText := d.anchor[:0]
	defer func() { d.anchor = anchorText[:0] }()
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return
		case html.TextToken:
			if skip > 0 {
				continue
			}
			t := z.Text()
			if hiddenDepth > 0 {
				d.tricks.hiddenLetters += countLetters(t)
				continue
			}
			if inAnchor && len(anchorText) < 256 {
				anchorText = append(anchorText, t...)
			}
			d.text = append(d.text, t...)
			d.text = append(d.text, ' ')
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			var href []byte
			var hidden, refresh bool
			if hasAttr && mayMatter(z.Raw()) {
				href, hidden, refresh = scanAttrs(z, hasAttr)
			}
			if hiddenDepth > 0 && tag == hiddenTag && tt == html.StartTagToken {
				hiddenDepth++
			} else if hidden && hiddenDepth == 0 && tt == html.StartTagToken && !isVoid(tag) {
				hiddenTag, hiddenDepth = tag, 1
			}
			switch tag {
			case "script", "style":
				// A self-closing <style/> (valid inside <svg>) has no end
				// tag: counting it would hide all the text after it.
				if tt == html.StartTagToken {
					skip++
				}
				if tag == "script" {
					d.tricks.script = true
				}
			case "a", "area":
				if h := urlHost(href); h != "" && len(d.hosts) < maxHosts {
					d.hosts = append(d.hosts, h)
					if tag == "a" && tt == html.StartTagToken {
						anchorHost, inAnchor, anchorText = h, true, anchorText[:0]
					}
				}
			case "img":
				d.images++
			case "form":
				d.tricks.form = true
			case "meta":
				d.tricks.metaRefresh = d.tricks.metaRefresh || refresh
			case "br", "p", "div", "tr", "li", "td":
				d.text = append(d.text, '\n')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			s := string(name)
			if (s == "script" || s == "style") && skip > 0 {
				skip--
			}
			if hiddenDepth > 0 && s == hiddenTag {
				hiddenDepth--
			}
			if s == "a" && inAnchor {
				d.noteAnchor(anchorHost, anchorText)
				inAnchor = false
			}
		}
	}
}

// noteAnchor remembers an anchor whose text names a host other than its
// target's.
func (d *document) noteAnchor(href string, text []byte) {
	th := textHost(bytes.TrimSpace(text))
	if th == "" || len(d.tricks.linkTextHosts) >= maxLinkPairs {
		return
	}
	if registrable(th) != registrable(href) {
		d.tricks.linkTextHosts = append(d.tricks.linkTextHosts, linkPair{href: href, text: th})
	}
}

// textHost is the host an anchor's text names: a URL ("https://x.example/a",
// "www.x.example") or a bare domain with a path ("x.example/login"); "" when
// the text is words.
func textHost(t []byte) string {
	if len(t) == 0 || len(t) > 200 || bytes.ContainsAny(t, " \t\n") {
		return ""
	}
	if isLinkStart(t) {
		return urlHost(t)
	}
	host := t
	if i := bytes.IndexByte(t, '/'); i >= 0 {
		host = t[:i]
	}
	dot := bytes.LastIndexByte(host, '.')
	if dot <= 0 || len(host)-dot < 3 || bytes.IndexByte(host, '@') >= 0 {
		return ""
	}
	for _, c := range host[dot+1:] {
		if c < 'a' || c > 'z' {
			if c < 'A' || c > 'Z' {
				return ""
			}
		}
	}
	return urlHost(append([]byte("http://"), t...))
}

// scanAttrs reads a tag's attributes: the href, whether its style makes it
// invisible, and whether it is a refresh (meta http-equiv).
func scanAttrs(z *html.Tokenizer, more bool) (href []byte, hidden, refresh bool) {
	for more {
		var k, v []byte
		k, v, more = z.TagAttr()
		switch string(k) {
		case "href":
			href = v
		case "style":
			hidden = invisibleStyle(v)
		case "hidden":
			hidden = true
		case "http-equiv":
			refresh = bytes.EqualFold(bytes.TrimSpace(v), []byte("refresh"))
		}
	}
	return href, hidden, refresh
}

// mayMatter reports whether a tag's raw bytes may hold an attribute
// scanAttrs looks for (href, style, hidden, http-equiv, in any case), so
// the attributes of the rest (most of a newsletter's table cells) are not
// read at all.
func mayMatter(raw []byte) bool {
	for i := 0; i+4 <= len(raw); i++ {
		switch raw[i] | 0x20 {
		case 'h', 's':
			w := raw[i : i+4]
			if bytes.EqualFold(w, []byte("href")) || bytes.EqualFold(w, []byte("styl")) || bytes.EqualFold(w, []byte("hidd")) || bytes.EqualFold(w, []byte("http")) {
				return true
			}
		}
	}
	return false
}

// invisibleStyle reports whether an inline style hides the element's text.
func invisibleStyle(v []byte) bool {
	s := bytes.ToLower(bytes.ReplaceAll(v, []byte(" "), nil))
	return bytes.Contains(s, []byte("display:none")) || bytes.Contains(s, []byte("visibility:hidden")) ||
		bytes.Contains(s, []byte("font-size:0;")) || bytes.HasSuffix(s, []byte("font-size:0")) ||
		bytes.Contains(s, []byte("font-size:0px")) || bytes.Contains(s, []byte("font-size:0pt"))
}

// isVoid reports whether an HTML element never has an end tag.
func isVoid(tag string) bool {
	switch tag {
	case "br", "img", "hr", "meta", "link", "input", "area", "base", "col", "embed", "source", "wbr":
		return true
	}
	return false
}

func countLetters(t []byte) int {
	n := 0
	for _, c := range t {
		if c|0x20 >= 'a' && c|0x20 <= 'z' || c >= 0x80 {
			n++
		}
	}
	return n
}
