package dialog

// smallTalk is the kind of message that needs a polite reply, not an answer.
type smallTalk int

const (
	notSmallTalk smallTalk = iota
	// The order is the precedence when a message mixes them.
	thanks
	goodbye
	greeting
)

// smallTalkWords lists the words a pure greeting, thank-you or goodbye is
// made of. A message counts as small talk only if every word is in the list,
// so "hi, where is my order?" is still looked up.
var smallTalkWords = map[string]smallTalk{
	"hi": greeting, "hello": greeting, "hey": greeting, "hiya": greeting,
	"howdy": greeting, "greetings": greeting, "morning": greeting,
	"afternoon": greeting, "evening": greeting, "yo": greeting,
	"thanks": thanks, "thank": thanks, "thx": thanks, "ty": thanks,
	"cheers": thanks, "appreciate": thanks, "appreciated": thanks,
	"bye": goodbye, "goodbye": goodbye, "cya": goodbye, "later": goodbye,
	"night": goodbye,
	// fillers that may surround them
	"good": notSmallTalk, "there": notSmallTalk, "you": notSmallTalk,
	"so": notSmallTalk, "much": notSmallTalk, "very": notSmallTalk,
	"a": notSmallTalk, "lot": notSmallTalk, "ok": notSmallTalk,
	"okay": notSmallTalk, "great": notSmallTalk, "that": notSmallTalk,
	"thats": notSmallTalk, "it": notSmallTalk, "all": notSmallTalk,
	"for": notSmallTalk, "the": notSmallTalk, "your": notSmallTalk,
	"help": notSmallTalk, "i": notSmallTalk, "its": notSmallTalk,
	"perfect": notSmallTalk, "awesome": notSmallTalk, "nice": notSmallTalk,
	"team": notSmallTalk, "again": notSmallTalk, "see": notSmallTalk,
	"have": notSmallTalk, "day": goodbye, "oh": notSmallTalk,
	"and": notSmallTalk, "everyone": notSmallTalk, "guys": notSmallTalk,
	"folks": notSmallTalk, "to": notSmallTalk, "talk": notSmallTalk,
	"soon": notSmallTalk, "many": notSmallTalk,
}

// classifySmallTalk reports which kind of small talk ws (from words) is, or
// notSmallTalk. Thanks wins over goodbye over greeting: "thanks, bye" is
// answered with "you're welcome".
func classifySmallTalk(ws []string) smallTalk {
	kind := notSmallTalk
	for _, w := range ws {
		k, ok := smallTalkWords[w]
		if !ok {
			return notSmallTalk
		}
		if k != notSmallTalk && (kind == notSmallTalk || k < kind) {
			kind = k
		}
	}
	return kind
}
