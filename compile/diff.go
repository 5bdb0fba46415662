package compile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Change is one difference between two plans, in the words the reload line
// of `wsgw serve` prints (SPEC ): an Api, stage or route added or
// removed, or an Api, stage, route or integration changed.
type Change struct {
	// Op is '+' (added), '-' (removed) or '~' (changed).
	Op byte
	// Kind is "api", "stage", "route" or "integration".
	Kind string
	// Name is the Api's or integration's logical ID, the stage's name or the
	// route key.
	Name string
	// Api and Stage say where the change is when the plans have several Apis
	// (Api), or when it is not the same in every stage of its Api (Stage).
	Api, Stage string
	// Detail says what changed, for '~': "http://a -> http://b".
	Detail string
}

// String is the change as printed: "+route chat/join",
// "~integration SendInteg (dev) http://a -> http://b".
func (c Change) String() string {
	var b strings.Builder
	b.WriteByte(c.Op)
	b.WriteString(c.Kind)
	b.WriteByte(' ')
	b.WriteString(c.Name)
	switch {
	case c.Api != "" && c.Stage != "":
		b.WriteString(" (" + c.Api + "/" + c.Stage + ")")
	case c.Api != "":
		b.WriteString(" (" + c.Api + ")")
	case c.Stage != "":
		b.WriteString(" (" + c.Stage + ")")
	}
	if c.Detail != "" {
		b.WriteByte(' ')
		b.WriteString(c.Detail)
	}
	return b.String()
}

// Diff lists what changed from old to cur: Apis removed and added (by logical
// ID), stages removed and added (by the path they are served at), and, in the
// Apis and stages both plans have, what changed in the Api (route
// selection), in each stage (throttling, variables, access log format), in
// each route (removed, added, integration, two-way, throttling) and in each
// integration (type, method and URL, connection, timeout, mapping,
// templates); any other difference in their JSON form is "other settings".
// An integration is compared only when both plans route to it;
// one only added or removed shows as its routes. A change found in every
// stage the Api keeps is listed once, without a stage. The order is stable:
// Apis in plan order, then stages, routes ($connect, $disconnect, $default,
// then by key) and integrations (by logical ID). Either plan may be nil.
func Diff(old, cur *Plan) []Change {
	var oldApis, newApis []*Api
	if old != nil {
		oldApis = old.Apis
	}
	if cur != nil {
		newApis = cur.Apis
	}
	byID := func(apis []*Api) map[string]*Api {
		m := make(map[string]*Api, len(apis))
		for _, a := range apis {
			m[a.LogicalID] = a
		}
		return m
	}
	oldBy, newBy := byID(oldApis), byID(newApis)
	several := len(oldApis) > 1 || len(newApis) > 1

	var out []Change
	for _, a := range oldApis {
		if newBy[a.LogicalID] == nil {
			out = append(out, Change{Op: '-', Kind: "api", Name: a.LogicalID})
		}
	}
	for _, a := range newApis {
		o := oldBy[a.LogicalID]
		if o == nil {
			out = append(out, Change{Op: '+', Kind: "api", Name: a.LogicalID})
			continue
		}
		api := ""
		if several {
			api = a.LogicalID
		}
		out = append(out, diffApi(o, a, api)...)
	}
	return out
}

