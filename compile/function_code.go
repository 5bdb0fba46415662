package compile

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/wsgw/wsgw/template"
)

// functionCode is where a function's code is and whether wsgw can run it
// from there (SPEC ): derived once per function, read by the checks
// (WSGW9002, WSGW9003) and by the compiler (Function).
type functionCode struct {
	// dir is the absolute code directory ("" when the code is not on disk).
	dir string
	// inline is InlineCode or Code.ZipFile, file the name it has on Lambda.
	inline, file string
	// unreachable says why wsgw cannot get at the code (S3, an image), at the
	// node that says where it is; "" when it can.
	unreachable string
	at          *template.Node
	// needsBuild says why the code on disk cannot run before `sam build`.
	needsBuild string
}

// builtBySAM reports whether rs comes from a template `sam build` wrote: it
// adds Metadata SamResourceId to every resource it builds and writes the
// template under .aws-sam/build.
func builtBySAM(st *template.Stack, rs *template.Resource) bool {
	if rs.Node.Get("Metadata").Get("SamResourceId") != nil {
		return true
	}
	return strings.Contains(filepath.ToSlash(st.File), ".aws-sam/build/")
}

// samBuildHint is what to do about code that needs building.
const samBuildHint = "run `sam build` and serve .aws-sam/build/template.yaml"

// codeOf finds the code of function rs.
func codeOf(st *template.Stack, rs *template.Resource) functionCode {
	fc := functionCode{dir: codeDir(st, rs)}
	runtime := rs.Prop("Runtime").Str()
	switch rs.Type {
	case template.TypeSAMFunction:
		if n := rs.Prop("InlineCode"); n != nil {
			fc.inline, fc.at = n.Str(), n
		}
		if fc.dir != "" || fc.inline != "" {
			break
		}
		switch n := rs.Prop("CodeUri"); {
		case rs.Prop("ImageUri") != nil || rs.Prop("PackageType").Str() == "Image":
			fc.unreachable, fc.at = imageText(rs.Prop("ImageUri").Str()), firstNode(rs.Prop("ImageUri"), rs.Prop("PackageType"))
		case n != nil && n.Kind == template.String:
			fc.unreachable, fc.at = "its CodeUri is in S3 ("+n.Value+")", n
		case n != nil && n.Kind == template.Map:
			fc.unreachable, fc.at = s3Text("CodeUri", n.Get("Bucket").Str(), n.Get("Key").Str()), n
		}
	case template.TypeLambdaFunction:
		code := rs.Prop("Code")
		if z := code.Get("ZipFile"); z != nil {
			fc.inline, fc.at = z.Str(), z
		}
		if fc.dir != "" || fc.inline != "" || code == nil {
			break
		}
		switch {
		case code.Get("ImageUri") != nil || rs.Prop("PackageType").Str() == "Image":
			fc.unreachable, fc.at = imageText(code.Get("ImageUri").Str()), code
		case code.Kind == template.String:
			fc.unreachable, fc.at = "its Code is in S3 ("+code.Value+")", code
		case code.Kind == template.Map:
			fc.unreachable, fc.at = s3Text("Code", code.Get("S3Bucket").Str(), code.Get("S3Key").Str()), code
		}
	}
	if fc.inline != "" {
		fc.file = inlineFile(runtime)
		if fc.file == "" {
			fc.unreachable = fmt.Sprintf("its code is inline, which Lambda accepts only for Node.js and Python runtimes, not %q", runtime)
		}
	}
	if fc.dir != "" && !builtBySAM(st, rs) {
		fc.needsBuild = needsBuild(rs, fc.dir, runtime)
	}
	return fc
}

func firstNode(ns ...*template.Node) *template.Node {
	for _, n := range ns {
		if n != nil {
			return n
		}
	}
	return nil
}

func imageText(uri string) string {
	if uri == "" {
		return "it is a container image function"
	}
	return "it is a container image function (" + uri + ")"
}

func s3Text(prop, bucket, key string) string {
	if bucket == "" && key == "" {
		return "its " + prop + " is an S3 location"
	}
	return fmt.Sprintf("its %s is in S3 (s3://%s/%s)", prop, bucket, key)
}

// inlineFile is the file CloudFormation writes inline code to (index, with
// the runtime's extension); "" for runtimes without inline code.
func inlineFile(runtime string) string {
	switch {
	case strings.HasPrefix(runtime, "nodejs"):
		return "index.js"
	case strings.HasPrefix(runtime, "python"):
		return "index.py"
	}
	return ""
}

// handlerModule is the module path of a Node.js or Python handler
// ("src/app.handler" -> "src/app"; Python's "pkg.mod.handler" -> "pkg/mod").
var handlerModule = regexp.MustCompile(`^(.+)\.[^./]+$`)

// handlerFiles lists the files one of which must exist in the code
// directory for the handler to load, and the source files whose presence
// says the code needs building (TypeScript); nil when the runtime has no
// such file wsgw knows of.
func handlerFiles(runtime, handler string) (files, sources []string) {
	switch {
	case strings.HasPrefix(runtime, "nodejs"):
		m := handlerModule.FindStringSubmatch(handler)
		if m == nil {
			return nil, nil
		}
		for _, ext := range []string{".js", ".mjs", ".cjs"} {
			files = append(files, m[1]+ext)
		}
		return files, []string{m[1] + ".ts", m[1] + ".mts", m[1] + ".cts"}
	case strings.HasPrefix(runtime, "python"):
		m := handlerModule.FindStringSubmatch(handler)
		if m == nil {
			return nil, nil
		}
		return []string{strings.ReplaceAll(m[1], ".", "/") + ".py"}, nil
	case runtime == "provided" || strings.HasPrefix(runtime, "provided."):
		return []string{"bootstrap"}, nil
	}
	return nil, nil
}

// needsBuild says why a function's code directory cannot run before `sam
// build` (its handler file is not there, and Metadata BuildMethod or a
// TypeScript source says a build makes it), or "".
func needsBuild(rs *template.Resource, dir, runtime string) string {
	files, sources := handlerFiles(runtime, rs.Prop("Handler").Str())
	if len(files) == 0 {
		return ""
	}
	for _, f := range files {
		if st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err == nil && !st.IsDir() {
			return ""
		}
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return ""
	}
	rel := displayDir(dir)
	if bm := rs.Node.Get("Metadata").Get("BuildMethod").Str(); bm != "" {
		return fmt.Sprintf("it has Metadata BuildMethod %s and %s is not in %s", bm, files[0], rel)
	}
	for _, s := range sources {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(s))); err == nil {
			return fmt.Sprintf("%s is not in %s, %s is: TypeScript needs building (Metadata BuildMethod esbuild)", files[0], rel, s)
		}
	}
	return ""
}

// displayDir shows dir relative to the working directory when it is below it.
func displayDir(dir string) string {
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, dir); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel) + "/"
		}
	}
	return dir
}

// placeCode sets where f's code is (SPEC ): its directory, or its
// inline code, written by Options.WriteInline to the directory it runs in.
func (c *compiler) placeCode(f *Function, rs *template.Resource) {
	fc := c.b.codeOf(rs)
	f.CodeDir, f.InlineCode, f.InlineFile = fc.dir, fc.inline, fc.file
	f.Unreachable, f.NeedsBuild = fc.unreachable, fc.needsBuild
	if f.InlineCode == "" || f.Unreachable != "" || c.opts.WriteInline == nil {
		return
	}
	dir, err := c.opts.WriteInline(f)
	if err != nil {
		f.Unreachable = "its inline code could not be written to a temporary directory: " + err.Error()
		return
	}
	f.CodeDir = dir
}
