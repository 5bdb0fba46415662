package vtl

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Util returns $util: escapeJavaScript, parseJson, urlEncode, urlDecode,
// base64Encode and base64Decode, with the semantics of the Java libraries
// API Gateway uses. It has no state and may be shared by all renders.
func Util() Object { return utilObject{} }

type utilObject struct{}

var _ Object = utilObject{}

func (utilObject) Property(string) (any, bool) { return nil, false }

func (utilObject) Call(name string, args []any) (any, error) {
	f := utilMethods[name]
	if f == nil || len(args) != 1 {
		return nil, ErrNoMethod
	}
	if args[0] == nil {
		return nil, nil
	}
	s, ok := args[0].(string)
	if !ok {
		s = toString(args[0])
	}
	return f(s)
}

// utilMethods are $util's methods; each takes one argument, as a string
// (null gives null).
var utilMethods = map[string]func(s string) (any, error){
	"escapeJavaScript": func(s string) (any, error) { return EscapeJavaScript(s), nil },
	"parseJson":        func(s string) (any, error) { return ParseJSON([]byte(s)) },
	"urlEncode":        func(s string) (any, error) { return URLEncode(s), nil },
	"urlDecode":        func(s string) (any, error) { return URLDecode(s) },
	"base64Encode":     func(s string) (any, error) { return base64.StdEncoding.EncodeToString([]byte(s)), nil },
	"base64Decode":     base64Decode,
}

func base64Decode(s string) (any, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	if err != nil {
		return nil, fmt.Errorf("not base64: %v", err)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), nil
}

// EscapeJavaScript escapes s as $util.escapeJavaScript does (Apache
// Commons Lang's escapeJavaScript): \' \" \\ \/, the short escapes for
// \b \t \n \f \r, and \uXXXX (upper-case hex, per UTF-16 unit) for other
// control characters and everything outside ASCII.
func EscapeJavaScript(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	for _, r := range s {
		if r >= utf8.RuneSelf {
			units := []rune{r}
			if r > 0xFFFF {
				r1, r2 := utf16.EncodeRune(r)
				units = []rune{r1, r2}
			}
			for _, u := range units {
				b.WriteString(`\u`)
				for shift := 12; shift >= 0; shift -= 4 {
					b.WriteByte(hexUpper[(u>>shift)&0xF])
				}
			}
			continue
		}
		switch r {
		case '\'':
			b.WriteString(`\'`)
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '/':
			b.WriteString(`\/`)
		case '\b':
			b.WriteString(`\b`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hexUpper[r>>4])
				b.WriteByte(hexUpper[r&0xF])
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// URLEncode is java.net.URLEncoder.encode(s, "UTF-8"): letters, digits and
// . - * _ stay, a space becomes +, every other byte %XX.
func URLEncode(s string) string {
	var b strings.Builder
	b.Grow(len(s) * 3 / 2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '*', c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hexUpper[c>>4])
			b.WriteByte(hexUpper[c&0xF])
		}
	}
	return b.String()
}

// URLDecode is java.net.URLDecoder.decode(s, "UTF-8"): + is a space and
// %XX a byte; a malformed escape is an error.
func URLDecode(s string) (string, error) {
	if !strings.ContainsAny(s, "+%") {
		return s, nil
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b = append(b, ' ')
		case '%':
			if i+2 >= len(s) {
				return "", errors.New("incomplete trailing escape (%) pattern")
			}
			h, l := unhex(s[i+1]), unhex(s[i+2])
			if h < 0 || l < 0 {
				return "", fmt.Errorf("illegal hex characters in escape (%%) pattern %q", s[i:i+3])
			}
			b = append(b, byte(h<<4|l))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
