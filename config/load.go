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

// Parse decodes and validates data as the config file named file.
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
	doc := root.Content[0]
	w := walker{file: file, lines: map[string]int{}}
	w.check(doc, reflect.TypeFor[Config](), "")
	if len(w.errs) > 0 {
		return nil, w.sorted()
	}
	cfg := &Config{}
	if err := doc.Decode(cfg); err != nil {
		return nil, Errors{{File: file, Msg: err.Error()}}
	}
	cfg.File = file
	for _, e := range validate(cfg) {
		w.add(w.lineOf(e.Key), e.Key, e.Msg)
	}
	if len(w.errs) > 0 {
		return nil, w.sorted()
	}
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
type walker struct {
	file  string
	errs  Errors
	lines map[string]int
}

func (w *walker) add(line int, key, msg string) {
	w.errs = append(w.errs, FieldError{File: w.file, Line: line, Key: key, Msg: msg})
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

// maxDepth bounds nesting, which also stops self-referencing aliases.
const maxDepth = 16

func (w *walker) check(n *yaml.Node, t reflect.Type, path string) {
	if path != "" {
		w.lines[path] = n.Line
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if strings.Count(path, ".")+strings.Count(path, "[") > maxDepth {
		w.add(n.Line, path, "nested too deeply")
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	switch {
	case t.Kind() == reflect.Struct && t.String() != "time.Time":
		w.checkStruct(n, t, path)
	case t.Kind() == reflect.Map:
		w.checkMap(n, t, path)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.add(n.Line, path, "expected a list")
			return
		}
		for i, c := range n.Content {
			w.check(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		w.checkScalar(n, t, path)
	}
}

func (w *walker) checkStruct(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.add(n.Line, path, "expected a mapping of keys")
		return
	}
	fields := yamlFields(t)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := join(path, k.Value)
		if seen[k.Value] {
			w.add(k.Line, key, "key appears twice")
			continue
		}
		seen[k.Value] = true
		f, ok := fields[k.Value]
		if !ok {
			w.add(k.Line, key, "unknown key"+suggest(k.Value, fields))
			continue
		}
		w.lines[key] = k.Line
		w.check(v, f.Type, key)
		w.lines[key] = k.Line
	}
}

func (w *walker) checkMap(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.add(n.Line, path, "expected a mapping of keys")
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := join(path, k.Value)
		w.check(v, t.Elem(), key)
		w.lines[key] = k.Line
	}
}

func (w *walker) checkScalar(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.ScalarNode {
		w.add(n.Line, path, "expected a single value, not a "+kindName(n.Kind))
		return
	}
	v := reflect.New(t)
	if err := n.Decode(v.Interface()); err != nil {
		w.add(n.Line, path, fmt.Sprintf("%q is not a valid %s", n.Value, typeName(t)))
	}
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
