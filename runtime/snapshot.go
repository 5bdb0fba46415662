package runtime

import (
	"net/http"
	"strings"
	"time"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/compile/vtl"
)

// snapshot is a plan with everything the gateway provisions from it: stage
// and route indexes, prepared integrations, access log formats, throttling
// buckets. It is built once per plan and never changed, so a message reads a
// consistent view with one atomic load.
type snapshot struct {
	plan *compile.Plan
	// apis is keyed by Api logical ID.
	apis map[string]*apiState
}

type apiState struct {
	api *compile.Api
	// stages is keyed by the stage's path segment ("dev", "" for $default).
	stages map[string]*stageState
}

type stageState struct {
	api *compile.Api
	// sel is the Api's RouteSelectionExpression compiled.
	sel    routeSelection
	stage  *compile.Stage
	access accessFormat
	routes map[string]*routeState
}

type routeState struct {
	route  *compile.Route
	integ  integration // nil: route without integration
	auth   *authorizer // nil: no authorizer ($connect only)
	bucket *bucket     // nil: not throttled
	// modelSel and models are the route's ModelSelectionExpression and
	// RequestModels compiled (nil: no request validation).
	modelSel templateSelection
	models   map[string]routeModel
}

// stageSegment is the path segment a stage is served at ("" for "/").
func stageSegment(s *compile.Stage) string {
	if s.Path != "" {
		return strings.Trim(s.Path, "/")
	}
	if s.Name == "$default" {
		return ""
	}
	return s.Name
}

// provision builds the snapshot of p: everything that runs is built here,
// once per plan, from the plan's plain data (selection expressions and
// paths compiled, $context variables resolved, templates parsed, schemas and
// response patterns compiled, URLs parsed), so that a plan decoded from
// `wsgw plan --format json` serves as the plan it was written from.
func provision(p *compile.Plan, client *http.Client, opts *Options, now time.Time) *snapshot {
	s := &snapshot{plan: p, apis: map[string]*apiState{}}
	pv := &provisioner{plan: p, client: client, opts: opts, templates: map[string]*vtl.Template{}, models: map[string]routeModel{}}
	for _, api := range p.Apis {
		as := &apiState{api: api, stages: map[string]*stageState{}}
		s.apis[api.LogicalID] = as
		sel := newRouteSelection(api.Selection)
		for _, st := range api.Stages {
			ss := &stageState{api: api, sel: sel, stage: st, access: parseAccessFormat(st.AccessLogFormat), routes: map[string]*routeState{}}
			as.stages[stageSegment(st)] = ss
			for key, r := range st.Routes {
				rs := &routeState{route: r}
				rs.modelSel, rs.models = pv.routeModels(r)
				if r.Integration != nil {
					rs.integ = pv.integration(r.Integration, api.ID, st.Variables)
				}
				if r.Authorizer != nil {
					rs.auth = pv.authorizer(r.Authorizer, st.Variables)
				}
				if t := r.Throttle; t != nil {
					rs.bucket = newBucket(t, now)
				} else if t := st.Throttle; t != nil {
					rs.bucket = newBucket(t, now)
				}
				ss.routes[key] = rs
			}
		}
	}
	return s
}

// provisioner builds what runs from one plan (provision). Its caches make
// a template or a schema that several stages or routes share built once.
type provisioner struct {
	plan   *compile.Plan
	client *http.Client
	opts   *Options
	// templates holds the parsed templates by property, key and source.
	templates map[string]*vtl.Template
	// models holds the compiled models by logical ID, name and schema.
	models map[string]routeModel
}

// stage returns the stage a connection belongs to, or nil when the plan no
// longer has it.
func (s *snapshot) stage(apiLogicalID, segment string) *stageState {
	if as := s.apis[apiLogicalID]; as != nil {
		return as.stages[segment]
	}
	return nil
}
