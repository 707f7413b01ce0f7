package spec

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// This file reads the parts of a spec that mirror ZLayer's types one to one
// by walking the Go types that mirror them: a struct's fields are its
// `yaml:"name"` tags, and every problem is reported at its field path and
// line, as the hand-written readers do. The tags it knows:
//
//	yaml:"name"         the field's key
//	alias:"other"       a second key for the same field (ZLayer's serde aliases)
//	enum:"a|b|c"        a string that must be one of these
//	required:"true"     the key must be written
//	default:"text"      the value when the key is left out, read as YAML
//	min:"N" max:"N"     bounds of an integer (the type's own bounds otherwise)
//
// A type that needs more than its shape (a duration, a tagged union, a
// string-or-map) implements nodeReader.

// nodeReader is implemented by types that read themselves from a node. It
// reports false when the value could not be read (and the problem was
// recorded).
type nodeReader interface {
	readNode(p *problems, path string, n *yaml.Node) bool
}

var nodeReaderType = reflect.TypeFor[nodeReader]()

// decode reads n into the value that v (a pointer) points to.
func (p *problems) decode(path string, n *yaml.Node, v any) bool {
	return p.decodeValue(path, n, reflect.ValueOf(v).Elem(), reflect.StructField{})
}

// decodeValue reads n into v, a settable value; f is the struct field v is
// (its tags bound the value), or the zero StructField.
func (p *problems) decodeValue(path string, n *yaml.Node, v reflect.Value, f reflect.StructField) bool {
	if !p.decodeInto(path, n, v, f) {
		// What was not read is not validated either: one problem, one
		// message.
		p.markBad(path)
		return false
	}
	return true
}

// decodeInto is decodeValue without the marking.
func (p *problems) decodeInto(path string, n *yaml.Node, v reflect.Value, f reflect.StructField) bool {
	if v.CanAddr() && v.Addr().Type().Implements(nodeReaderType) {
		return v.Addr().Interface().(nodeReader).readNode(p, path, n)
	}
	switch v.Kind() {
	case reflect.Pointer:
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
			return true // written as null: left out
		}
		nv := reflect.New(v.Type().Elem())
		if !p.decodeValue(path, n, nv.Elem(), f) {
			return false
		}
		v.Set(nv)
		return true
	case reflect.Struct:
		return p.decodeStruct(path, n, v, "")
	case reflect.Map:
		entries, ok := p.mapping(path, n, nil)
		if !ok {
			return false
		}
		m := reflect.MakeMapWithSize(v.Type(), len(entries))
		all := true
		for _, e := range entries {
			ev := reflect.New(v.Type().Elem()).Elem()
			if p.decodeValue(e.path, e.val, ev, reflect.StructField{}) {
				m.SetMapIndex(reflect.ValueOf(e.key).Convert(v.Type().Key()), ev)
			} else {
				all = false
			}
		}
		v.Set(m)
		return all
	case reflect.Slice:
		items, ok := p.sequence(path, n)
		if !ok {
			return false
		}
		s := reflect.MakeSlice(v.Type(), len(items), len(items))
		all := true
		for i, item := range items {
			all = p.decodeValue(index(path, i), item, s.Index(i), reflect.StructField{}) && all
		}
		v.Set(s)
		return all
	case reflect.String:
		s, ok := p.text(path, n)
		if !ok {
			return false
		}
		if enum := f.Tag.Get("enum"); enum != "" {
			allowed := strings.Split(enum, "|")
			if !slices.Contains(allowed, s) {
				msg := fmt.Sprintf("%q is not one of %s", s, strings.Join(allowed, ", "))
				if near := suggest(s, allowed); near != "" {
					msg += fmt.Sprintf("; did you mean %q?", near)
				}
				p.fail(path, at(n), "%s", msg)
				return false
			}
		}
		v.SetString(s)
		return true
	case reflect.Bool:
		b, ok := p.boolean(path, n)
		v.SetBool(b)
		return ok
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		lo, hi := int64(-1)<<(v.Type().Bits()-1), int64(1)<<(v.Type().Bits()-1)-1
		lo, hi = bounds(f, lo, hi)
		i, ok := p.integer(path, n, lo, hi, "a number")
		v.SetInt(i)
		return ok
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		hi := int64(math.MaxInt64)
		if v.Type().Bits() < 64 {
			hi = int64(1)<<v.Type().Bits() - 1
		}
		lo, hi := bounds(f, 0, hi)
		i, ok := p.integer(path, n, lo, hi, "a number")
		v.SetUint(uint64(i))
		return ok
	case reflect.Float64:
		if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
			var x float64
			if err := n.Decode(&x); err == nil && !math.IsNaN(x) && !math.IsInf(x, 0) {
				v.SetFloat(x)
				return true
			}
		}
		p.fail(path, at(n), "want a number, got %s", describe(n))
		return false
	case reflect.Interface:
		// Free-form values (an init step's parameters): kept as YAML reads
		// them.
		var x any
		if err := n.Decode(&x); err != nil {
			p.fail(path, at(n), "cannot be read: %s", err.Error())
			return false
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
		return true
	}
	p.fail(path, at(n), "cannot be read (%s)", v.Type())
	return false
}

