package storetest

import (
	"testing"

	"switchboard/store"
)

// testThreads finds conversations by their channel's own thread key.
func testThreads(t *testing.T, open opener) {
	t.Run("CreateAndFind", func(t *testing.T) {
		s := open(t)
		c := create(t, s, store.Conversation{Channel: store.ChannelVoice, ThreadKey: "a84b4c76e66710@pc33.example.com"})
		create(t, s, store.Conversation{Channel: store.ChannelVoice, ThreadKey: "another-call"})
		if c.ThreadKey != "a84b4c76e66710@pc33.example.com" || get(t, s, c.ID).ThreadKey != c.ThreadKey {
			t.Errorf("created %+v, read back %+v: want the thread key kept", c, get(t, s, c.ID))
		}
		checkThread(t, s, store.ChannelVoice, c.ThreadKey, c)
	})
	t.Run("SameKeyOnAnotherChannel", func(t *testing.T) {
		s := open(t)
		sms := create(t, s, store.Conversation{Channel: store.ChannelSMS, ThreadKey: "+15550100:+15550199"})
		email := create(t, s, store.Conversation{Channel: store.ChannelEmail, ThreadKey: "+15550100:+15550199"})
		checkThread(t, s, store.ChannelSMS, sms.ThreadKey, sms)
		checkThread(t, s, store.ChannelEmail, email.ThreadKey, email)
		_, err := s.ConversationByThread(t.Context(), store.ChannelSlack, sms.ThreadKey)
		checkErr(t, "ConversationByThread on a channel without the key", err, store.ErrNotFound)
	})
	t.Run("DuplicateKeyOnOneChannel", func(t *testing.T) {
		s := open(t)
		first := create(t, s, store.Conversation{Channel: store.ChannelSlack, ThreadKey: "1712345678.000100"})
		_, err := s.CreateConversation(t.Context(), store.Conversation{Channel: store.ChannelSlack, ThreadKey: "1712345678.000100"})
		checkErr(t, "CreateConversation with a taken thread key", err, store.ErrExists)
		checkThread(t, s, store.ChannelSlack, first.ThreadKey, first)
		if list := listAll(t, s); len(list) != 1 {
			t.Errorf("stored %d conversations, want only the first", len(list))
		}
	})
	t.Run("EmptyKeyNeverMatches", func(t *testing.T) {
		s := open(t)
		a := create(t, s, store.Conversation{Channel: store.ChannelWeb})
		create(t, s, store.Conversation{Channel: store.ChannelWeb}) // no key: not a duplicate
		if got := get(t, s, a.ID); got.ThreadKey != "" {
			t.Errorf("ThreadKey = %q, want none", got.ThreadKey)
		}
		_, err := s.ConversationByThread(t.Context(), store.ChannelWeb, "")
		checkErr(t, "ConversationByThread with an empty key", err, store.ErrNotFound)
		_, err = s.ConversationByThread(t.Context(), store.ChannelWeb, "no-such-thread")
		checkErr(t, "ConversationByThread with an unknown key", err, store.ErrNotFound)
		_, err = s.ConversationByThread(t.Context(), "webchat", "x")
		checkErr(t, "ConversationByThread on an unknown channel", err, store.ErrInvalid)
	})
	t.Run("SetLater", func(t *testing.T) { testSetThreadKey(t, open(t)) })
}

// testSetThreadKey gives conversations their key after they were created,
// as email does once it knows the first Message-ID.
func testSetThreadKey(t *testing.T, s store.Store) {
	const key = "<CAF1x@mail.example.com>"
	a := create(t, s, store.Conversation{Channel: store.ChannelEmail, CreatedAt: t0})
	b := create(t, s, store.Conversation{Channel: store.ChannelEmail})
	checkErr(t, "SetThreadKey", s.SetThreadKey(t.Context(), a.ID, key), nil)
	want := a
	want.ThreadKey = key
	checkThread(t, s, store.ChannelEmail, key, want) // UpdatedAt kept too
	checkErr(t, "SetThreadKey again", s.SetThreadKey(t.Context(), a.ID, key), nil)

	checkErr(t, "SetThreadKey to a taken key", s.SetThreadKey(t.Context(), b.ID, key), store.ErrExists)
	if got := get(t, s, b.ID); got.ThreadKey != "" {
		t.Errorf("refused SetThreadKey left ThreadKey %q, want none", got.ThreadKey)
	}
	checkErr(t, "SetThreadKey of an unknown conversation", s.SetThreadKey(t.Context(), "nope", "k"), store.ErrNotFound)

	checkErr(t, "SetThreadKey to clear", s.SetThreadKey(t.Context(), a.ID, ""), nil)
	if got := get(t, s, a.ID); !sameConversation(got, a) {
		t.Errorf("after clearing, Conversation = %+v, want %+v", got, a)
	}
	_, err := s.ConversationByThread(t.Context(), store.ChannelEmail, key)
	checkErr(t, "ConversationByThread of a cleared key", err, store.ErrNotFound)
	checkErr(t, "SetThreadKey to a key freed by clearing", s.SetThreadKey(t.Context(), b.ID, key), nil)
	if got, err := s.ConversationByThread(t.Context(), store.ChannelEmail, key); err != nil || got.ID != b.ID {
		t.Errorf("ConversationByThread = %s, %v; want %s, which took the freed key", got.ID, err, b.ID)
	}
}

// checkThread fails unless the key on channel finds want.
func checkThread(t *testing.T, s store.Store, channel store.Channel, key string, want store.Conversation) {
	t.Helper()
	got, err := s.ConversationByThread(t.Context(), channel, key)
	checkErr(t, "ConversationByThread", err, nil)
	if !sameConversation(got, want) {
		t.Errorf("ConversationByThread(%s, %q) = %+v, want %+v", channel, key, got, want)
	}
}

func listAll(t *testing.T, s store.Store) []store.Conversation {
	t.Helper()
	list, err := s.ListConversations(t.Context(), store.ListFilter{})
	checkErr(t, "ListConversations", err, nil)
	return list
}
