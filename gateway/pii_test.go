package gateway

import "testing"

// The turns and the calls mask with the config in force: the shipped one
// masks cards, and a reload that adds a pattern masks it from then on.
func TestReloadSwapsTheMasker(t *testing.T) {
	cfg := fixture(t)
	g, stop := start(t, cfg)
	defer stop()

	const said = "card 4242 4242 4242 4242, ref secret-77"
	check := func(want string) {
		t.Helper()
		if got := g.dialogLive().Masker.Mask(said); got != want {
			t.Errorf("turns mask %q as %q, want %q", said, got, want)
		}
		if got := g.voiceLive().Masker.Mask(said); got != want {
			t.Errorf("calls mask %q as %q, want %q", said, got, want)
		}
	}
	check("card [card ending 4242], ref secret-77")
	edit(t, cfg, "patterns: []", `patterns: ['secret-\d+']`)
	if err := g.Reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	check("card [card ending 4242], ref [redacted]")
}