// diffApi compares two versions of one Api; api qualifies the changes.
func diffApi(o, n *Api, api string) []Change {
	var out []Change
	if o.RouteSelectionExpression != n.RouteSelectionExpression {
		out = append(out, Change{Op: '~', Kind: "api", Name: n.LogicalID,
			Detail: "route selection " + o.RouteSelectionExpression + " -> " + n.RouteSelectionExpression})
	} else {
		oc, nc := *o, *n
		oc.Stages, nc.Stages = nil, nil
		oc.ID, oc.Name = nc.ID, nc.Name
		if !jsonEqual(oc, nc) {
			out = append(out, Change{Op: '~', Kind: "api", Name: n.LogicalID, Detail: otherSettings})
		}
	}
	oldStages := map[string]*Stage{}
	for _, s := range o.Stages {
		oldStages[s.Path] = s
	}
	newStages := map[string]*Stage{}
	for _, s := range n.Stages {
		newStages[s.Path] = s
	}
	for _, s := range o.Stages {
		if newStages[s.Path] == nil {
			out = append(out, Change{Op: '-', Kind: "stage", Name: s.Name, Api: api})
		}
	}
	var common [][2]*Stage
	for _, s := range n.Stages {
		if prev := oldStages[s.Path]; prev != nil {
			common = append(common, [2]*Stage{prev, s})
		} else {
			out = append(out, Change{Op: '+', Kind: "stage", Name: s.Name, Api: api})
		}
	}
	for _, p := range common {
		out = append(out, diffStageSettings(p[0], p[1], api)...)
	}

	// Route and integration changes, per stage, then folded: a change every
	// common stage has is listed once, without its stage.
	type key struct {
		op                 byte
		kind, name, detail string
	}
	var order []key
	stages := map[key][]string{}
	for _, p := range common {
		for _, c := range diffStageRoutes(p[0], p[1]) {
			k := key{c.Op, c.Kind, c.Name, c.Detail}
			if _, ok := stages[k]; !ok {
				order = append(order, k)
			}
			stages[k] = append(stages[k], p[1].Name)
		}
	}
	slices.SortStableFunc(order, func(a, b key) int {
		if a.kind != b.kind {
			return strings.Compare(kindRank(a.kind), kindRank(b.kind))
		}
		if a.kind == "route" {
			return CompareRouteKeys(a.name, b.name)
		}
		return strings.Compare(a.name, b.name)
	})
	for _, k := range order {
		c := Change{Op: k.op, Kind: k.kind, Name: k.name, Detail: k.detail, Api: api}
		if in := stages[k]; len(in) == len(common) {
			out = append(out, c)
		} else {
			for _, st := range in {
				c.Stage = st
				out = append(out, c)
			}
		}
	}
	return out
}

func kindRank(kind string) string {
	if kind == "route" {
		return "0"
	}
	return "1" + kind
}

// CompareRouteKeys orders route keys as people read a route table:
// $connect, $disconnect, $default, then the custom keys in byte order.
func CompareRouteKeys(a, b string) int {
	rank := func(k string) int {
		switch k {
		case "$connect":
			return 0
		case "$disconnect":
			return 1
		case "$default":
			return 2
		}
		return 3
	}
	if d := rank(a) - rank(b); d != 0 {
		return d
	}
	return strings.Compare(a, b)
}

