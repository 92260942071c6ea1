package dialog

// The embedded responder's own words. They are plain sentences because they
// are also spoken on calls.
const (
	unclearText = "Sorry, I'm not sure what you need. Could you tell me a bit more, " +
		"for example about an order, a delivery, a return or your account?"
	noAnswerText = "I'm sorry, I don't have an answer to that. I can help with orders, " +
		"delivery, returns, payments and your account."
)

func (e *Embedded) smallTalkText(kind smallTalk) string {
	switch kind {
	case thanks:
		return "You're welcome! Is there anything else I can help you with?"
	case goodbye:
		return "Thank you for contacting " + e.kb.Company + ". Have a great day!"
	default:
		return "Hi! I'm the " + e.kb.Company + " assistant. How can I help you today?"
	}
}
