package handoff

import (
	"strings"
	"unicode"
)

// token is one word of a message after normalisation. Negated is set for
// words inside the scope of a negation ("I don't want to talk to a human"),
// so the classifiers can tell "talk to a human" from "don't talk to a human".
type token struct {
	Word     string
	Stem     string // set by a stemmer; "" until then
	Negated  bool
	Sentence int // index of the sentence the word is in
}

// shorthand expands what customers type on phones so that "can u get me a
// human pls" and "can you get me a human please" share their features.
var shorthand = map[string][]string{
	"u": {"you"}, "ur": {"your"}, "pls": {"please"}, "plz": {"please"}, "plss": {"please"},
	"pleas": {"please"}, "ppl": {"people"}, "rn": {"right", "now"}, "wanna": {"want", "to"},
	"gonna": {"going", "to"}, "gimme": {"give", "me"}, "lemme": {"let", "me"}, "im": {"i", "am"},
	"i'm": {"i", "am"}, "dont": {"don't"}, "cant": {"can't"}, "wont": {"won't"}, "thx": {"thanks"},
	"ty": {"thanks"}, "r": {"are"}, "ya": {"you"}, "b4": {"before"}, "2day": {"today"},
	"asap": {"now"}, "ppls": {"people"}, "hooman": {"human"},
	"smb": {"somebody"}, "sb": {"somebody"}, "sum1": {"someone"}, "some1": {"someone"},
	"doesnt": {"doesn't"}, "didnt": {"didn't"}, "isnt": {"isn't"},
}

// negators open a negation scope that runs to the next punctuation or
// contrastive word.
var negators = map[string]bool{
	"not": true, "no": true, "never": true, "don't": true, "doesn't": true, "didn't": true,
	"won't": true, "wouldn't": true, "isn't": true, "aren't": true, "without": true,
	"nobody": true, "nothing": true, "neither": true, "nor": true, "shouldn't": true,
}

// negationScope is how many words a negation reaches at most: "if I don't
// get a refund this week I'm taking you to court" negates getting the
// refund, not the court.
const negationScope = 5

// scopeEnd closes a negation scope.
var scopeEnd = map[string]bool{"but": true, "just": true, "only": true, "instead": true, "however": true, "so": true}

// tokenize lowercases text, splits it into words, expands shorthand and
// marks negation scopes. Punctuation is kept as tokens "?" and "!" because a
// question about a human differs from a demand for one.
func tokenize(text string) []token {
	var out []token
	negated, scope, sentence := false, 0, 0
	emit := func(w string) {
		for _, e := range expand(w) {
			if negators[e] {
				negated, scope = true, 0
				out = append(out, token{Word: e, Sentence: sentence})
				continue
			}
			if scopeEnd[e] || scope >= negationScope {
				negated = false
			}
			scope++
			out = append(out, token{Word: e, Negated: negated, Sentence: sentence})
		}
	}
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			emit(b.String())
			b.Reset()
		}
	}
	for _, r := range text {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		case r == '\'' || r == '’':
			if b.Len() > 0 {
				b.WriteByte('\'')
			}
		default:
			flush()
			if strings.ContainsRune(".,;:?!()\n", r) {
				negated = false
			}
			if r == '?' || r == '!' {
				out = append(out, token{Word: string(r), Sentence: sentence})
			}
			if strings.ContainsRune(".?!;\n", r) && len(out) > 0 && out[len(out)-1].Sentence == sentence {
				sentence++
			}
		}
	}
	flush()
	return joinSpelledOut(out)
}

// joinSpelledOut turns letters typed one by one ("H U M A N") into the word.
func joinSpelledOut(toks []token) []token {
	var out []token
	for i := 0; i < len(toks); {
		j := i
		for j < len(toks) && len(toks[j].Word) == 1 && toks[j].Word[0] >= 'a' && toks[j].Word[0] <= 'z' {
			j++
		}
		if j-i >= 3 {
			var b strings.Builder
			for _, t := range toks[i:j] {
				b.WriteString(t.Word)
			}
			out = append(out, token{Word: correct(b.String()), Negated: toks[i].Negated, Sentence: toks[i].Sentence})
			i = j
			continue
		}
		out = append(out, toks[i])
		i++
	}
	return out
}

func expand(w string) []string {
	w = correct(squeeze(strings.TrimRight(w, "'")))
	if e, ok := shorthand[w]; ok {
		return e
	}
	switch {
	case strings.HasSuffix(w, "n't"):
		return []string{w}
	case strings.HasSuffix(w, "'s"), strings.HasSuffix(w, "'m"), strings.HasSuffix(w, "'d"):
		return []string{w[:len(w)-2]}
	case strings.HasSuffix(w, "'ll"), strings.HasSuffix(w, "'re"), strings.HasSuffix(w, "'ve"):
		return []string{w[:len(w)-3]}
	}
	return []string{w}
}

// stopwords carry no meaning for counting how much a customer has said.
var stopwords = map[string]bool{
	"a": true, "an": true, "the": true, "i": true, "me": true, "my": true, "you": true, "your": true,
	"to": true, "of": true, "and": true, "or": true, "is": true, "are": true, "am": true, "be": true,
	"it": true, "this": true, "that": true, "in": true, "on": true, "for": true, "with": true,
	"at": true, "by": true, "can": true, "could": true, "would": true, "will": true, "please": true,
	"do": true, "does": true, "did": true, "have": true, "has": true, "had": true, "was": true,
	"were": true, "so": true, "just": true, "hi": true, "hello": true, "hey": true, "ok": true,
	"okay": true, "we": true, "us": true, "our": true, "there": true, "here": true, "what": true,
	"?": true, "!": true, "get": true, "want": true, "need": true, "like": true, "let": true,
	"now": true, "some": true, "any": true, "if": true, "then": true, "thanks": true, "thank": true,
}

// contentWords counts the words that say something about the problem.
func contentWords(toks []token) int {
	n := 0
	for _, t := range toks {
		if !stopwords[t.Word] && len(t.Word) > 1 {
			n++
		}
	}
	return n
}

// sentences splits tokens at sentence boundaries; a message that is one
// sentence comes back as itself.
func sentences(toks []token) [][]token {
	if len(toks) == 0 || toks[0].Sentence == toks[len(toks)-1].Sentence {
		return [][]token{toks}
	}
	var out [][]token
	start := 0
	for i := 1; i <= len(toks); i++ {
		if i == len(toks) || toks[i].Sentence != toks[start].Sentence {
			out = append(out, toks[start:i])
			start = i
		}
	}
	return out
}
