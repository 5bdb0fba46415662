package template

import (
	"crypto/sha256"
	"path/filepath"
	"strings"
)

// Options controls how a template is resolved.
type Options struct {
	// Params overrides template Parameters and pseudo parameters such as AWS::Region.
	Params map[string]string
	// Addr is the HOST:PORT that GetAtt Api.ApiEndpoint resolves to (default 127.0.0.1:3001).
	Addr string
	// RequireParams makes a parameter with neither Default nor override an error
	// (serve) instead of a warning (validate).
	RequireParams bool
}

// Stack is a loaded template: everything resolved, with positions kept.
type Stack struct {
	File       string
	Root       *Node
	Transforms []string
	Params     []*Param
	Conditions map[string]bool
	// Resources lists the resources that exist (their Condition holds), in template order.
	Resources []*Resource
	Outputs   []Output
	// Expanded is the Resources mapping as CloudFormation sees it after SAM's
	// transform of AWS::Serverless::WebSocketApi, before intrinsics are resolved.
	Expanded *Node
	// Generated maps each resource generated from a SAM WebSocketApi to its logical ID.
	Generated map[string]string
	// Partition is the AWS partition of Region (or --param AWS::Partition), as SAM
	// writes it into the managed policy ARNs of the roles it generates.
	Partition string
	Region    string
	AccountID string
	Name      string

	byID map[string]*Resource
}

// Param is a template parameter with the value it resolved to.
type Param struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Value  *Node  `json:"-"`
	Source string `json:"source"` // "override", "default" or "" when it has no value
	Range  Range  `json:"-"`
}

// Output is a resolved template output.
type Output struct {
	Name  string
	Value *Node
}

// Resource is one resource of the template.
type Resource struct {
	LogicalID string
	Type      string
	// Range points at the resource's logical ID.
	Range Range
	// Node is the resource as written (Type, Properties, ...).
	Node      *Node
	Condition string
	DependsOn []string
	// PhysicalID is what a Ref to the resource resolves to (SPEC ).
	PhysicalID string
	// Properties holds the resolved properties, with positions and links.
	Properties *Node
}

// Prop returns the resolved property name, or nil.
func (r *Resource) Prop(name string) *Node { return r.Properties.Get(name) }

// PropRange returns the position of property name's value, or of the resource
// when the property is absent.
func (r *Resource) PropRange(name string) Range {
	if n := r.Prop(name); n != nil {
		return n.Range
	}
	return r.Range
}

// Resource returns the existing resource with the logical ID id, or nil.
func (s *Stack) Resource(id string) *Resource { return s.byID[id] }

// OfType returns the existing resources of type t in template order.
func (s *Stack) OfType(t string) []*Resource {
	var out []*Resource
	for _, r := range s.Resources {
		if r.Type == t {
			out = append(out, r)
		}
	}
	return out
}

// ByPhysicalID returns the resource of type t whose Ref value is id, or nil.
func (s *Stack) ByPhysicalID(t, id string) *Resource {
	for _, r := range s.Resources {
		if r.Type == t && r.PhysicalID == id {
			return r
		}
	}
	return nil
}

// LogicalIDs returns the logical IDs of the existing resources of type t (all
// types when t is empty), for suggestions.
func (s *Stack) LogicalIDs(t string) []string {
	var out []string
	for _, r := range s.Resources {
		if t == "" || r.Type == t {
			out = append(out, r.LogicalID)
		}
	}
	return out
}

// stackName derives AWS::StackName from the file name: "chat-template" for chat-template.yaml.
func stackName(file string) string {
	base := filepath.Base(file)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// physicalID derives a stable lowercase id of n characters from a logical ID (SPEC ).
func physicalID(logicalID string, n int) string {
	sum := sha256.Sum256([]byte(logicalID))
	b := make([]byte, n)
	for i := range b {
		b[i] = idAlphabet[int(sum[i])%len(idAlphabet)]
	}
	// Ids start with a letter, like AWS's.
	b[0] = idAlphabet[int(sum[n])%26]
	return string(b)
}
