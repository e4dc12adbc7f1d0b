package directory

import "testing"

func TestNormDomain(t *testing.T) {
	for in, want := range map[string]string{
		"Example.COM":                         "example.com",
		" example.com. ":                      "example.com",
		"xn--bcher-kva.example":               "xn--bcher-kva.example",
		"a-b.c9.example":                      "a-b.c9.example",
		"":                                    "",
		"com":                                 "",
		"exa mple.com":                        "",
		"-a.example":                          "",
		"a-.example":                          "",
		"a..example":                          "",
		"bücher.example":                      "",
		"192.0.2.1":                           "",
		"a_b.example":                         "",
		string(make([]byte, 64)) + ".example": "",
	} {
		got, err := normDomain(in)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("normDomain(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestNormAddress(t *testing.T) {
	for in, want := range map[string]string{
		"User@Example.COM":    "user@example.com",
		" a.b+tag@ex.example": "a.b+tag@ex.example",
		"<a@ex.example>":      "",
		"A <a@ex.example>":    "",
		"a@":                  "",
		"@ex.example":         "",
		"a@ex":                "",
		"a@ex_ample.com":      "",
		"a\r\n@ex.example":    "",
	} {
		got, _, err := normAddress(in)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("normAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
