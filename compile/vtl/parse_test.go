package vtl_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/wsgw/wsgw/compile/vtl"
)

// Syntax errors carry the line and column of the offending text, so that
// compile can report them as diagnostics (SPEC ).
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line, col int
		msg       string
	}{
		{"if without end", "{\n  #if($a)\n  x\n}", 2, 3, "#if without #end"},
		{"foreach without end", "#foreach($x in $l)\n$x", 1, 1, "#foreach without #end"},
		{"stray end", "a\nb #end", 2, 3, "#end without a matching #if, #foreach, #macro or #define"},
		{"else outside if", "#else", 1, 1, "#else without a matching #if, #foreach, #macro or #define"},
		{"second else", "#if($a)#else#else#end", 1, 13, "second #else in #if"},
		{"elseif after else", "#if($a)#else#elseif($b)#end", 1, 13, "#elseif after #else"},
		{"else in foreach", "#foreach($x in $l)#else#end", 1, 19, "#else inside #foreach"},
		{"set without paren", "#set $a = 1", 1, 1, "expected ( after #set"},
		{"set without ref", "#set(a = 1)", 1, 6, "#set needs a reference on the left: #set($name = value)"},
		{"set without equals", "#set($a 1)", 1, 9, "expected = in #set"},
		{"set to method", "#set($a.b() = 1)", 1, 6, "cannot assign to a method call"},
		{"unclosed set", "#set($a = 1", 1, 12, "unterminated #set: missing )"},
		{"bad token in if", "#if($a $b)", 1, 8, `unexpected "$" in #if, expected )`},
		{"foreach without in", "#foreach($x on $l)#end", 1, 13, "expected 'in' in #foreach"},
		{"unterminated string", "#set($a = \"abc)", 1, 11, "unterminated string"},
		{"unterminated comment", "ok\n  #* never closed", 2, 3, "unterminated comment: #* without *#"},
		{"unterminated unparsed", "#[[ raw", 1, 1, "unterminated unparsed block: #[[ without ]]#"},
		{"unterminated formal", "${a.b", 1, 1, "unterminated reference: ${ without }"},
		{"unterminated call", "$a.b(1, 2", 1, 3, "unterminated method call: missing )"},
		{"bad index", "$a[1 2]", 1, 6, `unexpected "2" in index, expected ]`},
		{"expression end", "#if($a ==", 1, 10, "unexpected end of template in expression"},
		{"list", "#set($a = [1 2])", 1, 14, `unexpected "2" in list, expected , or ]`},
		{"map", "#set($a = {\"k\" 1})", 1, 16, `unexpected "1" in map, expected :`},
		{"error in string", "#set($a = \"x #end y\")", 1, 14, "#end without a matching directive in string"},
		{"columns count characters", "é€ #end", 1, 4, "#end without a matching #if, #foreach, #macro or #define"},
		{"regex", `$s.replaceAll("(?<=a)b", "c")`, 1, 15, "replaceAll: unsupported or invalid regular expression"},
		{"nesting", strings.Repeat("#if(true)", 300), 1, 2309, "template nests more than 256 levels deep"},
		{"expression nesting", "#set($a = " + strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300) + ")", 1, 267, "template nests more than 256 levels deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := vtl.Parse("tpl", tt.src)
			var pe *vtl.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, want a *vtl.Error", tt.src, err)
			}
			if pe.Line != tt.line || pe.Col != tt.col || !strings.HasPrefix(pe.Msg, tt.msg) {
				t.Errorf("Parse(%q) = %d:%d %q, want %d:%d %q", tt.src, pe.Line, pe.Col, pe.Msg, tt.line, tt.col, tt.msg)
			}
			if pe.Name != "tpl" || !strings.HasPrefix(pe.Error(), "tpl:") {
				t.Errorf("Error() = %q, want the template name first", pe.Error())
			}
		})
	}
}

// Templates that look odd but are valid render rather than fail.
func TestParseAccepts(t *testing.T) {
	for _, src := range []string{
		"", "$", "#", "\\", "$$", "##", "# if", "#1", "$1", "${", "$!", "$!{",
		"#foo", "#foo(", "#iffy($a)", "#endx", "$a.", "$a[", "$a[x]", "\\\\\\",
		"#set($a = 1)#set($a.b = 2)#set($a[0] = 3)", "#{set}($a = 1)$a",
		"#macro(m $a, $b)$a$b#end#m(1 2)#m(1, 2)#m()",
		"#define($d)x#end$d", "#break", "#stop", "#[[ ]]#", "#**#", "#***#",
		"#if($a)#elseif($b)#{else}#{end}", "$a.b( $c )", "{\"a\": $input.json('$')}",
	} {
		t.Run(src, func(t *testing.T) {
			tpl, err := vtl.Parse("t", src)
			if err != nil {
				t.Fatalf("Parse(%q): %v", src, err)
			}
			if _, err := tpl.RenderString(nil); err != nil {
				t.Fatalf("Render(%q): %v", src, err)
			}
		})
	}
}
