package compile

import "testing"

// SPEC: API Gateway supports only JSON Schema draft 4, so every model
// is checked as draft 4, whatever its $schema says: a draft-07 $schema does
// not make the boolean exclusiveMaximum of draft 4 an error (it is one in
// draft 7) nor turn on draft 7's const. otherDraft names the $schema that
// WSGW2009 warns about.
func TestModelDraft4(t *testing.T) {
	const body = `"type": "object", "properties": {"n": {"type": "integer", "maximum": 10, "exclusiveMaximum": true}, "k": {"const": "x"}}`
	for _, tc := range []struct {
		name, schema string
		other        bool
	}{
		{"no $schema", `{` + body + `}`, false},
		{"draft 4", `{"$schema": "http://json-schema.org/draft-04/schema#", ` + body + `}`, false},
		{"draft 4 https", `{"$schema": "https://json-schema.org/draft-04/schema", ` + body + `}`, false},
		{"draft 7", `{"$schema": "http://json-schema.org/draft-07/schema#", ` + body + `}`, true},
		{"2020-12", `{"$schema": "https://json-schema.org/draft/2020-12/schema", ` + body + `}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := (&Model{LogicalID: "M", Name: "m", Schema: []byte(tc.schema)}).Compile()
			if err != nil {
				t.Fatalf("does not compile as draft 4: %v", err)
			}
			for doc, valid := range map[string]bool{
				`{"n": 9}`:            true,
				`{"n": 10}`:           false, // exclusiveMaximum: true
				`{"n": 9, "k": "y"}`:  true,  // const is not a draft 4 keyword
				`{"n": "9"}`:          false,
				`{"n": 9, "k": null}`: true,
			} {
				if err := m.Validate([]byte(doc)); (err == nil) != valid {
					t.Errorf("%s: valid %v, want %v (%v)", doc, err == nil, valid, err)
				}
			}
			if got, other := otherDraft([]byte(tc.schema)); other != tc.other {
				t.Errorf("otherDraft = %q, %v; want %v", got, other, tc.other)
			}
		})
	}
}
