package compile

import (
	pathpkg "path"
	"strings"

	"github.com/wsgw/wsgw/template"
)

// RuleHandlerOutside reports a Handler that names a file outside the
// function's code (issue 12). On Lambda the handler is looked up inside the
// function's deployment package, so `../../outside/x.handler` cannot reach
// anything there; locally it would run a file the package does not hold.
var RuleHandlerOutside = template.Rule{ID: "WSGW9001", Severity: template.Error, Summary: "a function's Handler must name a file inside its code (CodeUri or Code), as Lambda looks for it there"}

// checkHandler reports a Handler whose file (the part before the last dot
// for Node.js and Python, the whole of it for go1.x) is an absolute path or
// climbs out of the code directory with "..". Handlers of provided.*
// runtimes name nothing on disk (bootstrap reads them), and are not checked.
// The path is checked as written: a symbolic link inside the code directory
// may point anywhere, as packaging tools follow it into the zip.
func (c *checker) checkHandler(rs *template.Resource) {
	n := rs.Prop("Handler")
	if n == nil || n.Kind != template.String {
		return
	}
	rt := rs.Prop("Runtime").Str()
	file := n.Value
	switch {
	case strings.HasPrefix(rt, "nodejs"), strings.HasPrefix(rt, "python"):
		if i := strings.LastIndexByte(file, '.'); i >= 0 {
			file = file[:i]
		}
	case rt == "go1.x":
	default:
		return
	}
	file = strings.ReplaceAll(file, `\`, "/")
	clean := pathpkg.Clean(file)
	if !pathpkg.IsAbs(clean) && clean != ".." && !strings.HasPrefix(clean, "../") && !isWindowsAbs(file) {
		return
	}
	code := "."
	switch rs.Type {
	case template.TypeSAMFunction:
		if u := rs.Prop("CodeUri"); u != nil && u.Kind == template.String {
			code = u.Value
		}
	case template.TypeLambdaFunction:
		if u := rs.Prop("Code"); u != nil && u.Kind == template.String {
			code = u.Value
		}
	}
	c.report(RuleHandlerOutside, n.Range, "", "Handler %s of %s names %s, outside the function's code (%s): Lambda looks for the handler inside the function's code", n.Value, rs.LogicalID, file, code)
}

// isWindowsAbs reports a path such as C:/x or C:\x.
func isWindowsAbs(p string) bool {
	return len(p) >= 3 && p[1] == ':' && (p[2] == '/' || p[2] == '\\') &&
		('a' <= p[0]|0x20 && p[0]|0x20 <= 'z')
}
