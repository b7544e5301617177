package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sockside/sockside/config"
)

// TestMain keeps the developer's environment out of the tests: the
// server's settings are read from it before ./.env.
func TestMain(m *testing.M) {
	t := reflect.TypeFor[config.Config]()
	for i := range t.NumField() {
		os.Unsetenv(t.Field(i).Tag.Get("env"))
	}
	os.Exit(m.Run())
}

// fixtureCase is a fixture's case.txt: lines "args: ...", "next: VERSION"
// (installed as web/node_modules/next), "env: NAME=VALUE" (the server's
// ./.env), "cwd: FOLDER" (the working folder, e.g. web for the app's
// own; the fixture's root by default) and "check: record" (the golden
// keeps the -check runs before and after the run too); "#" starts a
// comment. node_modules and .env are made by the harness because
// repositories commonly ignore both.
type fixtureCase struct {
	args        []string
	next        string
	env         []string
	cwd         string
	recordCheck bool
}

func readCase(t *testing.T, path string) fixtureCase {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c fixtureCase
	for _, line := range strings.Split(string(data), "\n") {
		key, value, _ := strings.Cut(line, ":")
		value = strings.TrimSpace(value)
		switch key {
		case "args":
			c.args = strings.Fields(value)
		case "next":
			c.next = value
		case "env":
			c.env = append(c.env, value)
		case "cwd":
			c.cwd = value
		case "check":
			if value != "record" {
				t.Fatalf("%s: want check: record, not %q", path, value)
			}
			c.recordCheck = true
		default:
			if line != "" && !strings.HasPrefix(line, "#") {
				t.Fatalf("%s: unknown line %q", path, line)
			}
		}
	}
	return c
}

// setupFixture lays testdata/fixtures/name out in a fresh folder: the app
// in web/, the server's .env in the working folder of the run, root/c.cwd.
func setupFixture(t *testing.T, name string) (root string, c fixtureCase) {
	t.Helper()
	src := filepath.Join("testdata", "fixtures", name)
	c = readCase(t, filepath.Join(src, "case.txt"))
	root = t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "web"), os.DirFS(filepath.Join(src, "web"))); err != nil {
		t.Fatal(err)
	}
	if c.next != "" {
		writeFile(t, filepath.Join(root, "web", "node_modules", "next", "package.json"), `{"name": "next", "version": "`+c.next+`"}`+"\n")
	}
	if c.env != nil {
		writeFile(t, filepath.Join(root, c.cwd, ".env"), strings.Join(c.env, "\n")+"\n")
	}
	return root, c
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// testSelf is how the tests' runs name nextconfig in the files they write,
// as go run ./nextconfig does in sockside's checkout.
const testSelf = "go run ./nextconfig"

// runIn runs nextconfig in root and returns its exit status and output.
func runIn(root string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, root, testSelf, &out, &errOut)
	return code, out.String(), errOut.String()
}

// snapshot reads every file under dir but node_modules, by slash path.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "node_modules" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// changed returns the files of after that are new or differ from before.
func changed(before, after map[string]string) map[string]string {
	out := map[string]string{}
	for name, data := range after {
		if old, ok := before[name]; !ok || old != data {
			out[name] = data
		}
	}
	return out
}

// sameFiles reports the differences between two snapshots.
func sameFiles(t *testing.T, what string, want, got map[string]string) {
	t.Helper()
	for name, data := range got {
		if w, ok := want[name]; !ok {
			t.Errorf("%s: unexpected file %s", what, name)
		} else if w != data {
			t.Errorf("%s: %s differs:\n%s", what, name, unifiedDiff("want", "got", []byte(w), []byte(data)))
		}
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("%s: missing file %s", what, name)
		}
	}
}
