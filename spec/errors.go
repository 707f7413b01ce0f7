package spec

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/runtime"
)

// ErrInvalid is the sentinel every parse and validation error wraps, so that
// a caller can tell a bad spec (fix the file) from an I/O failure. It is the
// contract's one invalid-argument kind, runtime.ErrInvalidArgument, so an
// error of a spec needs no second wrap to be told apart at the edges:
//
//	if errors.Is(err, spec.ErrInvalid) { ... }
var ErrInvalid = runtime.ErrInvalidArgument

// FieldError is one problem found in a spec: the field it concerns, the YAML
// line it is on (0 for a spec built in code), and what is wrong with it and
// what to write instead. Parse and Validate return every problem they find,
// joined with errors.Join; take each apart with errors.As, or walk them with
// Errors.
type FieldError struct {
	// Path is the dotted field path, like "services.web.endpoints[1].port";
	// empty for a problem with the document as a whole (a YAML syntax error).
	Path string
	// Line is the 1-based YAML line, or 0 when unknown.
	Line int
	// Msg says what was wrong and what to do.
	Msg string
}

// Error formats the problem as "path: line N: message".
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is reports whether target is ErrInvalid, so that every FieldError (and any
// join of them) matches errors.Is(err, ErrInvalid).
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Errors returns the FieldErrors in err, in order: err may be a single
// *FieldError, a join of them, or anything wrapping either.
func Errors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if fe, ok := err.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// problems collects FieldErrors while a spec is parsed and validated. Paths
// that failed to parse are remembered so that validation does not report a
// second, confusing error for a value that never got read.
type problems struct {
	errs []located
	// bad holds paths whose value could not be read.
	bad map[string]bool
	// pos maps a field path to the YAML line and column it was written at;
	// nil when validating a spec built in code.
	pos map[string]position
}

// position is a line and column in the YAML text, both 1-based.
type position struct{ line, col int }

// located is a problem with the column it was found at, so that problems
// sort into the order they appear in the text.
type located struct {
	*FieldError
	col int
}

// addf records a problem at path. When a path (or one of its parents) is
// already known to be bad, the problem is a consequence and is dropped.
func (p *problems) addf(path, format string, args ...any) {
	if p.isBad(path) {
		return
	}
	at := p.posOf(path)
	p.errs = append(p.errs, located{&FieldError{Path: path, Line: at.line, Msg: fmt.Sprintf(format, args...)}, at.col})
}

// fail records a problem at path, found at the given position (or, when
// that is zero, where path was written), and marks the path bad.
func (p *problems) fail(path string, at position, format string, args ...any) {
	if p.isBad(path) {
		return
	}
	if at.line == 0 {
		at = p.posOf(path)
	}
	p.errs = append(p.errs, located{&FieldError{Path: path, Line: at.line, Msg: fmt.Sprintf(format, args...)}, at.col})
	p.markBad(path)
}

// report records a problem at path, found at the given position, without
// marking path bad: the rest of path's value is still checked.
func (p *problems) report(path string, at position, format string, args ...any) {
	if p.isBad(path) {
		return
	}
	p.errs = append(p.errs, located{&FieldError{Path: path, Line: at.line, Msg: fmt.Sprintf(format, args...)}, at.col})
}

func (p *problems) markBad(path string) {
	if p.bad == nil {
		p.bad = make(map[string]bool)
	}
	p.bad[path] = true
}

func (p *problems) isBad(path string) bool {
	for {
		if p.bad[path] {
			return true
		}
		parent, ok := parentPath(path)
		if !ok {
			return false
		}
		path = parent
	}
}

// posOf is where path was written, or its nearest ancestor (a missing
// field is reported where the mapping that lacks it starts).
func (p *problems) posOf(path string) position {
	for {
		if at, ok := p.pos[path]; ok {
			return at
		}
		parent, ok := parentPath(path)
		if !ok {
			return position{}
		}
		path = parent
	}
}

// err returns the problems joined, in the order they appear in the text
// (stable, so problems at one place keep the order they were found in), or
// nil when there are none.
func (p *problems) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	sort.SliceStable(p.errs, func(i, j int) bool {
		a, b := p.errs[i], p.errs[j]
		return a.Line < b.Line || a.Line == b.Line && a.col < b.col
	})
	errs := make([]error, len(p.errs))
	for i, e := range p.errs {
		errs[i] = e.FieldError
	}
	return errors.Join(errs...)
}

// parentPath strips the last element of a field path: "a.b[2]" → "a.b",
// "a.b" → "a". It reports false for a path without a parent.
func parentPath(path string) (string, bool) {
	if path == "" {
		return "", false
	}
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i > 0 {
			return path[:i], true
		}
	}
	if i := strings.LastIndexByte(path, '.'); i > 0 {
		return path[:i], true
	}
	return "", true
}

// field and index build child paths.
func field(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

func index(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}
