// Package openaiapi owns what every client of an OpenAI-compatible API in
// the gateway shares, so the chat responder (dialog) and the speech
// providers (speech) talk to providers the same way: the client and its key
// from the environment, credentials taken out of provider errors, and how a
// failure reads (its status, whether to retry it, how long to wait).
//
// It must not know what the requests are for: prompts, audio and the retry
// loops stay with the packages that make them.
package openaiapi

import (
	"fmt"
	"net/http"
	"os"

	openai "github.com/sashabaranov/go-openai"
)

// NewClient builds a go-openai client for baseURL that talks through hc
// (see HTTPClient). who starts its errors ("openai responder"). The API key
// is read now from the environment variable keyEnv names ("" sends none); a
// named but empty variable is an error, so a forgotten secret shows at
// start, not on the first call. The Redactor takes that key, and anything
// else that looks like a credential, out of the client's errors.
func NewClient(who, baseURL, keyEnv string, hc *http.Client) (*openai.Client, Redactor, error) {
	var key string
	if keyEnv != "" {
		if key = os.Getenv(keyEnv); key == "" {
			return nil, Redactor{}, fmt.Errorf("%s: environment variable %s (api_key_env) is not set", who, keyEnv)
		}
	}
	cfg := openai.DefaultConfig(key)
	cfg.BaseURL = baseURL
	cfg.HTTPClient = hc
	return openai.NewClientWithConfig(cfg), Redactor{key: key}, nil
}
