package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/switchyard/switchyard/runtime"
)

// Decode reads exactly one JSON value of v's type from r: unknown fields,
// a second value and trailing garbage are errors. what names the body in
// messages ("service spec"). The error wraps runtime.ErrInvalidArgument and
// says what was wrong.
func Decode(r io.Reader, v any, what string) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(what, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: unexpected data after the JSON object: send exactly one object: %w", what, runtime.ErrInvalidArgument)
	}
	return nil
}

// decodeError turns encoding/json's errors into messages that say where the
// body is wrong and what to send instead.
func decodeError(what string, err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		big *http.MaxBytesError
	)
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%s: the body is empty: send a JSON object: %w", what, runtime.ErrInvalidArgument)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: the JSON ends too early: send a complete object: %w", what, runtime.ErrInvalidArgument)
	case errors.As(err, &syn):
		return fmt.Errorf("%s: invalid JSON at byte %d: %s: %w", what, syn.Offset, syn.Error(), runtime.ErrInvalidArgument)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the body"
		}
		return fmt.Errorf("%s: %s: got a JSON %s, want %s: %w", what, field, typ.Value, jsonType(typ.Type.Kind().String()), runtime.ErrInvalidArgument)
	case errors.As(err, &big):
		return fmt.Errorf("%s: the body is larger than %d bytes: %w", what, big.Limit, runtime.ErrInvalidArgument)
	}
	// json.Decoder reports unknown fields only as text: `json: unknown field "x"`.
	return fmt.Errorf("%s: %s (check the field names against the API): %w", what, trimJSONPrefix(err.Error()), runtime.ErrInvalidArgument)
}

func trimJSONPrefix(s string) string {
	const p = "json: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

func jsonType(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "a list"
	case "map", "struct", "ptr":
		return "an object"
	case "float32", "float64":
		return "a number"
	}
	return "a whole number that fits " + goKind
}
