package template

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// apiHead starts a template with a WebSocket Api whose Description and Tags
// the amplifiers below fill.
const apiHead = `Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: a
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
`

// amplifiers are templates of a few kilobytes to a few hundred that ask
// evaluation for gigabytes (issue 12); each must be refused with WSGW1014.
var amplifiers = map[string]func() string{
	// Fn::Sub nested 7 deep, each level inserting the one below 10 times:
	// 100 bytes * 10^7 = 1 GB from 9 KB (the reported out-of-memory).
	"nested-sub": func() string {
		v := `"` + strings.Repeat("x", 100) + `"`
		for range 7 {
			v = fmt.Sprintf(`{"Fn::Sub": ["%s", {"V": %s}]}`, strings.Repeat("${V}", 10), v)
		}
		return apiHead + "      Description: " + v + "\n"
	},
	// A 100 KB parameter default inserted 10,000 times by one Fn::Sub (1 GB).
	"param-sub": func() string {
		return bigParam("Big", 100_000) + apiHead + `      Description: !Sub "` + strings.Repeat("${Big}", 10_000) + "\"\n"
	},
	// The same inserted 9 times (900 KB, under the 1 MB of one string) by
	// 1,000 Fn::Subs: only the total budget stops it.
	"param-sub-many": func() string {
		return bigParam("Big", 100_000) + apiHead + "      Tags:\n" +
			repeatf(1000, "        T%d: !Sub \""+strings.Repeat("${Big}", 9)+"\"\n")
	},
	// A Ref shares the parameter's value, but everything after loading
	// copies it: 10,000 Refs of 100 KB.
	"param-ref": func() string {
		return bigParam("Big", 100_000) + apiHead + "      Tags:\n" + repeatf(10_000, "        T%d: !Ref Big\n")
	},
	// Fn::Join of Fn::Split of a 500 KB value, 1,000 times.
	"join-split": func() string {
		return "Parameters:\n  Big: {Type: String, Default: \"" + strings.Repeat("a,", 250_000) + "\"}\n" + apiHead + "      Tags:\n" +
			repeatf(1000, "        T%d: !Join [\"-\", !Split [\",\", !Ref Big]]\n")
	},
	// Fn::Select out of a split 500 KB list, 10,000 times: each Split makes 250,000 nodes.
	"select-split": func() string {
		return "Parameters:\n  Big: {Type: String, Default: \"" + strings.Repeat("a,", 250_000) + "\"}\n" + apiHead + "      Tags:\n" +
			repeatf(10_000, "        T%d: !Select [0, !Split [\",\", !Ref Big]]\n")
	},
	// Fn::FindInMap copying a 2,000-entry mapping 5,000 times.
	"find-in-map": func() string {
		return "Mappings:\n  M:\n    K:\n      V:\n" + repeatf(2000, "        k%d: vvvvvvvvvvvvvvvvvvvv\n") + apiHead + "      Tags:\n" +
			repeatf(5000, "        T%d: !FindInMap [M, K, V]\n")
	},
	// Mappings whose values look themselves up 10 times, 8 levels deep: a
	// tree of 10^8 nodes from 1 KB.
	"find-in-map-nested": func() string {
		var b strings.Builder
		b.WriteString("Mappings:\n  M:\n    L:\n      l0: x\n")
		for i := 1; i <= 8; i++ {
			fmt.Fprintf(&b, "      l%d: [%s]\n", i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("!FindInMap [M, L, l%d], ", i-1), 10), ", "))
		}
		return b.String() + apiHead + "      Description: !FindInMap [M, L, l8]\n"
	},
	// 5,000 conditions comparing a 200 KB list with itself.
	"conditions": func() string {
		return "Parameters:\n  Big: {Type: CommaDelimitedList, Default: \"" + strings.Repeat("a,", 100_000) + "a\"}\nConditions:\n" +
			repeatf(5000, "  C%d: !Equals [!Ref Big, !Ref Big]\n") + apiHead
	},
	// Fn::Base64 of a 100 KB parameter, 1,000 times.
	"base64": func() string {
		return bigParam("Big", 100_000) + apiHead + "      Tags:\n" + repeatf(1000, "        T%d: !Base64 {Ref: Big}\n")
	},
	// Fn::ToJsonString of a 200 KB list, 1,000 times.
	"to-json-string": func() string {
		return "Parameters:\n  Big: {Type: CommaDelimitedList, Default: \"" + strings.Repeat("a,", 100_000) + "a\"}\n" + apiHead + "      Tags:\n" +
			repeatf(1000, "        T%d: !ToJsonString {Ref: Big}\n")
	},
	// SAM Globals of 5,000 environment variables merged into 3,000 functions.
	"sam-globals": func() string {
		return "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    Environment:\n      Variables:\n" +
			repeatf(5000, "        V%d: vvvvvvvvvvvvvvvv\n") + apiHead +
			repeatf(3000, "  F%d:\n    Type: AWS::Serverless::Function\n")
	},
	// A 200 KB parameter that SAM resolves in each of 8,000 routes' FunctionArn,
	// placed by the expansion in three generated resources each.
	"sam-websocketapi-routes": func() string {
		return "Transform: AWS::Serverless-2016-10-31\n" + bigParam("Big", 200_000) + "Resources:\n  A:\n    Type: AWS::Serverless::WebSocketApi\n    Properties:\n      RouteSelectionExpression: $request.body.a\n      Routes:\n" +
			repeatf(8000, "        r%d:\n          FunctionArn: !Ref Big\n")
	},
	// Globals.WebSocketApi of 15,000 tags merged into 4,000 WebSocketApis,
	// which are expanded before anything is resolved.
	"sam-websocketapi-globals": func() string {
		return "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  WebSocketApi:\n    Tags:\n" +
			repeatf(15000, "      T%d: vvvvvvvv\n") + "Resources:\n" +
			repeatf(4000, "  A%d:\n    Type: AWS::Serverless::WebSocketApi\n    Properties:\n      RouteSelectionExpression: $request.body.a\n      Routes:\n        $default:\n          FunctionArn: x\n")
	},
}

