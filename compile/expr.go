package compile

// Expression helpers shared by the validation rules (check*.go) and the
// compiler. Route selection expressions, mapping sources and targets are
// parsed by parseSelection (selection.go), parseSource and parseTarget
// (mapping.go); the rules call those same functions, so an expression that
// validates is exactly one that compiles.

import (
	"regexp"
	"strings"
)

// StageVarRef is one ${stageVariables.name} reference inside a string such as
// an IntegrationUri.
type StageVarRef struct {
	Name string
	// Offset and End delimit the reference, from $ to }, in bytes.
	Offset, End int
}

var stageVarRef = regexp.MustCompile(`\$\{stageVariables\.([^}]*)\}`)

// StageVariableRefs returns the ${stageVariables.name} references of s in order.
// Names are returned as written; IsStageVariableName tells whether they are valid.
func StageVariableRefs(s string) []StageVarRef {
	if !strings.Contains(s, "${stageVariables.") {
		return nil
	}
	var out []StageVarRef
	for _, m := range stageVarRef.FindAllStringSubmatchIndex(s, -1) {
		out = append(out, StageVarRef{Name: s[m[2]:m[3]], Offset: m[0], End: m[1]})
	}
	return out
}

// ExpandStageVariables replaces each ${stageVariables.name} in s with the
// stage's value, or with the empty string when the stage does not define it.
func ExpandStageVariables(s string, vars map[string]string) string {
	if !strings.Contains(s, "${stageVariables.") {
		return s
	}
	return stageVarRef.ReplaceAllStringFunc(s, func(m string) string {
		return vars[m[len("${stageVariables."):len(m)-1]]
	})
}

// IsStageVariableName reports whether name is a valid stage variable name:
// letters, digits and underscores (the CreateStage API reference).
func IsStageVariableName(name string) bool { return stageVarName.MatchString(name) }

// connectOnly reports whether a source kind reads the $connect request
// (headers or query strings), which only $connect integrations can do (SPEC ).
func connectOnly(k SourceKind) bool {
	return k == SourceHeader || k == SourceQueryString || k == SourceMultiValueHeader || k == SourceMultiValueQueryStr
}
