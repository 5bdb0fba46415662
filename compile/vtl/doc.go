// Package vtl is a Velocity Template Language engine for API Gateway
// mapping templates (SPEC ): request and response templates of
// non-proxy HTTP, AWS and MOCK integrations.
//
// A template is parsed once, when the plan is compiled; rendering never
// parses. Parse returns an *Error with the line and column of a syntax
// error, which compile turns into a diagnostic:
//
//	t, err := vtl.Parse("RequestTemplates.application/json", src)
//	...
//	out, err := t.RenderString(vtl.Vars{
//		"input":          vtl.NewInput(body, vtl.Params{Header: h, QueryString: q}),
//		"context":        map[string]any{"connectionId": id, "stage": "dev", ...},
//		"stageVariables": map[string]string{...},
//		"util":           vtl.Util(),
//	})
//
// A *Template is immutable and may be rendered by many goroutines at once.
// Each render is bounded by Limits (output size, evaluation steps, bytes
// allocated, nesting depth, wall-clock time); reaching one is an error,
// never a panic or a hang.
//
// # Language
//
// References ($x, ${x}, $!x, $!{x}) with properties ($a.b.c), indexes
// ($a[0], $a['k'], $a[$i], negative indexes from the end) and method calls
// ($a.b(1, "x")); #set, #if/#elseif/#else/#end, #foreach with $foreach.index,
// .count, .hasNext, .first, .last, .parent and $velocityCount; #break,
// #stop, #macro, #define; string literals (double-quoted ones are templates
// themselves, single-quoted ones are literal), integers, decimals, true,
// false, null, lists [1, 2], ranges [1..3], maps {"a": 1}; + - * / %,
// == != < > <= >= (also eq ne lt gt le ge), && || ! (also and or not);
// ## and #* *# comments, #[[ unparsed ]]#, and \$x, \#if escapes. Directive
// names may be braced: #{if}, #{else}, #{end}.
//
// Methods are those of the Java classes API Gateway's values have:
// java.lang.String (length, isEmpty, contains, startsWith, endsWith,
// indexOf, lastIndexOf, substring, replace, replaceAll, replaceFirst, split,
// matches, toLowerCase, toUpperCase, trim, equals, equalsIgnoreCase,
// compareTo, charAt, concat, toString), java.util.List (size, isEmpty, get,
// contains, indexOf, lastIndexOf, add, set, remove, addAll, subList, clear)
// and java.util.Map (get, getOrDefault, put, putAll, remove, containsKey,
// containsValue, keySet, values, entrySet, size, isEmpty), with Java's
// semantics: UTF-16 indexes, Java regular expressions (run by Go's RE2, so
// look-around and back-references are rejected), Java's split and
// replacement syntax. There is no reflection on Go values and no .class.
//
// # API Gateway semantics
//
// Where Apache Velocity 1.7 (API Gateway's engine) and velocityjs, the
// reference implementation the tests compare against, disagree, this
// package follows API Gateway:
//
//   - a null or undefined reference renders as nothing (API Gateway's
//     quiet rendering), and #set with a null value leaves its target alone;
//   - #if treats every value except null and false as true, "" and 0
//     included; && and || give booleans, and && binds tighter than ||;
//   - integer arithmetic stays integer (7 / 2 is 3), a division by zero or
//     arithmetic on a non-number is null; doubles print as Java prints them
//     (3.0, 1.0E21); == compares numbers by value, lists and maps element
//     by element, other values of different types by their string forms;
//     < and friends order numbers only;
//   - JSON read by $input.path and $util.parseJson keeps Java's types:
//     objects print as {k=v}, arrays as JSON text, as API Gateway's
//     json-smart values do;
//   - #break leaves the loop at once and #stop ends the output.
//
// Whitespace follows velocityjs: a directive swallows the rest of its line
// when only spaces or tabs follow it.
//
// # API Gateway variables
//
// The caller supplies the variables; the package ships $input (NewInput)
// and $util (Util). $input.body is the payload ({} when empty),
// $input.json(path) the JSON text at a JSONPath, $input.path(path) the value
// there, $input.params() all parameters and $input.params(name) one, looked
// up in path, query string, then headers. JSONPath covers $, .name,
// ['name'], [n], [n,m], [a:b], [*], .* and ..name. $util has
// escapeJavaScript, parseJson, urlEncode, urlDecode, base64Encode and
// base64Decode. Go values passed in Vars (maps with string keys, slices,
// numbers, strings, booleans) are readable; templates may modify only
// *Map and *List values, which a caller must not share between concurrent
// renders.
package vtl
