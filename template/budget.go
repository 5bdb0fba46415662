package template

import "unsafe"

// Evaluating a template's intrinsic functions can make it much bigger than its
// text: a Fn::Sub that inserts a 100 KB parameter 10,000 times, or Fn::Subs
// nested 7 deep that each insert the level below 10 times, ask for gigabytes
// from a file of a few kilobytes. The resolver therefore works within a budget
// (our choice, issue 12), and a template that needs more is refused with
// RuleBudget at the node where evaluation gave up, before it has spent more
// than a few tens of megabytes:
//
//   - one string an intrinsic function produces (Fn::Sub, Fn::Join, Fn::Base64,
//     Fn::ToJsonString) is at most MaxValueBytes: 1 MB, the size of the largest
//     template CloudFormation accepts (MaxTemplateSize), so no deployable
//     template holds a longer one;
//   - everything evaluation produces for one template weighs at most
//     MaxEvalBytes: 32 MB. Each value placed in the resolved template is
//     weighed at about its size in memory (its bytes plus a node's size), even
//     where the resolver shares it rather than copies it (a parameter's value
//     at each Ref), since the stages after loading walk the resolved template
//     as a tree; so is the work Fn::Equals, Fn::Split and mapping lookups do.
//     A template as big as CloudFormation accepts (1 MB) of ordinary
//     resources resolves in about 8 MB; the budget leaves room for Mappings
//     and SAM Globals copied into many places, and keeps what a hostile
//     template can take to tens of megabytes (a Go heap's peak is about twice
//     what is live).
//
// Once the budget is gone, the resolver stops: every resolve returns a
// placeholder at once, and no diagnostic but the budget's own is reported
// after it (the placeholders would only cause confusing follow-up errors).
const (
	// MaxValueBytes bounds one string produced by an intrinsic function.
	MaxValueBytes = MaxTemplateSize
	// MaxEvalBytes bounds what evaluating one template produces in total.
	MaxEvalBytes = 32 << 20
)

// The weights of a node and of a mapping's entry against the budget: their
// sizes in memory.
const (
	nodeCost  = int(unsafe.Sizeof(Node{}))
	fieldCost = int(unsafe.Sizeof(Field{}))
	itemCost  = int(unsafe.Sizeof((*Node)(nil)))
)

// maxSuggestWork bounds the candidate comparisons "did you mean" suggestions
// may take for one template (each costs up to 64x64 steps): a template with
// 50,000 misspelt names among 10,000 resources would otherwise take minutes.
// Past it, diagnostics come without a suggestion.
const maxSuggestWork = 2_000_000

// over reports whether the evaluation budget is gone.
func (r *resolver) over() bool { return r.spent > MaxEvalBytes }

// spend charges n to the evaluation budget. It returns false once the budget
// is gone: the first time, it reports RuleBudget at at.
func (r *resolver) spend(n int, at Range) bool {
	if r.over() {
		return false
	}
	r.spent += n
	if r.over() {
		r.add(RuleBudget.Diag(at, "evaluating the template's intrinsic functions takes more than %d MB; it stopped here (a value inserted or copied too many times?)", MaxEvalBytes>>20))
		return false
	}
	return true
}

// tooLong reports a string of n bytes that what (an intrinsic function) would
// produce at at, when it is over MaxValueBytes.
func (r *resolver) tooLong(what string, n int, at Range) bool {
	if n <= MaxValueBytes {
		return false
	}
	r.errorf(RuleBudget, at, "%s produces a string over 1 MB, longer than any template CloudFormation accepts", what)
	return true
}

// weigh returns the weight of the value n as a tree, or limit+1 once it is
// known to be more than limit (the walk stops there).
func weigh(n *Node, limit int) int {
	if n == nil {
		return 0
	}
	w := nodeCost + len(n.Value)
	for _, it := range n.Items {
		if w > limit {
			return limit + 1
		}
		w += itemCost + weigh(it, limit-w)
	}
	for _, f := range n.Fields {
		if w > limit {
			return limit + 1
		}
		w += fieldCost + len(f.Key) + weigh(f.Value, limit-w)
	}
	return min(w, limit+1)
}

// textSize returns a lower bound of the length of n printed as JSON (its
// scalars and keys, a separator each), or limit+1 once it is more than limit.
func textSize(n *Node, limit int) int {
	if n == nil {
		return 0
	}
	size := len(n.Value) + 1
	for _, it := range n.Items {
		if size > limit {
			return limit + 1
		}
		size += textSize(it, limit-size)
	}
	for _, f := range n.Fields {
		if size > limit {
			return limit + 1
		}
		size += len(f.Key) + textSize(f.Value, limit-size)
	}
	return min(size, limit+1)
}

// weight returns what inserting n costs, charging its whole tree; the
// weights of parameter values, inserted at each Ref, are computed once.
func (r *resolver) weight(n *Node) int {
	return weigh(n, MaxEvalBytes-r.spent)
}

// lookup returns the value of key in the Map node m, like m.Get, in constant
// time for big mappings (Fn::FindInMap and Fn::Sub variables may look up a
// mapping of thousands of keys thousands of times).
func (r *resolver) lookup(m *Node, key string) *Node {
	if m == nil || m.Kind != Map {
		return nil
	}
	if len(m.Fields) <= 16 {
		return m.Get(key)
	}
	idx, ok := r.index[m]
	if !ok {
		if !r.spend(len(m.Fields)*fieldCost, m.Range) {
			return nil
		}
		idx = make(map[string]*Node, len(m.Fields))
		for _, f := range m.Fields {
			if _, dup := idx[f.Key]; !dup {
				idx[f.Key] = f.Value
			}
		}
		if r.index == nil {
			r.index = map[*Node]map[string]*Node{}
		}
		r.index[m] = idx
	}
	return idx[key]
}

// didYouMean is DidYouMean within the template's allowance for suggestions.
func (r *resolver) didYouMean(name string, candidates []string) string {
	r.suggestWork += len(candidates)
	if r.suggestWork > maxSuggestWork {
		return ""
	}
	return DidYouMean(name, candidates)
}

// suggestKey suggests a key of the mapping m close to name.
func (r *resolver) suggestKey(name string, m *Node) string {
	if m == nil || r.suggestWork+len(m.Fields) > maxSuggestWork {
		return ""
	}
	return r.didYouMean(name, m.Keys())
}
