package compile

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestPlanIsPlainData walks the types a Plan is made of: every field is
// exported and written to JSON, so that nothing the gateway needs is lost
// when a plan goes through `wsgw plan --format json` (STYLE "One model,
// derived once": executable forms are built when the gateway provisions a
// plan, never kept in it).
func TestPlanIsPlainData(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		switch typ.Kind() {
		case reflect.Pointer:
			walk(typ.Elem(), path)
			return
		case reflect.Slice, reflect.Array, reflect.Map:
			if typ.Kind() == reflect.Map {
				walk(typ.Key(), path+"[key]")
			}
			walk(typ.Elem(), path+"[]")
			return
		case reflect.Struct:
		case reflect.Interface, reflect.Func, reflect.Chan, reflect.UnsafePointer:
			t.Errorf("%s is a %s, which JSON does not carry", path, typ.Kind())
			return
		default:
			return
		}
		if seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			at := path + "." + f.Name
			if !f.IsExported() {
				t.Errorf("%s (%s) is unexported: a plan decoded from JSON would lose it", at, typ)
				continue
			}
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name == "-" {
				t.Errorf("%s (%s) is not written to JSON", at, typ)
				continue
			}
			walk(f.Type, at)
		}
	}
	walk(reflect.TypeFor[Plan](), "Plan")
	if len(seen) < 10 {
		t.Fatalf("walked only %d types", len(seen))
	}
}

// TestPlanRoundTrip compiles every template of testdata/plans and the
// examples, writes the plan as `wsgw plan --format json` does and reads it
// back: the plan read is the plan written (reflect.DeepEqual, up to empty
// fields JSON leaves out), and writes the same JSON. runtime's
// TestExamplesFromJSONPlan serves such plans.
func TestPlanRoundTrip(t *testing.T) {
	for _, tc := range planCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			plan, _ := compileCase(t, tc)
			var first bytes.Buffer
			if err := plan.WriteJSON(&first); err != nil {
				t.Fatal(err)
			}
			var read Plan
			dec := json.NewDecoder(bytes.NewReader(first.Bytes()))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&read); err != nil {
				t.Fatalf("the plan's JSON does not decode: %v", err)
			}
			var second bytes.Buffer
			if err := read.WriteJSON(&second); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first.Bytes(), second.Bytes()) {
				t.Errorf("the plan read back writes other JSON:\n%s\nwant\n%s", second.Bytes(), first.Bytes())
			}
			if !reflect.DeepEqual(withoutEmpty(reflect.ValueOf(plan)), withoutEmpty(reflect.ValueOf(&read))) {
				t.Errorf("the plan read back differs from the plan written")
			}
		})
	}
}

// withoutEmpty copies a plan value into maps and slices of plain values, an
// empty slice or map as nil and raw JSON compacted, so that DeepEqual does
// not tell apart what JSON's omitempty and WriteJSON's indenting make one.
func withoutEmpty(v reflect.Value) any {
	if v.Type() == reflect.TypeFor[json.RawMessage]() {
		var b bytes.Buffer
		if err := json.Compact(&b, v.Bytes()); err != nil {
			return "not JSON: " + string(v.Bytes())
		}
		return b.String()
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return withoutEmpty(v.Elem())
	case reflect.Slice, reflect.Array:
		if v.Len() == 0 {
			return nil
		}
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return string(v.Bytes())
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = withoutEmpty(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.Len() == 0 {
			return nil
		}
		out := map[any]any{}
		for it := v.MapRange(); it.Next(); {
			out[it.Key().Interface()] = withoutEmpty(it.Value())
		}
		return out
	case reflect.Struct:
		out := map[string]any{}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				out[f.Name] = "unexported " + f.Type.String() // TestPlanIsPlainData says which
				continue
			}
			out[f.Name] = withoutEmpty(v.Field(i))
		}
		return out
	}
	return v.Interface()
}