// diffStageSettings compares a stage's own settings.
func diffStageSettings(o, n *Stage, api string) []Change {
	var what []string
	if !throttleEqual(o.Throttle, n.Throttle) {
		what = append(what, "throttle "+throttleText(o.Throttle)+" -> "+throttleText(n.Throttle))
	}
	var vars []string
	for _, k := range slices.Sorted(maps.Keys(o.Variables)) {
		if nv, ok := n.Variables[k]; !ok {
			vars = append(vars, "-"+k)
		} else if nv != o.Variables[k] {
			vars = append(vars, "~"+k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(n.Variables)) {
		if _, ok := o.Variables[k]; !ok {
			vars = append(vars, "+"+k)
		}
	}
	if len(vars) > 0 {
		what = append(what, "variables "+strings.Join(vars, " "))
	}
	if o.AccessLogFormat != n.AccessLogFormat {
		what = append(what, "access log format")
	}
	if len(what) == 0 {
		oc, nc := *o, *n
		oc.Routes, nc.Routes = nil, nil
		oc.LogicalID = nc.LogicalID
		if jsonEqual(oc, nc) {
			return nil
		}
		what = append(what, otherSettings)
	}
	return []Change{{Op: '~', Kind: "stage", Name: n.Name, Api: api, Detail: strings.Join(what, "; ")}}
}

// diffStageRoutes compares the routes of two versions of a stage, and the
// integrations both route to. The changes have no Api or Stage.
func diffStageRoutes(o, n *Stage) []Change {
	var out []Change
	for _, k := range slices.Sorted(maps.Keys(o.Routes)) {
		if n.Routes[k] == nil {
			out = append(out, Change{Op: '-', Kind: "route", Name: k})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(n.Routes)) {
		nr, or := n.Routes[k], o.Routes[k]
		if or == nil {
			out = append(out, Change{Op: '+', Kind: "route", Name: k})
			continue
		}
		var what []string
		if oi, ni := integrationID(or), integrationID(nr); oi != ni {
			what = append(what, "integration "+oi+" -> "+ni)
		}
		if or.TwoWay != nr.TwoWay {
			what = append(what, wayText(or.TwoWay)+" -> "+wayText(nr.TwoWay))
		}
		if !throttleEqual(or.Throttle, nr.Throttle) {
			what = append(what, "throttle "+throttleText(or.Throttle)+" -> "+throttleText(nr.Throttle))
		}
		if len(what) == 0 {
			oc, nc := *or, *nr
			oc.Integration, nc.Integration = nil, nil
			oc.LogicalID = nc.LogicalID
			if !jsonEqual(oc, nc) {
				what = append(what, otherSettings)
			}
		}
		if len(what) > 0 {
			out = append(out, Change{Op: '~', Kind: "route", Name: k, Detail: strings.Join(what, "; ")})
		}
	}
	oldInteg, newInteg := integrations(o), integrations(n)
	for _, id := range slices.Sorted(maps.Keys(newInteg)) {
		if oi := oldInteg[id]; oi != nil {
			if d := diffIntegration(oi, newInteg[id]); d != "" {
				out = append(out, Change{Op: '~', Kind: "integration", Name: id, Detail: d})
			}
		}
	}
	return out
}

func integrationID(r *Route) string {
	if r.Integration == nil {
		return "none"
	}
	return r.Integration.LogicalID
}

func wayText(twoWay bool) string {
	if twoWay {
		return "two-way"
	}
	return "one-way"
}

// integrations indexes the integrations a stage's routes use by logical ID.
func integrations(s *Stage) map[string]*Integration {
	m := map[string]*Integration{}
	for _, r := range s.Routes {
		if r.Integration != nil {
			m[r.Integration.LogicalID] = r.Integration
		}
	}
	return m
}

// diffIntegration says what changed in an integration, "" when nothing did.
func diffIntegration(o, n *Integration) string {
	var what []string
	if o.Type != n.Type {
		what = append(what, "type "+o.Type+" -> "+n.Type)
	}
	switch ot, nt := orNone(o.Target()), orNone(n.Target()); {
	case ot == nt:
	case o.Method == n.Method && o.Function == n.Function && o.URL != n.URL:
		what = append(what, orNone(o.URL)+" -> "+orNone(n.URL))
	default:
		what = append(what, ot+" -> "+nt)
	}
	if o.ConnectionType != n.ConnectionType || o.VpcLink != n.VpcLink {
		what = append(what, "connection "+connText(o)+" -> "+connText(n))
	}
	if o.TimeoutMillis != n.TimeoutMillis {
		what = append(what, fmt.Sprintf("timeout %dms -> %dms", o.TimeoutMillis, n.TimeoutMillis))
	}
	if !mappingEqual(o.Mapping, n.Mapping) {
		what = append(what, "request parameters")
	}
	if o.TemplateSelectionExpression != n.TemplateSelectionExpression || !maps.Equal(o.RequestTemplates, n.RequestTemplates) {
		what = append(what, "request templates")
	}
	if len(what) == 0 {
		// What is derived from the fields above, or not the integration's own.
		oc := *o
		oc.ID, oc.Overridden, oc.NotRunnable = n.ID, n.Overridden, n.NotRunnable
		if !jsonEqual(&oc, n) {
			what = append(what, otherSettings)
		}
	}
	return strings.Join(what, "; ")
}

// otherSettings is the detail of a change to what Diff does not name one by
// one (authorizers, models, response templates, …): the plans' JSON differs.
const otherSettings = "other settings"

// jsonEqual reports whether a and b have the same JSON form (that of `wsgw
// plan --format json`).
func jsonEqual(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

// Target is where the integration sends its calls, as the serve summary
// and Diff print it: "POST http://…", "function ChatFunction", or "" when
// nowhere.
func (in *Integration) Target() string {
	switch {
	case in.Function != "" && !in.Overridden:
		return "function " + in.Function
	case in.Method != "" && in.URL != "":
		return in.Method + " " + in.URL
	}
	return in.URL
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func connText(in *Integration) string {
	switch {
	case in.ConnectionType == "":
		return "INTERNET"
	case in.VpcLink != "":
		return in.ConnectionType + " " + in.VpcLink
	}
	return in.ConnectionType
}

func mappingEqual(a, b []Step) bool {
	return slices.EqualFunc(a, b, func(x, y Step) bool {
		return x.Target == y.Target && x.Name == y.Name && x.Source.Kind == y.Source.Kind && x.Source.Name == y.Source.Name &&
			slices.Equal(x.Source.Path, y.Source.Path) && x.Source.Literal == y.Source.Literal && x.Source.Expr == y.Source.Expr
	})
}

func throttleEqual(a, b *Throttle) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// throttleText is "RATE/BURST" or "none".
func throttleText(t *Throttle) string {
	if t == nil {
		return "none"
	}
	return fmt.Sprintf("%g/%d", t.Rate, t.Burst)
}
