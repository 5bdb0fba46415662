package compile

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/wsgw/wsgw/template"
)

// Lambda defaults, from the AWS::Lambda::Function reference.
const (
	defaultFunctionTimeoutMillis = 3000
	defaultFunctionMemoryMB      = 128
	defaultArchitecture          = "x86_64"
)

// invokedARN picks the function ARN out of a Lambda invocation URI
// (arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/ARN/invocations),
// and the name and qualifier out of that ARN.
var (
	invokedARN  = regexp.MustCompile(`^arn:[a-z-]+:apigateway:[^:]*:lambda:path/2015-03-31/functions/(.+)/invocations$`)
	functionARN = regexp.MustCompile(`^arn:[a-z-]+:lambda:[^:]*:[^:]*:function:([^:/]+)(?::([^:/]+))?$`)
)

// invokedFunction returns the function name and qualifier a Lambda
// invocation URI names; ok is false when uri is not one.
func invokedFunction(uri string) (name, qualifier string, ok bool) {
	m := invokedARN.FindStringSubmatch(uri)
	if m == nil {
		return "", "", false
	}
	f := functionARN.FindStringSubmatch(m[1])
	if f == nil {
		return "", "", false
	}
	return f[1], f[2], true
}

// lambdaTarget is what an AWS_PROXY integration or an authorizer invokes:
// the function of the template (nil when the URI names another one), its name
// and qualifier for the Invoke API.
type lambdaTarget struct {
	fn        *Function
	name      string
	qualifier string
}

// lambdaTarget resolves the function a Lambda URI invokes (after stage
// variables): the first function whose Arn the URI was built from (fns, bound
// once), else the function of the template named in the ARN.
func (c *compiler) lambdaTarget(fns []*template.Resource, url string) lambdaTarget {
	var t lambdaTarget
	name, qual, ok := invokedFunction(url)
	if ok {
		t.name, t.qualifier = name, qual
	}
	var rs *template.Resource
	if len(fns) > 0 {
		rs = fns[0]
	}
	if rs == nil && t.name != "" {
		rs = c.st.ByPhysicalID(template.TypeSAMFunction, t.name)
		if rs == nil {
			rs = c.st.ByPhysicalID(template.TypeLambdaFunction, t.name)
		}
	}
	if rs != nil {
		t.fn = c.function(rs)
		t.name = t.fn.Name
	}
	return t
}

func isFunction(rs *template.Resource) bool {
	return rs.Type == template.TypeLambdaFunction || rs.Type == template.TypeSAMFunction
}

// runnable says why the gateway has no way to run what t names (SPEC ),
// or "" when it has one: an --integration override (overridden), the
// --lambda-endpoint, or a local process for a function of the template
// (Options.CanRun). how names the --integration flag that would help, or "".
func (c *compiler) runnable(t lambdaTarget, overridden bool, how string) string {
	if overridden || c.opts.LambdaEndpoint != "" {
		return ""
	}
	alt := "give --lambda-endpoint URL"
	if how != "" {
		alt += " or " + how
	}
	if t.fn == nil {
		name := t.name
		if name == "" {
			return "its URI names no Lambda function; " + alt
		}
		return fmt.Sprintf("it invokes function %s, which is not defined in this template; %s", name, alt)
	}
	switch fn := t.fn; {
	case fn.Unreachable != "":
		return fmt.Sprintf("function %s cannot run locally: %s; %s", fn.LogicalID, fn.Unreachable, alt)
	case fn.NeedsBuild != "":
		return fmt.Sprintf("function %s needs building: %s; %s", fn.LogicalID, fn.NeedsBuild, samBuildHint)
	case fn.InlineCode != "" && fn.CodeDir == "":
		return "" // written to a directory when served (Options.WriteInline)
	}
	if c.opts.CanRun != nil {
		if ok, why := c.opts.CanRun(t.fn); !ok {
			return fmt.Sprintf("function %s cannot run locally: %s; %s", t.fn.LogicalID, why, alt)
		}
		return ""
	}
	if t.fn.CodeDir == "" {
		return fmt.Sprintf("function %s has no code on disk; %s", t.fn.LogicalID, alt)
	}
	return ""
}

