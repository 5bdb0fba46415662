package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/wsgw/wsgw/compile"
)

// templateNotes says, for `wsgw plan`, how a non-proxy integration maps
// messages (SPEC ): its request template keys, selection
// expression and passthrough behaviour, and its integration responses.
func templateNotes(in *compile.Integration) []string {
	if in.PassthroughBehavior == "" {
		return nil // a proxy integration
	}
	sel := in.TemplateSelectionExpression
	if sel == "" {
		sel = "none"
	}
	notes := []string{fmt.Sprintf("    %s request templates %s (selection %s, passthrough %s)",
		in.LogicalID, keyList(in.RequestTemplates), sel, in.PassthroughBehavior)}
	for _, r := range in.Responses {
		line := fmt.Sprintf("    %s response %s (%s) templates %s", in.LogicalID, r.Key, r.LogicalID, keyList(r.ResponseTemplates))
		if r.TemplateSelectionExpression != "" {
			line += " (selection " + r.TemplateSelectionExpression + ")"
		}
		notes = append(notes, line)
	}
	return notes
}

// modelNote says which models a route validates its messages against.
func modelNote(key string, r *compile.Route) string {
	if r.ModelSelectionExpression == "" {
		return ""
	}
	keys := slices.Sorted(maps.Keys(r.RequestModels))
	models := make([]string, len(keys))
	for i, k := range keys {
		models[i] = k + " -> " + r.RequestModels[k].Name
	}
	if len(models) == 0 {
		models = []string{"none: every message is refused"}
	}
	return fmt.Sprintf("    route %s validates messages: %s (selection %s)", key, strings.Join(models, ", "), r.ModelSelectionExpression)
}

// keyList is the sorted keys of a template map, or "none".
func keyList(m map[string]string) string {
	if len(m) == 0 {
		return "none"
	}
	return strings.Join(slices.Sorted(maps.Keys(m)), ", ")
}
