package testtool

import "testing"

func TestRequired(t *testing.T) {
	for _, tc := range []struct {
		ci, tools, node string
		want            bool
	}{
		{"", "", "", false},
		{"true", "", "", true},
		{"1", "", "", true},
		{"false", "", "", false},
		{"", "1", "", true},
		{"", "", "1", true},
	} {
		t.Setenv("CI", tc.ci)
		t.Setenv("WSGW_REQUIRE_TOOLS", tc.tools)
		t.Setenv("WSGW_REQUIRE_NODE", tc.node)
		if got := Required(); got != tc.want {
			t.Errorf("CI=%q WSGW_REQUIRE_TOOLS=%q WSGW_REQUIRE_NODE=%q: Required() = %v, want %v", tc.ci, tc.tools, tc.node, got, tc.want)
		}
	}
}

func TestNeedFindsGo(t *testing.T) {
	if p := Need(t, "go"); p == "" {
		t.Fatal("Need(go) returned no path")
	}
}
