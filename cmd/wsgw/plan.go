package main

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/wsgw/wsgw/compile"
	"github.com/wsgw/wsgw/runtime/lambda"
	"github.com/wsgw/wsgw/template"
)

// planFormats are the output formats of `wsgw plan --format`.
var planFormats = []string{"text", "json", "cloudformation"}

type planOptions struct {
	IO           *iostreams
	File         string
	Format       string
	Params       []string
	Integrations []string
	Stage        string
}

// newPlanCmd is `wsgw plan` (SPEC ).
func newPlanCmd(ios *iostreams) *cobra.Command {
	opts := &planOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "plan [flags] TEMPLATE",
		Short: "Print the compiled plan: routes, selection expression, integrations and mappings",
		Long: `Compile a template as 'wsgw serve' would and print the plan the gateway runs:
for each WebSocket API and stage, the URL path, the route selection
expression and its compiled parts, and the route table with each route's
integration (type, method and target URL with stage variables substituted,
timeout) and its request parameter mappings.

Output formats (--format):
  text            a readable summary, per API and stage
  json            the plan itself; stable (keys sorted, lists in template
                  order), so tests and tools can compare it
  cloudformation  the resources wsgw serves as CloudFormation JSON after
                  SAM's transform, intrinsics unresolved as SAM writes them:
                  every AWS::ApiGatewayV2 resource, the Lambda permissions and
                  Route53 record sets SAM generates for a WebSocketApi (and
                  Lambda permissions for apigateway.amazonaws.com), and every
                  resource they reference, transitively: SAM functions as the
                  AWS::Lambda::Function and execution role SAM generates, SAM
                  simple tables as AWS::DynamoDB::Table, other resources as
                  written; the template's other sections as SAM keeps them,
                  but Outputs. Only template errors stop it (not the serve
                  checks); what it leaves out is noted on stderr

Parameters without a Default need --param, as for serve. Diagnostics go to
stderr, one per line as 'wsgw validate' prints them; stdout holds only the plan.

Exit status:
  0  the plan was printed (warnings allowed)
  1  the template has errors; no plan
  2  usage error, or a file that could not be read`,
		Example: `  wsgw plan template.yaml
  wsgw plan --stage dev --format json template.yaml
  wsgw plan --format cloudformation template.yaml
  wsgw plan --integration SendInteg=http://127.0.0.1:8080/send template.yaml`,
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("plan needs exactly one TEMPLATE, got %d", len(args))
			}
			opts.File = args[0]
			return runPlan(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Format, "format", "text", "output format: "+strings.Join(planFormats, ", "))
	f.StringArrayVar(&opts.Params, "param", nil, "override a template parameter, as `Name=Value`, or set what wsgw makes up for a resource it does not run (Resource=Value for its Ref, Resource.Attribute=Value) (repeatable)")
	f.StringArrayVar(&opts.Integrations, "integration", nil, "send the integration or authorizer with logical ID `ID=URL` to URL instead of its IntegrationUri or AuthorizerUri (repeatable)")
	f.StringVar(&opts.Stage, "stage", "", "compile only the stage `NAME`")
	return cmd
}

func runPlan(o *planOptions) error {
	if !slices.Contains(planFormats, o.Format) {
		return usageErrorf("unknown --format %q (want one of %s)", o.Format, strings.Join(planFormats, ", "))
	}
	params, err := parseParams(o.Params)
	if err != nil {
		return err
	}
	integs, err := parseIntegrations(o.Integrations)
	if err != nil {
		return err
	}
	src, err := os.ReadFile(o.File)
	if err != nil {
		fmt.Fprintf(o.IO.Err, "wsgw: %s: %s\n", o.File, readError(err))
		return exitWith(exitUsage)
	}
	if o.Format == "cloudformation" {
		return writeCloudFormation(o, src, params)
	}
	plan, ds := compile.Build(o.File, src, template.Options{Params: params, RequireParams: true},
		compile.Options{Integrations: integs, Stage: o.Stage, CanRun: lambda.CanRun})
	for _, d := range ds {
		fmt.Fprintln(o.IO.Err, d.Text())
	}
	if plan == nil {
		errs, warns := ds.Count()
		fmt.Fprintf(o.IO.Err, "%s, %s in %s: no plan\n", plural(errs, "error"), plural(warns, "warning"), o.File)
		return exitWith(exitFailure)
	}
	if o.Format == "json" {
		return plan.WriteJSON(o.IO.Out)
	}
	return writePlanText(o.IO.Out, plan)
}