// function compiles a Lambda function of the template once, into the plan's
// Functions.
func (c *compiler) function(rs *template.Resource) *Function {
	if f, ok := c.functions[rs.LogicalID]; ok {
		return f
	}
	f := &Function{
		LogicalID:     rs.LogicalID,
		Name:          rs.PhysicalID,
		Arn:           fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", c.st.Region, c.st.AccountID, rs.PhysicalID),
		Runtime:       rs.Prop("Runtime").Str(),
		Handler:       rs.Prop("Handler").Str(),
		TimeoutMillis: defaultFunctionTimeoutMillis,
		MemoryMB:      defaultFunctionMemoryMB,
		Architecture:  defaultArchitecture,
	}
	c.functions[rs.LogicalID] = f
	c.placeCode(f, rs)
	if vars := rs.Prop("Environment").Get("Variables"); vars != nil && vars.Kind == template.Map && len(vars.Fields) > 0 {
		f.Environment = make(map[string]string, len(vars.Fields))
		for _, fl := range vars.Fields {
			f.Environment[fl.Key] = fl.Value.Str()
		}
	}
	if n := rs.Prop("Timeout"); n != nil {
		s, err := strconv.ParseFloat(n.Str(), 64)
		if err != nil || s <= 0 {
			c.errorf(RulePlan, n.Range, "Timeout of %s must be a number of seconds, not %q", rs.LogicalID, n.Str())
		} else {
			f.TimeoutMillis = int(s * 1000)
		}
	}
	if n := rs.Prop("MemorySize"); n != nil {
		mb, err := strconv.Atoi(n.Str())
		if err != nil || mb <= 0 {
			c.errorf(RulePlan, n.Range, "MemorySize of %s must be a whole number of megabytes, not %q", rs.LogicalID, n.Str())
		} else {
			f.MemoryMB = mb
		}
	}
	if n := rs.Prop("ReservedConcurrentExecutions"); n != nil {
		r, err := strconv.Atoi(n.Str())
		if err != nil || r < 0 {
			c.errorf(RulePlan, n.Range, "ReservedConcurrentExecutions of %s must be a whole number, not %q", rs.LogicalID, n.Str())
		} else {
			f.ReservedConcurrency = &r
		}
	}
	if n := rs.Prop("Architectures"); n != nil && n.Kind == template.List && len(n.Items) > 0 {
		f.Architecture = n.Items[0].Str()
	}
	return f
}

// codeDir returns the absolute directory of a function's code, or "" when
// the code is not on disk: SAM CodeUri (a path relative to the template's
// directory; "." when absent, as SAM does), a Code given as a local path (as
// `aws cloudformation package` accepts), or, for a CDK asset in S3, the
// resource's aws:asset:path metadata (relative to the template, as cdk.out
// lays it out). S3 locations, inline code and images have none.
func codeDir(st *template.Stack, rs *template.Resource) string {
	local := ""
	switch rs.Type {
	case template.TypeSAMFunction:
		switch n := rs.Prop("CodeUri"); {
		case n == nil && rs.Prop("InlineCode") == nil && rs.Prop("ImageUri") == nil && rs.Prop("PackageType").Str() != "Image":
			local = "."
		case n != nil && n.Kind == template.String && !strings.HasPrefix(n.Value, "s3://"):
			local = n.Value
		}
	case template.TypeLambdaFunction:
		if n := rs.Prop("Code"); n != nil && n.Kind == template.String && !strings.HasPrefix(n.Value, "s3://") {
			local = n.Value
		}
	}
	if local == "" {
		if md := rs.Node.Get("Metadata"); md != nil {
			if p := md.Get("aws:asset:path"); p != nil && p.Kind == template.String && p.Value != "" {
				if prop := md.Get("aws:asset:property").Str(); prop == "" || prop == "Code" || prop == "CodeUri" {
					local = p.Value
				}
			}
		}
	}
	if local == "" {
		return ""
	}
	local = strings.TrimPrefix(local, "file://")
	if !filepath.IsAbs(local) {
		local = filepath.Join(filepath.Dir(st.File), local)
	}
	abs, err := filepath.Abs(local)
	if err != nil {
		return filepath.Clean(local)
	}
	return abs
}
