package dialog

// isStopWord reports whether w carries no topic. Besides the usual English
// function words the list holds the politeness and filler words customers
// wrap questions in ("hi", "please", "help", "question"), so that "hi, I
// need help" is seen as empty of content rather than matched on "help".
// Negations are not stop words: "my refund has not arrived" asks something
// else than "my refund arrived"; see negation.
func isStopWord(w string) bool {
	_, ok := stopWords[w]
	return ok
}

// stopWords is read-only after package initialisation.
var stopWords = func() map[string]struct{} {
	list := []string{
		// articles, pronouns, determiners
		"a", "an", "the", "i", "me", "my", "mine", "myself", "we", "us", "our", "ours",
		"you", "your", "yours", "he", "him", "his", "she", "her", "hers", "it", "its",
		"they", "them", "their", "theirs", "this", "that", "these", "those", "some",
		"any", "each", "every", "all", "both", "other", "another", "such", "own", "same",
		// auxiliaries and their contractions, apostrophes removed
		"am", "is", "are", "was", "were", "be", "been", "being", "have", "has", "had",
		"having", "do", "does", "did", "doing", "done", "can", "could", "will", "would",
		"shall", "should", "may", "might", "must", "im", "ive", "id", "ill", "youre",
		"youve", "youll", "hes", "shes", "weve", "theyre", "theyve",
		"whats", "wheres", "hows", "whos", "thats", "theres", "lets",
		// question words, conjunctions, prepositions
		"what", "which", "who", "whom", "whose", "when", "where", "why", "how",
		"and", "but", "or", "nor", "if", "then", "else", "so", "than", "too", "very",
		"just", "also", "only", "yes", "of", "at", "by", "for", "with",
		"about", "against", "between", "into", "through", "during", "before", "after",
		"above", "below", "to", "from", "up", "down", "in", "out", "on", "off", "over",
		"under", "again", "further", "once", "here", "there", "as", "until",
		"while", "because", "more", "most", "few", "still", "even", "yet",
		// filler and politeness
		"hi", "hello", "hey", "hiya", "please", "pls", "plz", "thanks", "thank", "thx",
		"ok", "okay", "ya", "yeah", "yep", "hmm", "um", "uh", "oh", "well",
		"want", "wanted", "wanna", "need", "needed", "like", "know", "tell", "get",
		"got", "help", "question", "ask", "wondering", "wonder", "guys",
		"anyone", "someone", "something", "anything", "thing", "things", "way", "really",
		"now", "already", "possible", "able", "sure", "much", "many", "stuff",
		"going", "gonna", "getting", "guy",
		// light verbs: "make an account", "go through" say nothing of the topic
		"make", "makes", "made", "making", "go", "goes", "went", "gone",
	}
	m := make(map[string]struct{}, len(list))
	for _, w := range list {
		m[w] = struct{}{}
	}
	return m
}()

// negation reports whether w negates, in any of the spellings customers use
// ("didn't" comes out of words as "didnt"). They are all indexed as the one
// term "not", so that "I didn't get" meets "I did not get".
func negation(w string) bool {
	switch w {
	case "not", "no", "never", "nope", "none", "nothing", "cannot", "dont", "doesnt",
		"didnt", "cant", "couldnt", "wont", "wouldnt", "shouldnt", "isnt", "arent",
		"wasnt", "werent", "havent", "hasnt", "hadnt", "aint":
		return true
	}
	return false
}

// notTerm is the term every negation is indexed as.
const notTerm = "not"

// timeWords are the dates customers give as context ("I ordered last
// Tuesday", "three weeks ago"). Like catalog words they help an entry that
// mentions them and never count against one that does not; see
// Knowledge.Catalog.
// Units such as "day" or "hours" are not among them: knowledge bases ask
// with them ("what are your hours?").
var timeWords = []string{
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
	"january", "february", "march", "april", "june", "july", "august",
	"september", "october", "november", "december", "today", "tonight",
	"yesterday", "tomorrow", "ago", "last",
}
