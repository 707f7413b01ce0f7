package spec

import (
	"slices"
	"strings"
)

// StartOrder returns d's services in the order they start: each after the
// services it depends on, and otherwise in the file's order. A cycle (which
// validation refuses) leaves its services in file order.
func (d *Deployment) StartOrder() []string {
	names := d.ServiceNames
	if len(names) == 0 {
		for n := range d.Services {
			names = append(names, n)
		}
		slices.Sort(names)
	}
	placed := make(map[string]bool, len(names))
	var out []string
	var visit func(n string, path []string)
	visit = func(n string, path []string) {
		if placed[n] || slices.Contains(path, n) {
			return
		}
		if s := d.Services[n]; s != nil {
			for _, dep := range s.Depends {
				if _, ok := d.Services[dep.Service]; ok {
					visit(dep.Service, append(path, n))
				}
			}
		}
		if !placed[n] {
			placed[n] = true
			out = append(out, n)
		}
	}
	for _, n := range names {
		visit(n, nil)
	}
	return out
}

// dependencyCycle returns a cycle of d's dependencies, written a → b → a,
// or nil when there is none.
func dependencyCycle(d *Deployment) []string {
	state := map[string]int{} // 0 unseen, 1 on the path, 2 done
	var path []string
	var found []string
	var visit func(n string)
	visit = func(n string) {
		if found != nil {
			return
		}
		switch state[n] {
		case 1:
			i := slices.Index(path, n)
			found = append(slices.Clone(path[i:]), n)
			return
		case 2:
			return
		}
		state[n] = 1
		path = append(path, n)
		if s := d.Services[n]; s != nil {
			for _, dep := range s.Depends {
				if _, ok := d.Services[dep.Service]; ok {
					visit(dep.Service)
				}
			}
		}
		path = path[:len(path)-1]
		state[n] = 2
	}
	for _, n := range d.ServiceNames {
		visit(n)
	}
	return found
}

// formatCycle writes a cycle as "a → b → a".
func formatCycle(c []string) string { return strings.Join(c, " → ") }
