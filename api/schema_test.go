package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The API's answers are checked against api/openapi.json: every JSON body
// a test receives through env.call (and the typed client's transport, see
// client_test.go) must match the schema the document gives for its route
// and status. Objects are closed: a field the schema does not declare is
// an error, so the document cannot fall behind the wire types.

var (
	specOnce sync.Once
	spec     map[string]any
)

func openAPIDoc(t testing.TB) map[string]any {
	specOnce.Do(func() {
		if err := json.Unmarshal(openAPI, &spec); err != nil {
			panic(fmt.Sprintf("openapi.json: %v", err))
		}
	})
	return spec
}

// operation finds the document's operation for a concrete request path.
func operation(doc map[string]any, method, path string) (tmpl string, op map[string]any) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	paths := doc["paths"].(map[string]any)
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys) // literal segments sort before "{", so they win
	for _, k := range keys {
		ts := strings.Split(strings.Trim(k, "/"), "/")
		if len(ts) != len(segs) {
			continue
		}
		ok := true
		for i := range ts {
			if !strings.HasPrefix(ts[i], "{") && ts[i] != segs[i] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		if o, found := paths[k].(map[string]any)[strings.ToLower(method)].(map[string]any); found {
			return k, o
		}
	}
	return "", nil
}

// checkAnswer validates one answer's body against the document.
func checkAnswer(t testing.TB, method, rawPath string, status int, body []byte) {
	t.Helper()
	u, err := url.Parse(rawPath)
	if err != nil {
		t.Errorf("%s %s: %v", method, rawPath, err)
		return
	}
	doc := openAPIDoc(t)
	tmpl, op := operation(doc, method, u.Path)
	if op == nil {
		if status < 400 {
			t.Errorf("%s %s answered %d but is not in openapi.json", method, u.Path, status)
		}
		return
	}
	resps, _ := op["responses"].(map[string]any)
	resp, ok := resps[fmt.Sprint(status)].(map[string]any)
	if !ok {
		if status < 400 {
			t.Errorf("%s %s answered %d, which openapi.json does not list", method, tmpl, status)
			return
		}
		resp = map[string]any{"$ref": "#/components/responses/Error"}
	}
	if ref, ok := resp["$ref"].(string); ok {
		resp = resolve(doc, ref)
	}
	content, _ := resp["content"].(map[string]any)
	media, _ := content["application/json"].(map[string]any)
	schema, _ := media["schema"].(map[string]any)
	if schema == nil || len(bytes.TrimSpace(body)) == 0 {
		return
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Errorf("%s %s %d: body is not JSON: %v", method, tmpl, status, err)
		return
	}
	for _, p := range validate(doc, schema, v, "$") {
		t.Errorf("%s %s %d: openapi.json: %s", method, tmpl, status, p)
	}
}

func resolve(doc map[string]any, ref string) map[string]any {
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, _ := cur.(map[string]any)
		cur = m[part]
	}
	m, _ := cur.(map[string]any)
	return m
}

// validate returns the ways v departs from schema (the subset of JSON
// Schema openapi.json uses: $ref, type, properties, required, items,
// enum, format date-time, nullable, additionalProperties).
func validate(doc, schema map[string]any, v any, at string) []string {
	if ref, ok := schema["$ref"].(string); ok {
		s := resolve(doc, ref)
		if s == nil {
			return []string{at + ": unresolved " + ref}
		}
		return validate(doc, s, v, at)
	}
	if v == nil {
		if schema["nullable"] == true || schema["type"] == nil {
			return nil
		}
		return []string{at + ": null, schema says " + fmt.Sprint(schema["type"])}
	}
	var probs []string
	if enum, ok := schema["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if fmt.Sprint(e) == fmt.Sprint(v) {
				found = true
			}
		}
		if !found {
			probs = append(probs, fmt.Sprintf("%s: %v is not one of %v", at, v, enum))
		}
	}
	switch typ, _ := schema["type"].(string); typ {
	case "":
		return probs
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return append(probs, fmt.Sprintf("%s: %T, want an object", at, v))
		}
		props, _ := schema["properties"].(map[string]any)
		for _, r := range asStrings(schema["required"]) {
			if _, ok := obj[r]; !ok {
				probs = append(probs, at+": required "+r+" missing")
			}
		}
		extra, _ := schema["additionalProperties"].(map[string]any)
		open := schema["additionalProperties"] == true || (props == nil && schema["additionalProperties"] == nil)
		for k, fv := range obj {
			ps, ok := props[k].(map[string]any)
			switch {
			case ok:
				probs = append(probs, validate(doc, ps, fv, at+"."+k)...)
			case extra != nil:
				probs = append(probs, validate(doc, extra, fv, at+"."+k)...)
			case !open:
				probs = append(probs, at+": field "+k+" is not in the schema")
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return append(probs, fmt.Sprintf("%s: %T, want an array", at, v))
		}
		if items, ok := schema["items"].(map[string]any); ok {
			for i, it := range arr {
				probs = append(probs, validate(doc, items, it, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			return append(probs, fmt.Sprintf("%s: %T, want a string", at, v))
		}
		if schema["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				probs = append(probs, fmt.Sprintf("%s: %q is not a date-time", at, s))
			}
		}
	case "integer":
		n, ok := v.(json.Number)
		if _, err := n.Int64(); !ok || err != nil {
			probs = append(probs, fmt.Sprintf("%s: %v, want an integer", at, v))
		}
	case "number":
		if _, ok := v.(json.Number); !ok {
			probs = append(probs, fmt.Sprintf("%s: %v, want a number", at, v))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			probs = append(probs, fmt.Sprintf("%s: %v, want a boolean", at, v))
		}
	default:
		probs = append(probs, at+": schema type "+typ+" unknown to this check")
	}
	return probs
}

func asStrings(v any) []string {
	var out []string
	if a, ok := v.([]any); ok {
		for _, s := range a {
			out = append(out, fmt.Sprint(s))
		}
	}
	return out
}
