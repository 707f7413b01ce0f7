// Package spec reads and checks switchyard's deployment spec: a
// ZLayer-compatible YAML file naming a deployment and its services (image,
// platform, command, environment, endpoints, resources, scale, volumes,
// registry credentials), and the ServiceSpec that every runtime's Create
// takes.
//
// Parsing walks the YAML node tree rather than decoding into structs, so
// that every problem names its field path and line, and every problem is
// reported at once:
//
//	d, err := spec.ParseFile("deploy.yaml")
//	if err != nil {
//		for _, fe := range spec.Errors(err) {
//			fmt.Println(fe) // services.web.resources.memory: line 12: "64Q" is not a quantity (...)
//		}
//		return err // errors.Is(err, spec.ErrInvalid)
//	}
//	for _, n := range d.ServiceNames {
//		deploy(d.Services[n])
//	}
//
// Unknown fields, wrong types, duplicate keys and bad values are errors,
// never silently dropped. A spec built in code is checked with
// (*ServiceSpec).Validate, which applies the same rules with the same
// messages.
//
// Platforms are normalised through containerd's platforms package at this
// boundary (x86_64 → amd64, aarch64 → arm64, wasi/wasm → wasip1/wasm), so
// that routing downstream compares like with like.
package spec