// bounds narrows lo and hi by a field's min and max tags.
func bounds(f reflect.StructField, lo, hi int64) (int64, int64) {
	var x int64
	if s := f.Tag.Get("min"); s != "" {
		if _, err := fmt.Sscan(s, &x); err == nil {
			lo = x
		}
	}
	if s := f.Tag.Get("max"); s != "" {
		if _, err := fmt.Sscan(s, &x); err == nil {
			hi = x
		}
	}
	return lo, hi
}

// structField is one field of a struct as the decoder sees it.
type structField struct {
	name  string
	alias string
	index int
	field reflect.StructField
}

// fieldsOf lists the yaml-tagged fields of a struct type.
func fieldsOf(t reflect.Type) []structField {
	var out []structField
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		out = append(out, structField{name: name, alias: f.Tag.Get("alias"), index: i, field: f})
	}
	return out
}

// knownNames lists the keys a struct type accepts, aliases included.
func knownNames(fields []structField, extra ...string) []string {
	names := slices.Clone(extra)
	for _, f := range fields {
		names = append(names, f.name)
		if f.alias != "" {
			names = append(names, f.alias)
		}
	}
	return names
}

// decodeStruct reads a mapping into struct v. skip is a key that belongs to
// the enclosing union (its tag) and is not one of v's fields.
func (p *problems) decodeStruct(path string, n *yaml.Node, v reflect.Value, skip string) bool {
	fields := fieldsOf(v.Type())
	var extra []string
	if skip != "" {
		extra = []string{skip}
	}
	before := len(p.errs)
	entries, ok := p.mapping(path, n, knownNames(fields, extra...))
	if !ok {
		return false
	}
	seen := make(map[int]string)
	for _, e := range entries {
		if e.key == skip {
			continue
		}
		for _, f := range fields {
			if e.key != f.name && e.key != f.alias {
				continue
			}
			if other, dup := seen[f.index]; dup {
				p.fail(e.path, at(e.val), "%q and %q are the same field; write it once", other, e.key)
				break
			}
			seen[f.index] = e.key
			p.decodeValue(e.path, e.val, v.Field(f.index), f.field)
			break
		}
	}
	for _, f := range fields {
		if _, written := seen[f.index]; written {
			continue
		}
		if f.field.Tag.Get("required") == "true" {
			p.fail(field(path, f.name), at(n), "missing; %s needs %s", pathLeaf(path), f.name)
			continue
		}
		if def, ok := f.field.Tag.Lookup("default"); ok {
			var dn yaml.Node
			if err := yaml.Unmarshal([]byte(def), &dn); err == nil && len(dn.Content) == 1 {
				p.decodeValue(field(path, f.name), dn.Content[0], v.Field(f.index), f.field)
			}
		}
	}
	return len(p.errs) == before
}

// pathLeaf is the last element of a path, for messages ("endpoints[0]",
// "health").
func pathLeaf(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	if path == "" {
		return "the spec"
	}
	return path
}

// tagged reads a tagged union: a mapping whose key tag (like "type") names
// the variant, the rest of it being that variant's fields. variants maps each
// tag value to a pointer to the struct to fill; the chosen tag is returned.
func (p *problems) tagged(path string, n *yaml.Node, tag string, variants map[string]any) (string, bool) {
	if n.Kind != yaml.MappingNode {
		p.fail(path, at(n), "want a map with %s: %s, got %s", tag, strings.Join(sortedKeys(variants), "|"), describe(n))
		return "", false
	}
	var tn *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolve(n.Content[i]); k != nil && k.Value == tag {
			tn = resolve(n.Content[i+1])
		}
	}
	if tn == nil {
		p.fail(field(path, tag), at(n), "missing; say which kind this is with %s: %s", tag, strings.Join(sortedKeys(variants), "|"))
		return "", false
	}
	kind, ok := p.str(field(path, tag), tn)
	if !ok {
		return "", false
	}
	target, ok := variants[kind]
	if !ok {
		msg := fmt.Sprintf("unknown %s %q (want %s)", tag, kind, strings.Join(sortedKeys(variants), ", "))
		if near := suggest(kind, sortedKeys(variants)); near != "" {
			msg += fmt.Sprintf("; did you mean %q?", near)
		}
		p.fail(field(path, tag), at(tn), "%s", msg)
		return "", false
	}
	if target == nil {
		// A variant without fields: only the tag may be written.
		before := len(p.errs)
		p.mapping(path, n, []string{tag})
		return kind, len(p.errs) == before
	}
	return kind, p.decodeStruct(path, n, reflect.ValueOf(target).Elem(), tag)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// reflectValue is the value ptr points to, for decodeStruct.
func reflectValue(ptr any) reflect.Value { return reflect.ValueOf(ptr).Elem() }
