package compile

import (
	"strings"
	"testing"
)

// dPlan is a plan of Apis built by hand.
func dPlan(apis ...*Api) *Plan { return &Plan{Source: "t.yaml", Apis: apis} }

func dApi(id string, stages ...*Stage) *Api {
	return &Api{LogicalID: id, ID: strings.ToLower(id), RouteSelectionExpression: "$request.body.action", Stages: stages}
}

func dStage(name string, routes ...*Route) *Stage {
	s := &Stage{Name: name, Path: "/" + name, Routes: map[string]*Route{}}
	for _, r := range routes {
		s.Routes[r.Key] = r
	}
	return s
}

func dRoute(key string, in *Integration) *Route {
	return &Route{Key: key, LogicalID: "R" + key, Integration: in}
}

func dHTTP(id, url string) *Integration {
	return &Integration{LogicalID: id, ID: id, Type: "HTTP_PROXY", Method: "POST", URL: url, TimeoutMillis: 29000}
}

// with returns a copy of in changed by f.
func with(in *Integration, f func(*Integration)) *Integration {
	c := *in
	f(&c)
	return &c
}

// SPEC: the reload line names what a new plan changed.
func TestDiff(t *testing.T) {
	a := dHTTP("SendInteg", "http://a/send")
	b := dHTTP("SendInteg", "http://b/send")
	other := dHTTP("OtherInteg", "http://a/other")
	tests := []struct {
		name     string
		old, cur *Plan
		want     []string
	}{
		{"same plan", dPlan(dApi("Chat", dStage("dev", dRoute("send", a)))),
			dPlan(dApi("Chat", dStage("dev", dRoute("send", a)))), nil},
		{"nil old plan", nil, dPlan(dApi("Chat")), []string{"+api Chat"}},
		{"route added and removed", dPlan(dApi("Chat", dStage("dev", dRoute("$default", a), dRoute("send", a)))),
			dPlan(dApi("Chat", dStage("dev", dRoute("send", a), dRoute("chat/join", a)))),
			[]string{"-route $default", "+route chat/join"}},
		{"integration retargeted", dPlan(dApi("Chat", dStage("dev", dRoute("send", a), dRoute("$default", a)))),
			dPlan(dApi("Chat", dStage("dev", dRoute("send", b), dRoute("$default", b)))),
			[]string{"~integration SendInteg http://a/send -> http://b/send"}},
		{"method and URL", dPlan(dApi("Chat", dStage("dev", dRoute("send", a)))),
			dPlan(dApi("Chat", dStage("dev", dRoute("send", with(b, func(i *Integration) { i.Method = "PUT" }))))),
			[]string{"~integration SendInteg POST http://a/send -> PUT http://b/send"}},
		{"type, connection, timeout, mapping, templates", dPlan(dApi("Chat", dStage("dev", dRoute("send", a)))),
			dPlan(dApi("Chat", dStage("dev", dRoute("send", with(a, func(i *Integration) {
				i.Type, i.ConnectionType, i.VpcLink, i.TimeoutMillis = "HTTP", "VPC_LINK", "Link", 5000
				i.Mapping = []Step{{Target: "header", Name: "X-Id", Source: Source{Kind: SourceContext, Name: "connectionId", Expr: "context.connectionId"}}}
				i.RequestTemplates = map[string]string{"$default": "{}"}
			}))))),
			[]string{"~integration SendInteg type HTTP_PROXY -> HTTP; connection INTERNET -> VPC_LINK Link; timeout 29000ms -> 5000ms; request parameters; request templates"}},
		{"lambda function retargeted", dPlan(dApi("Chat", dStage("dev", dRoute("send", &Integration{LogicalID: "L", Type: "AWS_PROXY", Method: "POST", URL: "arn:1", Function: "F1"})))),
			dPlan(dApi("Chat", dStage("dev", dRoute("send", &Integration{LogicalID: "L", Type: "AWS_PROXY", Method: "POST", URL: "arn:2", Function: "F2"})))),
			[]string{"~integration L function F1 -> function F2"}},
		{"other settings", dPlan(dApi("Chat", dStage("dev", dRoute("send", &Integration{LogicalID: "L", Type: "AWS_PROXY", URL: "http://x", Function: "F1", Overridden: true})))),
			dPlan(dApi("Chat", dStage("dev", dRoute("send", &Integration{LogicalID: "L", Type: "AWS_PROXY", URL: "http://x", Function: "F2", Overridden: true})))),
			[]string{"~integration L other settings"}},
		{"route changes", dPlan(dApi("Chat", dStage("dev", dRoute("send", a), dRoute("ping", nil), dRoute("$connect", other)))),
			dPlan(dApi("Chat", dStage("dev",
				&Route{Key: "send", Integration: other, TwoWay: true, Throttle: &Throttle{Rate: 10, Burst: 5}},
				dRoute("ping", a), dRoute("$connect", nil)))),
			[]string{"~route $connect integration OtherInteg -> none", "~route ping integration none -> SendInteg",
				"~route send integration SendInteg -> OtherInteg; one-way -> two-way; throttle none -> 10/5"}},
		{"stage added, removed, changed", dPlan(dApi("Chat", dStage("dev"), dStage("old"))),
			dPlan(dApi("Chat", &Stage{Name: "dev", Path: "/dev", Throttle: &Throttle{Rate: 1, Burst: 2}, Variables: map[string]string{"x": "1"}, AccessLogFormat: "$context.requestId"}, dStage("prod"))),
			[]string{"-stage old", "+stage prod", "~stage dev throttle none -> 1/2; variables +x; access log format"}},
		{"stage variables", dPlan(dApi("Chat", &Stage{Name: "dev", Path: "/dev", Variables: map[string]string{"a": "1", "b": "1"}})),
			dPlan(dApi("Chat", &Stage{Name: "dev", Path: "/dev", Variables: map[string]string{"b": "2", "c": "1"}})),
			[]string{"~stage dev variables -a ~b +c"}},
		{"change in one stage of two", dPlan(dApi("Chat", dStage("dev", dRoute("send", a)), dStage("prod", dRoute("send", a)))),
			dPlan(dApi("Chat", dStage("dev", dRoute("send", b), dRoute("new", other)), dStage("prod", dRoute("send", a), dRoute("new", other)))),
			[]string{"+route new", "~integration SendInteg (dev) http://a/send -> http://b/send"}},
		{"api added and removed", dPlan(dApi("Chat", dStage("dev")), dApi("Old", dStage("dev"))),
			dPlan(dApi("Chat", dStage("dev", dRoute("x", a))), dApi("New", dStage("dev"))),
			[]string{"-api Old", "+route x (Chat)", "+api New"}},
		{"api selection and qualified stage", dPlan(dApi("Chat", dStage("dev", dRoute("x", a)), dStage("prod", dRoute("x", a))), dApi("Other")),
			dPlan(&Api{LogicalID: "Chat", RouteSelectionExpression: "$request.body.type", Stages: []*Stage{dStage("dev", dRoute("x", a)), dStage("prod")}}, dApi("Other")),
			[]string{"~api Chat route selection $request.body.action -> $request.body.type", "-route x (Chat/prod)"}},
		{"renamed api", dPlan(dApi("Chat", dStage("dev"))), dPlan(dApi("Chat2", dStage("dev"))),
			[]string{"-api Chat", "+api Chat2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range Diff(tc.old, tc.cur) {
				got = append(got, c.String())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("Diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
