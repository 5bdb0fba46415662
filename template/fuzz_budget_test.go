package template

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// FuzzSubGrowth grows templates by substitution: a parameter of size copies
// of fill, inserted by Fn::Subs nested levels deep, each inserting the level
// below fan times between copies of text. Whatever the numbers, loading stays
// within the budget (no string over MaxValueBytes, no more than MaxEvalBytes
// spent, plus the one charge that crossed it), refuses with WSGW1014 exactly
// when a string would pass 1 MB or the strings alone would pass the budget,
// and accepts growth well within it. Seeds: testdata/fuzz/FuzzSubGrowth.
func FuzzSubGrowth(f *testing.F) {
	f.Add(uint8(7), uint8(10), uint16(100), "x", "")
	f.Add(uint8(1), uint8(255), uint16(65535), "yy", "-")
	f.Add(uint8(3), uint8(4), uint16(10), "ab", "text between ")
	f.Fuzz(func(t *testing.T, levels, fan uint8, size uint16, fill, text string) {
		clean := strings.NewReplacer("$", "", "{", "", "}", "", "\x00", "")
		fill, text = clean.Replace(strings.ToValidUTF8(fill, "")), clean.Replace(strings.ToValidUTF8(text, ""))
		levels, fan = levels%12, max(fan%64, 1)
		if len(fill)*int(size)+len(text)*int(fan)*int(levels) > MaxTemplateSize {
			t.Skip("over the template size limit")
		}
		// The value inserted: {"Ref": "P"}, then each level.
		v := `{"Ref": "P"}`
		lengths := []int{len(fill) * int(size)}
		for range levels {
			piece := text + "${V}"
			tmpl, _ := json.Marshal(strings.Repeat(piece, int(fan)))
			v = fmt.Sprintf(`{"Fn::Sub": [%s, {"V": %s}]}`, tmpl, v)
			lengths = append(lengths, min(int(fan)*(len(text)+lengths[len(lengths)-1]), 1<<40))
		}
		def, _ := json.Marshal(strings.Repeat(fill, int(size)))
		src := fmt.Sprintf(`{"Parameters": {"P": {"Type": "String", "Default": %s}}, "Resources": {"Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "a", "ProtocolType": "WEBSOCKET", "RouteSelectionExpression": "$request.body.action", "Description": %s}}}}`, def, v)
		if len(src) > MaxTemplateSize {
			t.Skip("over the template size limit")
		}
		root, ds := Parse("f.json", []byte(src))
		if ds.HasErrors() {
			t.Skip("not a template: ", ds[0].Text())
		}
		r := newResolver("f.json", root, Options{})
		r.run()
		refused := false
		for _, d := range r.diags.Diagnostics() {
			refused = refused || d.Rule == RuleBudget.ID
		}
		tooLong, total := false, 0
		for _, l := range lengths[1:] {
			tooLong = tooLong || l > MaxValueBytes
			total += l
		}
		switch {
		case tooLong && !refused:
			t.Fatalf("a string of %v bytes was not refused", lengths)
		case total > MaxEvalBytes && !refused:
			t.Fatalf("%d bytes of strings were not refused", total)
		case !tooLong && total < MaxEvalBytes/4 && refused:
			t.Fatalf("%d bytes of strings (%v) were refused: %v", total, lengths, r.diags.Diagnostics())
		}
		if r.spent > 2*MaxEvalBytes {
			t.Fatalf("spent %d bytes", r.spent)
		}
		if api := r.st.Resource("Api"); api != nil && api.Properties != nil {
			if d := api.Properties.Get("Description"); d != nil && len(d.Value) > MaxValueBytes {
				t.Fatalf("a string of %d bytes", len(d.Value))
			}
		}
	})
}
