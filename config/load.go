package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxFileSize bounds a config file; anything larger is refused unread.
const MaxFileSize = 1 << 20

// FieldError is one problem in a config file, located by line and key.
type FieldError struct {
	File string
	Line int
	Key  string // dotted path, e.g. handoff.restricted_topics[1].name
	Msg  string
}

func (e FieldError) Error() string {
	switch {
	case e.Line > 0 && e.Key != "":
		return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
	case e.Key != "":
		return fmt.Sprintf("%s: %s: %s", e.File, e.Key, e.Msg)
	default:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
}

// Errors is every problem found in one file, in file order.
type Errors []FieldError

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Load reads, strictly decodes and validates the config file at path.
// On any problem it returns Errors listing all of them.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, Errors{{File: path, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)}}
	}
	return Parse(path, data)
}

// Parse decodes and validates data as the config file named file. It
// reports every problem in one pass: keys and values that do not fit the
// config's shape are left out, the rest is decoded and validated, and the
// errors of both kinds come back sorted by line.
func Parse(file string, data []byte) (*Config, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: file, Msg: "file is empty"}}
		}
		return nil, Errors{syntaxError(file, err)}
	}
	if len(root.Content) == 0 {
		return nil, Errors{{File: file, Msg: "file is empty"}}
	}
	w := walker{file: file, lines: map[string]int{}}
	doc := w.check(root.Content[0], reflect.TypeFor[Config](), "")
	if doc == nil || w.nodes > maxNodes {
		return nil, w.sorted()
	}
	cfg := &Config{}
	if err := doc.Decode(cfg); err != nil {
		// The walker leaves out whatever would not decode, so this is a
		// shape it does not know yet; report it rather than guess.
		w.add(0, "", err.Error())
		return nil, w.sorted()
	}
	cfg.File = file
	moved := w.moveSpeech(cfg)
	for _, e := range validate(cfg) {
		if key := moved.asWritten(e.Key); !w.explained(key) {
			w.add(w.lineOf(key), key, e.Msg)
		}
	}
	if len(w.errs) > 0 {
		return nil, w.sorted()
	}
	sort.SliceStable(w.warnings, func(i, j int) bool { return w.warnings[i].Line < w.warnings[j].Line })
	cfg.Warnings = w.warnings
	return cfg, nil
}

// ResolvePath makes p relative to the config file's folder, as a reader of
// the file would expect, unless it is absolute.
func (c *Config) ResolvePath(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(c.File), p)
}

func syntaxError(file string, err error) FieldError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if _, scanErr := fmt.Sscanf(msg, "line %d:", &line); scanErr == nil {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
	}
	return FieldError{File: file, Line: line, Msg: "invalid YAML: " + msg}
}

// walker checks a YAML node tree against the Go type it will decode into,
// so that unknown keys and wrong types are reported with their line and
// full key path, all of them at once (yaml.v3 alone stops short of that).
// It returns the tree without the parts in error, so that the rest can still
// be decoded and validated.
type walker struct {
	file     string
	errs     Errors
	warnings Errors
	lines    map[string]int
	// broken are the keys with an error here: validation, which sees their
	// zero value instead, has nothing to add about them.
	broken []string
	nodes  int
}

func (w *walker) add(line int, key, msg string) {
	w.errs = append(w.errs, FieldError{File: w.file, Line: line, Key: key, Msg: msg})
}

// drop records an error at key and leaves its value out of the decode.
func (w *walker) drop(line int, key, msg string) *yaml.Node {
	w.add(line, key, msg)
	w.broken = append(w.broken, key)
	return nil
}

// explained reports whether a validation problem at key is already told by
// a structural error: at the key itself, at a part of its value, or at the
// value it is part of (a range whose min had the wrong type).
func (w *walker) explained(key string) bool {
	for _, b := range w.broken {
		if within(key, b) || within(b, key) {
			return true
		}
	}
	return false
}

// within reports whether key is path or a key under it.
func within(key, path string) bool {
	return key == path || strings.HasPrefix(key, path+".") || strings.HasPrefix(key, path+"[")
}

func (w *walker) sorted() Errors {
	sort.SliceStable(w.errs, func(i, j int) bool { return w.errs[i].Line < w.errs[j].Line })
	return w.errs
}

