package classify

import (
	"bytes"
	"io"

	"golang.org/x/net/html"
)

// appendHTML reads one text/html part (within the decoded cap), appends its
// visible text to d.text and collects its link targets. It uses the
// streaming tokenizer rather than building a tree, so deep nesting (an HTML
// bomb) costs no more than flat markup.
func (d *document) appendHTML(r io.Reader, caps Caps) {
	d.html = d.readCapped(d.html[:0], r, caps.MaxDecodedBytes)
	if len(d.text) > 0 {
		d.text = append(d.text, '\n')
	}
	z := html.NewTokenizer(bytes.NewReader(d.html))
	z.SetMaxBuf(len(d.html) + 1)
	skip := 0 // inside <script> or <style>: not visible text
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return
		case html.TextToken:
			if skip == 0 {
				d.text = append(d.text, z.Text()...)
				d.text = append(d.text, ' ')
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch string(name) {
			case "script", "style":
				// A self-closing <style/> (valid inside <svg>) has no end
				// tag: counting it would hide all the text after it.
				if tt == html.StartTagToken {
					skip++
				}
			case "a", "area":
				d.collectAttr(z, hasAttr, "href")
			case "img":
				d.images++
			case "br", "p", "div", "tr", "li", "td":
				d.text = append(d.text, '\n')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if s := string(name); (s == "script" || s == "style") && skip > 0 {
				skip--
			}
		}
	}
}

// collectAttr keeps the value of attribute key (a link target) as a host.
func (d *document) collectAttr(z *html.Tokenizer, more bool, key string) {
	for more {
		var k, v []byte
		k, v, more = z.TagAttr()
		if string(k) == key {
			if h := urlHost(v); h != "" && len(d.hosts) < maxHosts {
				d.hosts = append(d.hosts, h)
			}
			return
		}
	}
}
