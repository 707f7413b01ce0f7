package composite

import (
	"fmt"
	"maps"
	"slices"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
)

// imageGroup is one image service and the runtimes whose images it holds.
type imageGroup struct {
	svc     runtime.ImageService
	members []int // runtime indexes, in order
	node    bool  // the node's service, shared by the local runtimes
}

// makeGroups gives every runtime its image service: its own when it is a
// whole runtime.Runtime, else the node's. Groups are in the order of their
// first member, so "the first runtime's error" is the first group's.
func makeGroups(rts []runtime.Containers, node runtime.ImageService) ([]imageGroup, error) {
	var groups []imageGroup
	nodeAt := -1
	for i, rt := range rts {
		if own, ok := rt.(runtime.ImageService); ok {
			groups = append(groups, imageGroup{svc: own, members: []int{i}})
			continue
		}
		if node == nil {
			return nil, fmt.Errorf("composite: runtime %s has no image service of its own: give the node's with WithImages: %w", rt.Name(), runtime.ErrInvalidArgument)
		}
		if nodeAt < 0 {
			nodeAt = len(groups)
			groups = append(groups, imageGroup{svc: node, node: true})
		}
		groups[nodeAt].members = append(groups[nodeAt].members, i)
	}
	return groups, nil
}

// groupOf returns the index of runtime i's group.
func (c *Runtime) groupOf(i int) int {
	for g := range c.groups {
		if slices.Contains(c.groups[g].members, i) {
			return g
		}
	}
	return -1
}

// imagePlatforms is what the composite knows of one reference's platforms.
type imagePlatforms struct {
	// all are every platform of what the reference names.
	all []ocispec.Platform
	// present are those whose content some store holds; empty when the
	// platforms are only inspected, not pulled.
	present []ocispec.Platform
	// annotations are the image's own (its index's or manifest's), which
	// may name its runtime.
	annotations map[string]string
}

// merge adds what info says.
func (p imagePlatforms) merge(info runtime.ImageInfo) imagePlatforms {
	ann := maps.Clone(p.annotations)
	if len(info.Annotations) > 0 && ann == nil {
		ann = map[string]string{}
	}
	maps.Copy(ann, info.Annotations)
	return imagePlatforms{
		all:         mergePlatforms(slices.Clone(p.all), info.Platforms),
		present:     mergePlatforms(slices.Clone(p.present), info.PresentPlatforms()),
		annotations: ann,
	}
}