// lineOf finds the line of key, or of its nearest parent that is in the file.
func (w *walker) lineOf(key string) int {
	for k := key; k != ""; {
		if l, ok := w.lines[k]; ok {
			return l
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}

const (
	// maxDepth bounds nesting, which also stops self-referencing aliases.
	maxDepth = 16
	// maxNodes bounds the values walked, so that aliases of aliases cannot
	// make a small file expand into billions of them; a config written by
	// hand holds a few hundred.
	maxNodes = 1 << 17
)

// check walks n against t and returns what of it decodes into t: n, a copy
// of it without the parts in error, or nil when none of it does.
func (w *walker) check(n *yaml.Node, t reflect.Type, path string) *yaml.Node {
	if path != "" {
		w.lines[path] = n.Line
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if w.nodes++; w.nodes > maxNodes {
		if w.nodes == maxNodes+1 {
			w.add(n.Line, path, fmt.Sprintf("the file holds more than %d values, counting each use of an alias", maxNodes))
		}
		return nil
	}
	if strings.Count(path, ".")+strings.Count(path, "[") > maxDepth {
		return w.drop(n.Line, path, "nested too deeply")
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return n
	}
	switch {
	case t.Kind() == reflect.Struct && t.String() != "time.Time":
		return w.checkStruct(n, t, path)
	case t.Kind() == reflect.Map:
		return w.checkMap(n, t, path)
	case t.Kind() == reflect.Slice:
		return w.checkList(n, t, path)
	default:
		return w.checkScalar(n, t, path)
	}
}

func (w *walker) checkStruct(n *yaml.Node, t reflect.Type, path string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return w.drop(n.Line, path, "expected a mapping of keys")
	}
	fields := yamlFields(t)
	seen := map[string]bool{}
	kept := *n
	kept.Content = nil
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := join(path, k.Value)
		if seen[k.Value] {
			w.drop(k.Line, key, "key appears twice")
			continue
		}
		seen[k.Value] = true
		f, ok := fields[k.Value]
		if !ok {
			w.drop(k.Line, key, "unknown key"+suggest(k.Value, fields))
			continue
		}
		w.lines[key] = k.Line
		if c := w.check(v, f.Type, key); c != nil {
			kept.Content = append(kept.Content, k, c)
		}
		w.lines[key] = k.Line
	}
	return &kept
}

// checkMap keeps an entry whose value is in error with the zero value, so
// that the key is still there for whatever refers to it by name.
func (w *walker) checkMap(n *yaml.Node, t reflect.Type, path string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return w.drop(n.Line, path, "expected a mapping of keys")
	}
	seen := map[string]bool{}
	kept := *n
	kept.Content = nil
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := join(path, k.Value)
		switch {
		case k.Kind != yaml.ScalarNode:
			w.drop(k.Line, path, "expected a name as the key, not a "+kindName(k.Kind))
			continue
		case seen[k.Value]:
			w.drop(k.Line, key, "key appears twice")
			continue
		}
		seen[k.Value] = true
		c := w.check(v, t.Elem(), key)
		if c == nil {
			c = zero(t.Elem())
		}
		kept.Content = append(kept.Content, k, c)
		w.lines[key] = k.Line
	}
	return &kept
}

// checkList keeps an item in error as the zero value, so that the items
// after it keep their places and the keys that name them.
func (w *walker) checkList(n *yaml.Node, t reflect.Type, path string) *yaml.Node {
	if n.Kind != yaml.SequenceNode {
		return w.drop(n.Line, path, "expected a list")
	}
	kept := *n
	kept.Content = make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		if kept.Content[i] = w.check(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); kept.Content[i] == nil {
			kept.Content[i] = zero(t.Elem())
		}
	}
	return &kept
}

func (w *walker) checkScalar(n *yaml.Node, t reflect.Type, path string) *yaml.Node {
	if n.Kind != yaml.ScalarNode {
		return w.drop(n.Line, path, "expected a single value, not a "+kindName(n.Kind))
	}
	v := reflect.New(t)
	if err := n.Decode(v.Interface()); err != nil {
		return w.drop(n.Line, path, fmt.Sprintf("%q is not a valid %s", n.Value, typeName(t)))
	}
	return n
}

// zero is the node of t's zero value. A null will not do: yaml.v3 leaves a
// null item out of a list of strings or structs, moving the ones after it.
func zero(t reflect.Type) *yaml.Node {
	var n yaml.Node
	if err := n.Encode(reflect.Zero(t).Interface()); err != nil {
		panic(fmt.Sprintf("config: encoding the zero %s: %v", t, err)) // only the config's own types get here
	}
	return &n
}

func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f
	}
	return out
}

func suggest(key string, fields map[string]reflect.StructField) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	return " (allowed: " + strings.Join(names, ", ") + ")"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	default:
		return "value"
	}
}

func typeName(t reflect.Type) string {
	switch t.String() {
	case "time.Duration":
		return "duration (like 30s or 2m)"
	case "bool":
		return "boolean (true or false)"
	case "int", "int64":
		return "whole number"
	case "float64":
		return "number"
	default:
		return t.String()
	}
}
