package main

import "math/rand/v2"

// questions are what a customer of the sample store (configs/knowledge.yaml)
// asks. None asks for a person or touches a restricted topic (billing
// disputes, closing an account, legal), and the embedded responder answers
// each one, so a conversation stays with the AI and every message gets an
// AI reply; TestQuestionsStayWithTheAI checks it against the shipped config.
var questions = []string{
	"How long do I have to return an item?",
	"Do you ship internationally?",
	"what is the warranty on furniture",
	"how do I use a promo code",
	"How long does standard shipping take?",
	"Do you offer express shipping?",
	"How much does shipping cost?",
	"Can I change my order after placing it?",
	"How do I track my package?",
	"Is return shipping free?",
	"When will I get my refund?",
	"Can I exchange an item?",
	"Do you offer assembly service?",
	"What payment methods do you accept?",
	"Can I pay in installments?",
	"Do you price match?",
	"Do you have physical stores?",
	"How do I care for my wooden furniture?",
	"Do you sell gift cards?",
	"Where can I find assembly instructions?",
	"Are your products sustainable?",
	"How is furniture delivered?",
}

// askOrder is the order in which one conversation asks the questions: all
// of them shuffled, so that a conversation does not repeat itself (which the
// handoff policy may read as frustration) before it has asked every one.
func askOrder(r *rand.Rand) []string {
	qs := append([]string(nil), questions...)
	r.Shuffle(len(qs), func(i, j int) { qs[i], qs[j] = qs[j], qs[i] })
	return qs
}