func bigParam(name string, size int) string {
	return "Parameters:\n  " + name + ":\n    Type: String\n    Default: " + strings.Repeat("y", size) + "\n"
}

// repeatf joins n copies of format, each given its index.
func repeatf(n int, format string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

// TestBudget loads each amplifier in a child process (this test binary
// running TestBudgetChild), as validate would, one after the other. Each must
// be an error of rule WSGW1014 at a node of the template, allocate (garbage
// included) no more than a few budgets, and the child's peak resident memory
// as the kernel measured it (VmHWM: the rusage of a child would count the
// parent's memory it was forked from) must stay under 100 MB: the issue's
// reproducers needed gigabytes. One child for all keeps the test quick under
// the race detector, whose start is slow.
func TestBudget(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/status, which only Linux has")
	}
	limit := 100 << 20
	if raceEnabled {
		// The race detector's shadow memory multiplies the heap's size.
		limit = 400 << 20
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBudgetChild$", "-test.v")
	cmd.Env = append(os.Environ(), "WSGW_BUDGET_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	results := map[string]string{}
	for _, block := range strings.Split(string(out), "\ncase ")[1:] {
		name, rest, _ := strings.Cut(block, "\n")
		results[name] = rest
	}
	for name := range amplifiers {
		t.Run(name, func(t *testing.T) {
			res, ok := results[name]
			if !ok {
				t.Fatalf("the child did not load it:\n%s", out)
			}
			m := budgetLine.FindStringSubmatch(res)
			if m == nil {
				t.Fatalf("no WSGW1014 error at a node of the template:\n%s", res)
			}
			t.Log(m[0])
			a := allocLine.FindStringSubmatch(res)
			if a == nil {
				t.Fatalf("no allocation count:\n%s", res)
			}
			if mb, _ := strconv.Atoi(a[1]); mb > 4*MaxEvalBytes>>20 {
				t.Errorf("loading allocated %d MB", mb)
			}
		})
	}
	m := vmHWM.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("the child printed no VmHWM:\n%s", out)
	}
	kb, _ := strconv.Atoi(m[1])
	t.Logf("peak RSS %d MB", kb>>10)
	if peak := kb << 10; peak > limit {
		t.Errorf("peak RSS %d MB, want under %d MB", peak>>20, limit>>20)
	}
}

var (
	budgetLine = regexp.MustCompile(`amp\.yaml:([2-9]|\d\d+):\d+: error: [^\n]+ \[WSGW1014\]`)
	allocLine  = regexp.MustCompile(`allocated (\d+) MB`)
	vmHWM      = regexp.MustCompile(`VmHWM:\s+(\d+) kB`)
)

// TestBudgetChild is TestBudget's child: it loads every amplifier and prints,
// for each, its diagnostics and what loading allocated, then its peak
// resident memory. It does nothing when run on its own.
func TestBudgetChild(t *testing.T) {
	if os.Getenv("WSGW_BUDGET_CHILD") == "" {
		return
	}
	for name, gen := range amplifiers {
		src := gen()
		if len(src) > MaxTemplateSize {
			t.Fatalf("%s is %d bytes, over the template size limit", name, len(src))
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, ds := Load("amp.yaml", []byte(src), Options{})
		runtime.ReadMemStats(&after)
		fmt.Printf("\ncase %s\n", name)
		for _, d := range ds {
			fmt.Println(d.Text())
		}
		fmt.Printf("allocated %d MB\n", (after.TotalAlloc-before.TotalAlloc)>>20)
		// Give the memory back, so that the peak is one load's, as validate's.
		ds, src = nil, ""
		debug.FreeOSMemory()
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(vmHWM.FindString(string(status)))
}

// TestBudgetAllowsRealTemplates checks that the budget leaves room: a
// template as big as CloudFormation accepts, of ordinary resources, loads
// well within it.
func TestBudgetAllowsRealTemplates(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"Resources": {"Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "x", "ProtocolType": "WEBSOCKET", "RouteSelectionExpression": "$request.body.action"}}`)
	for i := 0; b.Len() < MaxTemplateSize-1000; i++ {
		fmt.Fprintf(&b, `, "R%d": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"ApiId": {"Ref": "Api"}, "RouteKey": "k%d", "Target": {"Fn::Join": ["/", ["integrations", {"Ref": "I%d"}]]}}}`, i, i, i)
		fmt.Fprintf(&b, `, "I%d": {"Type": "AWS::ApiGatewayV2::Integration", "Properties": {"ApiId": {"Ref": "Api"}, "IntegrationType": "HTTP_PROXY", "IntegrationUri": {"Fn::Sub": "https://${AWS::Region}.example.com/${AWS::StackName}/x"}}}`, i)
	}
	b.WriteString("}}")
	root, ds := Parse("big.json", []byte(b.String()))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	r := newResolver("big.json", root, Options{})
	r.run()
	if r.diags.Diagnostics().HasErrors() {
		t.Fatalf("%v", r.diags.Diagnostics()[0].Text())
	}
	t.Logf("%d bytes of template: evaluation spent %d MB of %d", b.Len(), r.spent>>20, MaxEvalBytes>>20)
	if r.spent > MaxEvalBytes/2 {
		t.Errorf("a 1 MB template of ordinary resources spends %d MB, over half the budget", r.spent>>20)
	}
}

// Conditions that reference the condition before them 10 times, 1,000 deep,
// would be evaluated 10^1000 times without memory: each condition is
// evaluated once, and the chain costs next to nothing.
func TestBudgetConditionChains(t *testing.T) {
	var b strings.Builder
	b.WriteString("Conditions:\n  C0: !Equals [a, a]\n")
	for i := 1; i < 1000; i++ {
		fmt.Fprintf(&b, "  C%d: !And [%s]\n", i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("!Condition C%d, ", i-1), 10), ", "))
	}
	b.WriteString(apiHead + "      Description: !If [C999, yes, no]\n")
	root, ds := Parse("c.yaml", []byte(b.String()))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	r := newResolver("c.yaml", root, Options{})
	r.run()
	if r.diags.Diagnostics().HasErrors() || !r.st.Conditions["C999"] {
		t.Fatalf("C999 %v, diagnostics %v", r.st.Conditions["C999"], r.diags.Diagnostics())
	}
	if r.spent > 1<<20 {
		t.Errorf("spent %d bytes", r.spent)
	}
}

// Fn::ToJsonString of a list of many short strings is short text, however
// many nodes it has: the 1 MB bound is on the text.
func TestBudgetToJsonStringOfManyItems(t *testing.T) {
	src := "Parameters:\n  L: {Type: CommaDelimitedList, Default: \"" + strings.Repeat("a,", 20_000) + "a\"}\n" + apiHead +
		"      Description: !ToJsonString {Ref: L}\n"
	st, ds := Load("j.yaml", []byte(src), Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if d := st.Resource("Api").Prop("Description").Str(); len(d) != 4*20_001+1 {
		t.Errorf("Description is %d bytes", len(d))
	}
}
