// Package tsgen renders the namespaces' declared events (sockside.EventSpec) as
// TypeScript event maps for socket.io-client, so the web app type-checks
// against what the Go server really sends and accepts.
//
// Go types map as encoding/json encodes them: structs become interfaces named
// after the Go type (json tags name the fields, omitempty makes them
// optional), slices arrays, maps Record<string, T>, pointers T | null. A
// field tag `ts:"..."` overrides the TypeScript type (for string unions).
// A struct{} payload means "no payload".
package tsgen

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"unicode"

	"github.com/sockside/sockside"
	"github.com/sockside/sockside/internal/sio"
)

// Namespace is one namespace's events.
type Namespace struct {
	Name         string
	ClientEvents []sockside.EventSpec
	ServerEvents []sockside.EventSpec
}

// Render returns the TypeScript source for namespaces, starting with header
// (the generator's "Code generated" lines).
func Render(header string, namespaces []Namespace) (string, error) {
	g := &generator{named: map[reflect.Type]string{}, taken: map[string]reflect.Type{}}
	var maps strings.Builder
	var index strings.Builder
	index.WriteString("/** Event maps per namespace, for `io(url + namespace)` as `Socket<ServerToClient, ClientToServer>`. */\nexport interface SocketEvents {\n")
	for _, ns := range namespaces {
		base := pascal(ns.Name)
		fmt.Fprintf(&maps, "/** Events the server emits on %s. */\nexport interface %sServerToClientEvents {\n", ns.Name, base)
		for _, e := range ns.ServerEvents {
			if isEmpty(e.Payload) {
				fmt.Fprintf(&maps, "  %s: () => void;\n", quote(e.Name))
				continue
			}
			t, err := g.ts(e.Payload)
			if err != nil {
				return "", fmt.Errorf("%s server event %q: %w", ns.Name, e.Name, err)
			}
			fmt.Fprintf(&maps, "  %s: (payload: %s) => void;\n", quote(e.Name), t)
		}
		fmt.Fprintf(&maps, "}\n\n/** Events clients may send on %s; acks carry the result or an ErrorAck. */\nexport interface %sClientToServerEvents {\n", ns.Name, base)
		for _, e := range ns.ClientEvents {
			if e.Payload == nil {
				fmt.Fprintf(&maps, "  %s: (...args: any[]) => void;\n", quote(e.Name))
				continue
			}
			ack, err := g.ts(e.Ack)
			if err != nil {
				return "", fmt.Errorf("%s client event %q ack: %w", ns.Name, e.Name, err)
			}
			ackParam := fmt.Sprintf("ack: (res: %s | ErrorAck) => void", ack)
			if isEmpty(e.Payload) {
				fmt.Fprintf(&maps, "  %s: (%s) => void;\n", quote(e.Name), ackParam)
				continue
			}
			p, err := g.ts(e.Payload)
			if err != nil {
				return "", fmt.Errorf("%s client event %q: %w", ns.Name, e.Name, err)
			}
			fmt.Fprintf(&maps, "  %s: (payload: %s, %s) => void;\n", quote(e.Name), p, ackParam)
		}
		maps.WriteString("}\n\n")
		fmt.Fprintf(&index, "  %s: { serverToClient: %sServerToClientEvents; clientToServer: %sClientToServerEvents };\n", quote(ns.Name), base, base)
	}
	index.WriteString("}\n\nexport type NamespaceName = keyof SocketEvents;\n")
	if _, err := g.ts(reflect.TypeFor[sio.ErrorAck]()); err != nil {
		return "", err
	}

	var out strings.Builder
	out.WriteString(header)
	out.WriteString("// Source: the sockside.Handle and sockside.Emits declarations in namespaces/*.go.\n\n")
	for _, d := range g.decls {
		out.WriteString(d)
		out.WriteString("\n")
	}
	out.WriteString(maps.String())
	out.WriteString(index.String())
	return out.String(), nil
}

type generator struct {
	named map[reflect.Type]string
	taken map[string]reflect.Type
	decls []string
}

func (g *generator) ts(t reflect.Type) (string, error) {
	if t == nil {
		return "unknown", nil
	}
	if t.String() == "json.RawMessage" {
		return "unknown", nil
	}
	switch t.Kind() {
	case reflect.String:
		return "string", nil
	case reflect.Bool:
		return "boolean", nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number", nil
	case reflect.Interface:
		return "unknown", nil
	case reflect.Pointer:
		inner, err := g.ts(t.Elem())
		return inner + " | null", err
	case reflect.Slice, reflect.Array:
		inner, err := g.ts(t.Elem())
		if strings.Contains(inner, " ") {
			inner = "(" + inner + ")"
		}
		return inner + "[]", err
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return "", fmt.Errorf("map key %s is not a string", t.Key())
		}
		inner, err := g.ts(t.Elem())
		return "Record<string, " + inner + ">", err
	case reflect.Struct:
		return g.structType(t)
	}
	return "", fmt.Errorf("unsupported type %s", t)
}

func (g *generator) structType(t reflect.Type) (string, error) {
	if name, ok := g.named[t]; ok {
		return name, nil
	}
	if t.Name() == "" {
		return "", fmt.Errorf("anonymous struct %s: give it a name", t)
	}
	name := t.Name()
	if other, clash := g.taken[name]; clash && other != t {
		return "", fmt.Errorf("two types named %s (%s and %s)", name, other, t)
	}
	g.named[t], g.taken[name] = name, t
	var b strings.Builder
	fmt.Fprintf(&b, "export interface %s {\n", name)
	fields := reflect.VisibleFields(t)
	sort.SliceStable(fields, func(i, j int) bool { return fields[i].Index[0] < fields[j].Index[0] })
	for _, f := range fields {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		key, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if key == "-" {
			continue
		}
		if key == "" {
			key = f.Name
		}
		typ := f.Tag.Get("ts")
		if typ == "" {
			var err error
			if typ, err = g.ts(f.Type); err != nil {
				return "", fmt.Errorf("%s.%s: %w", name, f.Name, err)
			}
		}
		optional := ""
		if strings.Contains(opts, "omitempty") {
			optional = "?"
		}
		fmt.Fprintf(&b, "  %s%s: %s;\n", quote(key), optional, typ)
	}
	b.WriteString("}\n")
	g.decls = append(g.decls, b.String())
	return name, nil
}

func isEmpty(t reflect.Type) bool { return t != nil && t.Kind() == reflect.Struct && t.NumField() == 0 }

// pascal turns "/chat" into "Chat" and "/" into "Root".
func pascal(ns string) string {
	var b strings.Builder
	upper := true
	for _, r := range ns {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "Root"
	}
	return b.String()
}

func quote(key string) string {
	for i, r := range key {
		if !(unicode.IsLetter(r) || r == '_' || r == '$' || (i > 0 && unicode.IsDigit(r))) {
			return fmt.Sprintf("%q", key)
		}
	}
	return key
}

// FromServer lists the namespaces registered on srv.
func FromServer(srv *sockside.Server) []Namespace {
	var out []Namespace
	for _, n := range srv.Namespaces() {
		out = append(out, Namespace{Name: n.Name(), ClientEvents: n.ClientEvents(), ServerEvents: n.ServerEvents()})
	}
	return out
}
