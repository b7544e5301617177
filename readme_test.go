package sockside_test

import (
	"os"
	"strings"
	"testing"
)

// The README's quick start shows examples/embed/main.go, the application
// the e2e tests build and drive: the code a newcomer copies is code that
// is known to work.
func TestReadmeShowsTheEmbedExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	main, err := os.ReadFile("examples/embed/main.go")
	if err != nil {
		t.Fatal(err)
	}
	want := string(main)
	want = want[strings.Index(want, "package main"):]
	_, block, ok := strings.Cut(string(readme), "```go\n")
	block, _, closed := strings.Cut(block, "```")
	if !ok || !closed {
		t.Fatal("README.md has no ```go block")
	}
	var got strings.Builder
	for line := range strings.Lines(block) {
		got.WriteString(strings.TrimPrefix(line, "   ")) // the list item's indent
	}
	if strings.TrimSpace(got.String()) != strings.TrimSpace(want) {
		t.Errorf("README.md's Go block differs from examples/embed/main.go (from `package main` on); paste the file in.\n--- README:\n%s", got.String())
	}
}
