package vtl

import (
	"fmt"
	"strings"
	"sync"
)

// Params are the request parameters $input.params() exposes. WebSocket
// APIs have no path parameters; headers and query strings are those of
// the $connect request.
type Params struct {
	Path        map[string]string
	QueryString map[string]string
	Header      map[string]string
}

// Input is $input for one request or integration response: the payload
// and the parameters. Its JSON is parsed once, on first use. An Input
// belongs to one render at a time: $input.path returns parts of that
// parsed document, which templates may modify.
type Input struct {
	body   []byte
	params Params

	once   sync.Once
	doc    any
	docErr error
	pm     *Map
}

var _ Object = (*Input)(nil)

// NewInput returns $input for a payload and its parameters.
func NewInput(body []byte, params Params) *Input {
	return &Input{body: body, params: params}
}

// text is the payload API Gateway hands to templates: an empty body reads
// as "{}".
func (in *Input) text() []byte {
	if len(in.body) == 0 {
		return []byte("{}")
	}
	return in.body
}

func (in *Input) document() (any, error) {
	in.once.Do(func() {
		in.doc, in.docErr = ParseJSON(in.text())
		if in.docErr != nil {
			in.docErr = fmt.Errorf("the body is not JSON: %v", in.docErr)
		}
	})
	return in.doc, in.docErr
}

// Property implements $input.body.
func (in *Input) Property(name string) (any, bool) {
	if name == "body" {
		return string(in.text()), true
	}
	return nil, false
}

// Call implements $input.json(path), $input.path(path), $input.params()
// and $input.params(name).
func (in *Input) Call(name string, args []any) (any, error) {
	switch name {
	case "json", "path":
		p := "$"
		if len(args) > 0 {
			s, ok := args[0].(string)
			if !ok {
				return nil, fmt.Errorf("the JSONPath must be a string")
			}
			p = s
		}
		jp, err := compilePath(p)
		if err != nil {
			return nil, err
		}
		doc, err := in.document()
		if err != nil {
			return nil, err
		}
		v := jp.eval(doc)
		if name == "path" {
			return v, nil
		}
		var b strings.Builder
		bud := &budget{n: 1 << 22, max: 64 << 20}
		writeJSONB(&b, v, 0, bud)
		if bud.n < 0 || bud.over {
			return nil, fmt.Errorf("the JSON is too large")
		}
		return b.String(), nil
	case "params":
		if len(args) == 0 {
			if in.pm == nil {
				in.pm = NewMap()
				in.pm.Put("path", ValueOf(nonNil(in.params.Path)))
				in.pm.Put("querystring", ValueOf(nonNil(in.params.QueryString)))
				in.pm.Put("header", ValueOf(nonNil(in.params.Header)))
			}
			return in.pm, nil
		}
		k, ok := args[0].(string)
		if !ok || len(args) != 1 {
			return nil, ErrNoMethod
		}
		for _, m := range []map[string]string{in.params.Path, in.params.QueryString, in.params.Header} {
			if v, ok := m[k]; ok {
				return v, nil
			}
		}
		for _, h := range sortedKeys(in.params.Header) { // header names are case-insensitive
			if strings.EqualFold(h, k) {
				return in.params.Header[h], nil
			}
		}
		return "", nil
	}
	return nil, ErrNoMethod
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