// parseIntegrations turns repeated ID=URL flags into a map; the last URL of an
// ID wins. Whether the ID and URL are good is for compile to say, with the
// template's integrations at hand.
func parseIntegrations(list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(list))
	for _, s := range list {
		id, u, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(id) == "" || u == "" {
			return nil, usageErrorf("--integration %q: want ID=URL", s)
		}
		out[id] = u
	}
	return out, nil
}

// routeOrder lists the predefined routes first, then custom keys in order.
func routeOrder(routes map[string]*compile.Route) []string {
	keys := make([]string, 0, len(routes))
	for k := range routes {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compile.CompareRouteKeys)
	return keys
}

// writePlanText renders the plan for people: per Api and stage the path, the
// selection expression, a route table and the mapping steps.
func writePlanText(w io.Writer, p *compile.Plan) error {
	ew := &errWriter{w: w}
	if len(p.Apis) == 0 {
		ew.printf("%s defines no WebSocket API\n", p.Source)
		return ew.err
	}
	for i, a := range p.Apis {
		if i > 0 {
			ew.printf("\n")
		}
		name := ""
		if a.Name != "" {
			name = a.Name + ", "
		}
		ew.printf("api %s (%sid %s)\n", a.LogicalID, name, a.ID)
		ew.printf("  route selection  %s\n", a.RouteSelectionExpression)
		ew.printf("                   = %s\n", selectionParts(a.Selection))
		for _, s := range a.Stages {
			writeStageText(ew, s)
		}
	}
	return ew.err
}

// writeStageText prints a stage: its settings, a table of its routes, notes
// on routes and integrations, and the integrations' parameter mappings.
func writeStageText(ew *errWriter, s *compile.Stage) {
	conns := strings.TrimSuffix(s.Path, "/") + "/@connections/{connectionId}"
	ew.printf("\n  stage %s  %s  (@connections %s)\n", s.Name, s.Path, conns)
	if len(s.Variables) > 0 {
		var vars []string
		for _, k := range slices.Sorted(maps.Keys(s.Variables)) {
			vars = append(vars, k+"="+s.Variables[k])
		}
		ew.printf("    variables   %s\n", strings.Join(vars, " "))
	}
	if s.Throttle != nil {
		ew.printf("    throttle    %s\n", throttleText(s.Throttle))
	}
	if s.AccessLogFormat != "" {
		ew.printf("    access log  %s\n", s.AccessLogFormat)
	}
	keys := routeOrder(s.Routes)
	if len(keys) == 0 {
		ew.printf("    no routes: every message is answered with Forbidden\n")
		return
	}
	ew.printf("\n")
	writeRouteTable(ew, s, keys)
	if notes := stageNotes(s, keys); len(notes) > 0 {
		ew.printf("\n%s\n", strings.Join(notes, "\n"))
	}
	writeMappings(ew, s, keys)
}

// writeRouteTable prints a line per route, in the order of keys.
func writeRouteTable(ew *errWriter, s *compile.Stage, keys []string) {
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "    ROUTE\tTWO-WAY\tINTEGRATION\tTYPE\tTARGET\tTIMEOUT\tMAPPINGS")
	for _, k := range keys {
		r := s.Routes[k]
		twoWay := "no"
		if r.TwoWay {
			twoWay = "yes"
		}
		in := r.Integration
		if in == nil {
			fmt.Fprintf(tw, "    %s\t%s\t-\t-\t(no Target)\t-\t-\n", k, twoWay)
			continue
		}
		target := strings.TrimSpace(in.Method + " " + in.URL)
		if in.Overridden {
			target += " (--integration)"
		}
		if target == "" {
			target = "-"
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\t%dms\t%d\n", k, twoWay, in.LogicalID, in.Type, target, in.TimeoutMillis, len(in.Mapping))
	}
	tw.Flush()
}

