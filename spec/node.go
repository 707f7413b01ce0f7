package spec

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The helpers in this file read one yaml.Node each, reporting any problem at
// the node's field path and line, and return ok=false when the value could
// not be read (the path is then marked bad so that validation stays quiet
// about it).

// maxListedFields is the most known fields an unknown-field message lists;
// a service has too many to list.
const maxListedFields = 16

// unknownHints say what to write instead of a service field that ZLayer
// does not have but that people write.
var unknownHints = map[string]string{
	"runtime":     "to name the runtime that runs a service, write labels: {switchyard.runtime: NAME} (runc, wasm, ...)",
	"ports":       "publish a port with an endpoint (expose: public) or port_mappings: [{host_port, container_port}]",
	"environment": "write env: {NAME: value}",
	"volume":      "write storage: [{type: bind, source: /host/dir, target: /dir}]",
}

// maxAliasHops bounds alias chains (an alias of an alias ...).
const maxAliasHops = 16

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxAliasHops; i++ {
		n = n.Alias
	}
	return n
}

// describe says what a node is, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing (null)"
		case "!!str":
			return fmt.Sprintf("string %q", n.Value)
		case "!!int":
			return "integer " + n.Value
		case "!!float":
			return "number " + n.Value
		case "!!bool":
			return "boolean " + n.Value
		}
		return fmt.Sprintf("%s %q", n.ShortTag(), n.Value)
	}
	return "an alias that leads nowhere"
}

// entry is one key/value pair of a mapping.
type entry struct {
	key  string
	path string
	val  *yaml.Node
}

// mapping reads a mapping node, checking that keys are strings, that none is
// repeated and, when known is not nil, that each is a known field. It records
// the line of every key and returns the valid entries in document order.
func (p *problems) mapping(path string, n *yaml.Node, known []string) ([]entry, bool) {
	if n.Kind != yaml.MappingNode {
		p.fail(path, at(n), "want a map, got %s", describe(n))
		return nil, false
	}
	first := make(map[string]int, len(n.Content)/2)
	var out []entry
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k == nil || v == nil {
			p.fail(path, at(n), "has an alias that leads nowhere; write the value out")
			continue
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" {
			p.report(path, at(k), "has a key that is %s; keys are names", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			p.fail(path, at(k), "merge keys (<<) are not supported; write the fields out")
			continue
		}
		child := field(path, k.Value)
		if l, dup := first[k.Value]; dup {
			p.fail(child, at(k), "duplicate key %q (first written at line %d); write each key once", k.Value, l)
			continue
		}
		first[k.Value] = k.Line
		if known != nil && !slices.Contains(known, k.Value) {
			msg := fmt.Sprintf("unknown field %q", k.Value)
			if s := suggest(k.Value, known); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			if hint, ok := unknownHints[k.Value]; ok && len(known) > maxListedFields {
				p.fail(child, at(k), "%s; %s", msg, hint)
			} else if len(known) > maxListedFields {
				p.fail(child, at(k), "%s (a service takes ZLayer's fields: see the spec reference in the README)", msg)
			} else {
				p.fail(child, at(k), "%s (known fields: %s)", msg, strings.Join(known, ", "))
			}
			continue
		}
		p.setPos(child, k)
		out = append(out, entry{key: k.Value, path: child, val: v})
	}
	return out, true
}

// sequence reads a sequence node and records the line of each item.
func (p *problems) sequence(path string, n *yaml.Node) ([]*yaml.Node, bool) {
	if n.Kind != yaml.SequenceNode {
		p.fail(path, at(n), "want a list, got %s", describe(n))
		return nil, false
	}
	items := make([]*yaml.Node, 0, len(n.Content))
	for i, item := range n.Content {
		item = resolve(item)
		if item == nil {
			p.fail(index(path, i), at(n), "is an alias that leads nowhere; write the value out")
			continue
		}
		p.setPos(index(path, i), item)
		items = append(items, item)
	}
	return items, true
}

// str reads a string scalar. Numbers and booleans are refused so that a
// YAML surprise (no: false, 1.10: 1.1) never becomes a silently different
// string; the message says to quote them.
func (p *problems) str(path string, n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		hint := ""
		if n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
			hint = fmt.Sprintf("; write it in quotes (\"%s\") if you mean the text", n.Value)
		}
		p.fail(path, at(n), "want a string, got %s%s", describe(n), hint)
		return "", false
	}
	return n.Value, true
}

// text reads a string, number or boolean scalar as the text written, for
// values that are text in the end (environment values, arguments).
func (p *problems) text(path string, n *yaml.Node) (string, bool) {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!str", "!!int", "!!float", "!!bool":
			return n.Value, true
		}
	}
	p.fail(path, at(n), "want a string, got %s", describe(n))
	return "", false
}

// strs reads a list of text scalars.
func (p *problems) strs(path string, n *yaml.Node) ([]string, bool) {
	items, ok := p.sequence(path, n)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	all := true
	for i, item := range items {
		s, ok := p.text(index(path, i), item)
		all = all && ok
		out = append(out, s)
	}
	return out, all
}

// integer reads an integer scalar in [lo, hi].
func (p *problems) integer(path string, n *yaml.Node, lo, hi int64, what string) (int64, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		p.fail(path, at(n), "want %s (an integer from %d to %d), got %s", what, lo, hi, describe(n))
		return 0, false
	}
	var v int64
	if err := n.Decode(&v); err != nil || v < lo || v > hi {
		p.fail(path, at(n), "%s %s is out of range (want %d to %d)", what, n.Value, lo, hi)
		return 0, false
	}
	return v, true
}

// boolean reads a boolean scalar.
func (p *problems) boolean(path string, n *yaml.Node) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, true
		}
	}
	p.fail(path, at(n), "want true or false, got %s", describe(n))
	return false, false
}

// setPos records where path was written (the first time only).
func (p *problems) setPos(path string, n *yaml.Node) {
	if p.pos == nil {
		p.pos = make(map[string]position)
	}
	if _, ok := p.pos[path]; !ok {
		p.pos[path] = at(n)
	}
}

// at is the position of a node.
func at(n *yaml.Node) position { return position{n.Line, n.Column} }

// suggest returns the known name closest to s when it is a likely typo.
func suggest(s string, known []string) string {
	best, bestDist := "", math.MaxInt
	for _, k := range known {
		if d := editDistance(s, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if bestDist <= 2 && bestDist < len(s) {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b (bounded input:
// field names).
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
