package compile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/wsgw/wsgw/template"
)

// Model is an AWS::ApiGatewayV2::Model: a JSON Schema (draft 4) that the
// messages of a route whose ModelSelectionExpression selects it must satisfy
// (SPEC ). The gateway compiles the schema once per plan (Compile).
type Model struct {
	LogicalID   string `json:"logicalId"`
	Name        string `json:"name"`
	ContentType string `json:"contentType,omitempty"`
	// Schema is the schema as written, compacted.
	Schema json.RawMessage `json:"schema"`
}

// ModelSchema is a Model's schema compiled: what messages are validated
// against. Model.Compile builds it from the plan, once per plan.
type ModelSchema struct {
	name   string // the Model's Name, for messages
	schema *jsonschema.Schema
}

// Compile compiles the model's Schema as draft 4 (compileSchema). The
// compiler has checked that it compiles; the error says why it does not (a
// plan not written by the compiler).
func (m *Model) Compile() (*ModelSchema, error) {
	s, err := compileSchema(m.LogicalID, m.Schema)
	if err != nil {
		return nil, fmt.Errorf("Schema of model %s: %w", m.LogicalID, err)
	}
	return &ModelSchema{name: m.Name, schema: s}, nil
}

// Validate checks a message body against the model. The error says why the
// body is not valid: not JSON, or what the schema rejects.
func (s *ModelSchema) Validate(body []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("the body is not JSON: %v", err)
	}
	return s.ValidateDecoded(doc)
}

// ValidateDecoded checks a message body that the caller has decoded already,
// as Validate would: one JSON value read by encoding/json with UseNumber
// (objects map[string]any, arrays []any, numbers json.Number). The result is
// Validate's for the same text.
func (s *ModelSchema) ValidateDecoded(doc any) error {
	if err := s.schema.Validate(doc); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("the body does not match model %s: %s", s.name, validationSummary(ve))
		}
		return err
	}
	return nil
}

// modelSchema returns the JSON text of a Model's Schema property, which
// CloudFormation takes as a JSON object or as a string holding one.
func modelSchema(n *template.Node) ([]byte, error) {
	switch {
	case n == nil || n.Kind == template.Null:
		return nil, errors.New("the Schema is missing")
	case n.Kind == template.String:
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(n.Value)); err != nil {
			return nil, fmt.Errorf("the Schema string is not JSON: %v", err)
		}
		return buf.Bytes(), nil
	case n.Kind == template.Map:
		return json.Marshal(n.Interface())
	}
	return nil, fmt.Errorf("the Schema must be a JSON object, not a %s", n.Kind)
}

// draft4Schemas are the $schema values that name JSON Schema draft 4.
var draft4Schemas = []string{
	"http://json-schema.org/draft-04/schema#", "http://json-schema.org/draft-04/schema",
	"https://json-schema.org/draft-04/schema#", "https://json-schema.org/draft-04/schema",
}

// otherDraft returns the $schema of a schema (JSON text) when it names
// something other than JSON Schema draft 4, the only draft API Gateway
// supports; compileSchema checks such a schema as draft 4 all the same.
func otherDraft(src []byte) (string, bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(src, &top) != nil {
		return "", false
	}
	raw, ok := top["$schema"]
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return string(raw), true
	}
	return s, !slices.Contains(draft4Schemas, s)
}

// compileSchema compiles a JSON Schema as draft 4, API Gateway's dialect,
// whatever its $schema says (otherDraft reports a $schema naming another
// draft). References may point only inside the schema (and to the JSON
// Schema meta-schemas): nothing is loaded from files or the network.
func compileSchema(name string, src []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("the Schema is not JSON: %v", err)
	}
	if top, ok := doc.(map[string]any); ok {
		// Without $schema the library uses the default draft, 4.
		delete(top, "$schema")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.UseLoader(jsonschema.SchemeURLLoader{})
	loc := "wsgw:///models/" + name + ".json"
	if err := c.AddResource(loc, doc); err != nil {
		return nil, schemaError(err)
	}
	s, err := c.Compile(loc)
	if err != nil {
		return nil, schemaError(err)
	}
	return s, nil
}

// schemaError words a schema compilation error on one line, without the
// library's internal resource URL.
func schemaError(err error) error {
	var sve *jsonschema.SchemaValidationError
	var ve *jsonschema.ValidationError
	var le *jsonschema.LoadURLError
	switch {
	case errors.As(err, &sve) && errors.As(sve.Err, &ve):
		return fmt.Errorf("not a valid JSON Schema: %s", validationSummary(ve))
	case errors.As(err, &le):
		return fmt.Errorf("$ref %s points outside the schema; models may refer only to their own definitions", le.URL)
	}
	msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "wsgw:///models/", "")), " ")
	return fmt.Errorf("not a valid JSON Schema: %s", msg)
}

// validationSummary is a validation error on one line: what each failed
// keyword says, where, at most three of them.
func validationSummary(ve *jsonschema.ValidationError) string {
	var leaves []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, strings.Join(strings.Fields(e.Error()), " "))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	if len(leaves) > 3 {
		leaves = append(leaves[:3], fmt.Sprintf("and %d more", len(leaves)-3))
	}
	return strings.Join(leaves, "; ")
}

// compileModel reads a Model resource and checks that its schema compiles
// (the plan keeps the schema as written; the gateway compiles it, Compile).
func compileModel(rs *template.Resource) (*Model, error) {
	m := &Model{LogicalID: rs.LogicalID, Name: rs.Prop("Name").Str(), ContentType: rs.Prop("ContentType").Str()}
	src, err := modelSchema(rs.Prop("Schema"))
	if err != nil {
		m.Schema = json.RawMessage("null")
		return m, err
	}
	m.Schema = src
	_, err = compileSchema(rs.LogicalID, src)
	return m, err
}
