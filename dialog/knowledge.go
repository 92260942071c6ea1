package dialog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxKnowledgeSize bounds a knowledge file. A real FAQ is a few hundred
// kilobytes; the bound keeps a mistaken path (a log, a dump) from being read
// into memory and indexed.
const MaxKnowledgeSize = 4 << 20

// maxIDLen keeps ids short enough to record with every answer and handoff.
const maxIDLen = 64

// Knowledge is the question-and-answer base the embedded responder answers
// from, as written in configs/knowledge.yaml.
type Knowledge struct {
	Company string `yaml:"company"`
	// Catalog names the things the company sells ("sofa", "duvet"). They are
	// what customers' questions are about without being what they ask: "my
	// duvet arrived torn" is a damage question. A catalog word helps an
	// answer that mentions it and never counts against one that does not,
	// while a word neither in the catalog nor in any entry ("bicycle")
	// suggests a question the knowledge base cannot answer.
	Catalog []string `yaml:"catalog"`
	Entries []Entry  `yaml:"entries"`
}

// Entry is one answer and the ways customers ask for it.
type Entry struct {
	ID         string   `yaml:"id"`
	Question   string   `yaml:"question"`
	Alternates []string `yaml:"alternates"`
	Answer     string   `yaml:"answer"`
	Tags       []string `yaml:"tags"`
}

// KnowledgeError reports a knowledge file that cannot be used. It names the
// file, and the line and entry when the problem is in one, so that
// check-config can point the editor at it.
type KnowledgeError struct {
	File  string
	Line  int    // 1-based; 0 when unknown
	Index int    // index of the entry in entries; -1 when not about an entry
	ID    string // id of the entry, when it has one
	Err   error
}

func (e *KnowledgeError) Error() string {
	var b strings.Builder
	b.WriteString("knowledge ")
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Index >= 0 {
		fmt.Fprintf(&b, ": entries[%d]", e.Index)
		if e.ID != "" {
			fmt.Fprintf(&b, " (id %q)", e.ID)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *KnowledgeError) Unwrap() error { return e.Err }

// ErrKnowledgeTooLarge is wrapped by the error for a file over MaxKnowledgeSize.
var ErrKnowledgeTooLarge = errors.New("file is larger than the limit")

// LoadKnowledge reads and validates the knowledge file at path.
func LoadKnowledge(path string) (*Knowledge, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("knowledge: %w", err)
	}
	defer f.Close()
	// Read one byte past the bound so an oversized file is told apart from
	// one exactly at the limit without trusting Stat (pipes, /proc files).
	data, err := io.ReadAll(io.LimitReader(f, MaxKnowledgeSize+1))
	if err != nil {
		return nil, fmt.Errorf("knowledge %s: %w", path, err)
	}
	return ParseKnowledge(path, data)
}

// ParseKnowledge decodes and validates a knowledge file's content; name is
// used in errors only. Unknown keys are errors, so a misspelt "alternate"
// does not silently drop an entry's phrasings.
func ParseKnowledge(name string, data []byte) (*Knowledge, error) {
	fileErr := func(err error) error { return &KnowledgeError{File: name, Index: -1, Err: err} }
	if len(data) > MaxKnowledgeSize {
		return nil, fileErr(fmt.Errorf("%w of %d bytes", ErrKnowledgeTooLarge, MaxKnowledgeSize))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var kb Knowledge
	if err := dec.Decode(&kb); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fileErr(errors.New("file is empty"))
		}
		return nil, fileErr(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fileErr(errors.New("more than one YAML document"))
	}
	if err := kb.validate(name, entryLines(data)); err != nil {
		return nil, err
	}
	return &kb, nil
}

// validate checks what the decoder cannot and trims the text fields. lines
// holds each entry's line, for errors.
func (kb *Knowledge) validate(name string, lines []int) error {
	kb.Company = strings.TrimSpace(kb.Company)
	if kb.Company == "" {
		return &KnowledgeError{File: name, Index: -1, Err: errors.New("company is required")}
	}
	for i, w := range kb.Catalog {
		if kb.Catalog[i] = strings.TrimSpace(w); len(tokenize(w)) == 0 {
			return &KnowledgeError{File: name, Index: -1, Err: fmt.Errorf("catalog[%d] has no searchable words", i)}
		}
	}
	if len(kb.Entries) == 0 {
		return &KnowledgeError{File: name, Index: -1, Err: errors.New("entries is empty")}
	}
	seen := make(map[string]int, len(kb.Entries))
	for i := range kb.Entries {
		e := &kb.Entries[i]
		err := e.validate()
		if err == nil {
			if first, dup := seen[e.ID]; dup {
				err = fmt.Errorf("duplicate id, first used by entries[%d]", first)
			}
			seen[e.ID] = i
		}
		if err != nil {
			line := 0
			if i < len(lines) {
				line = lines[i]
			}
			return &KnowledgeError{File: name, Line: line, Index: i, ID: e.ID, Err: err}
		}
	}
	return nil
}

func (e *Entry) validate() error {
	e.ID = strings.TrimSpace(e.ID)
	e.Question = strings.TrimSpace(e.Question)
	e.Answer = strings.TrimSpace(e.Answer)
	switch {
	case e.ID == "":
		return errors.New("id is required")
	case !validID(e.ID):
		return fmt.Errorf("id must be lower-case letters, digits and dashes, at most %d", maxIDLen)
	case e.Question == "":
		return errors.New("question is required")
	case e.Answer == "":
		return errors.New("answer is required")
	case len(tokenize(e.Question)) == 0:
		// Such an entry could never be found; the editor should know.
		return errors.New("question has no searchable words")
	}
	for j, a := range e.Alternates {
		if e.Alternates[j] = strings.TrimSpace(a); e.Alternates[j] == "" {
			return fmt.Errorf("alternates[%d] is empty", j)
		}
	}
	for j, t := range e.Tags {
		if e.Tags[j] = strings.TrimSpace(t); e.Tags[j] == "" {
			return fmt.Errorf("tags[%d] is empty", j)
		}
	}
	return nil
}

func validID(id string) bool {
	if len(id) > maxIDLen || id[0] == '-' {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// entryLines returns the line of each item of the top-level entries list. It
// runs only on data the strict decoder accepted, so a failure here just
// means errors carry no line.
func entryLines(data []byte) []int {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "entries" {
			continue
		}
		var lines []int
		for _, item := range root.Content[i+1].Content {
			lines = append(lines, item.Line)
		}
		return lines
	}
	return nil
}
