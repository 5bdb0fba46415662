package runtime

import "testing"

// SPEC: a message's request and message ids, made in one allocation,
// have the shape of every id and never repeat one another or newID's.
func TestNewIDPair(t *testing.T) {
	seen := map[string]bool{}
	add := func(id string) {
		t.Helper()
		if !idPattern.MatchString(id) {
			t.Fatalf("bad id %q", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
	for range 5000 {
		a, b := newIDPair()
		add(a)
		add(b)
		add(newID())
	}
}