// stageNotes are the lines on the routes (throttles, models, authorizers),
// then on each integration once.
func stageNotes(s *compile.Stage, keys []string) []string {
	var notes []string
	for _, k := range keys {
		if t := s.Routes[k].Throttle; t != nil {
			notes = append(notes, fmt.Sprintf("    route %s throttle  %s", k, throttleText(t)))
		}
		if n := modelNote(k, s.Routes[k]); n != "" {
			notes = append(notes, n)
		}
		notes = append(notes, authNotes(k, s.Routes[k])...)
	}
	done := map[string]bool{}
	for _, k := range keys {
		in := s.Routes[k].Integration
		if in == nil || done[in.LogicalID] {
			continue
		}
		done[in.LogicalID] = true
		if in.VpcLink != "" {
			notes = append(notes, fmt.Sprintf("    %s goes through VPC link %s", in.LogicalID, in.VpcLink))
		}
		if in.Function != "" {
			notes = append(notes, fmt.Sprintf("    %s invokes function %s", in.LogicalID, in.Function))
		}
		if in.NotRunnable != "" {
			notes = append(notes, fmt.Sprintf("    %s cannot run: %s", in.LogicalID, in.NotRunnable))
		}
		notes = append(notes, templateNotes(in)...)
	}
	return notes
}

// writeMappings prints the parameter mappings of each integration once.
func writeMappings(ew *errWriter, s *compile.Stage, keys []string) {
	done := map[string]bool{}
	first := true
	for _, k := range keys {
		in := s.Routes[k].Integration
		if in == nil || len(in.Mapping) == 0 || done[in.LogicalID] {
			continue
		}
		done[in.LogicalID] = true
		if first {
			ew.printf("\n    mappings\n")
			first = false
		}
		ew.printf("      %s\n", in.LogicalID)
		tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
		for _, st := range in.Mapping {
			fmt.Fprintf(tw, "        %s %s\t<- %s\n", st.Target, st.Name, sourceText(st.Source))
		}
		tw.Flush()
	}
}

func throttleText(t *compile.Throttle) string {
	return fmt.Sprintf("%s req/s, burst %d", strconv.FormatFloat(t.Rate, 'f', -1, 64), t.Burst)
}

// selectionParts renders compiled selection parts: body paths as body.a.b,
// text quoted, joined by +.
func selectionParts(sel compile.Selection) string {
	if len(sel.Parts) == 0 {
		return "(nothing)"
	}
	parts := make([]string, len(sel.Parts))
	for i, p := range sel.Parts {
		if p.Path == nil {
			parts[i] = strconv.Quote(p.Text)
		} else {
			parts[i] = "body" + pathText(p.Path)
		}
	}
	return strings.Join(parts, " + ")
}

func pathText(path []string) string {
	var b strings.Builder
	for _, seg := range path {
		if _, err := strconv.Atoi(seg); err == nil {
			b.WriteString("[" + seg + "]")
		} else if strings.ContainsAny(seg, ".[]' ") {
			b.WriteString("['" + seg + "']")
		} else {
			b.WriteString("." + seg)
		}
	}
	return b.String()
}

// sourceText renders a mapping source as written, with the value a stage
// variable resolved to.
func sourceText(s compile.Source) string {
	if s.Kind == compile.SourceLiteral && !strings.HasPrefix(s.Expr, "'") {
		return fmt.Sprintf("%s = %q", s.Expr, s.Literal)
	}
	return s.Expr
}

// errWriter remembers the first write error, so rendering code can print freely.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}

// authNotes describes a $connect route's authorizer and API key.
func authNotes(key string, r *compile.Route) []string {
	var notes []string
	if a := r.Authorizer; a != nil {
		var ids []string
		for _, src := range a.IdentitySources {
			ids = append(ids, src.Expr)
		}
		identity := "no identity sources"
		if len(ids) > 0 {
			identity = "identity " + strings.Join(ids, ", ")
		}
		target := "function " + a.FunctionName
		if a.Overridden {
			target = a.URI + " (--integration)"
		}
		notes = append(notes, fmt.Sprintf("    route %s authorizer %s (%s, %s; %s)", key, a.LogicalID, a.Type, target, identity))
		if a.NotRunnable != "" {
			notes = append(notes, fmt.Sprintf("    %s cannot run: %s", a.LogicalID, a.NotRunnable))
		}
	}
	if r.IAM {
		notes = append(notes, fmt.Sprintf("    route %s requires a SigV4-signed handshake (AWS_IAM; the signature is not checked)", key))
	}
	if r.ApiKeyRequired {
		notes = append(notes, fmt.Sprintf("    route %s requires an API key (x-api-key)", key))
	}
	return notes
}
