package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sockside/sockside/rewrite"
)

// nextApp is what nextconfig reads from a Next.js app's folder.
type nextApp struct {
	dir         string // the folder
	shown       string // the folder as the report names it (-dir)
	version     rewrite.Version
	versionFrom string // where version was read, for the report
	typeScript  bool   // tsconfig.json: hook files are written in TypeScript
	esm         bool   // package.json "type": "module": next.config.js is ESM
	// hookDir is where Next looks for middleware/proxy and instrumentation:
	// "src" when the app keeps app/ or pages/ only under src/, else "".
	hookDir string
	config  *appFile // the next.config Next would load; nil when there is none
}

// appFile is a file of the app, named relative to the app's folder with
// forward slashes.
type appFile struct {
	name string
	data []byte
}

// configNames are the next.config files Next loads, in its order of
// preference (next.config.mts only with Node's native TypeScript).
var configNames = []string{"next.config.js", "next.config.mjs", "next.config.ts", "next.config.mts"}

// sourceExts are the extensions Next accepts for middleware, proxy and
// instrumentation files (its default pageExtensions).
var sourceExts = []string{"ts", "tsx", "js", "jsx"}

type packageJSON struct {
	Type             string            `json:"type"`
	Version          string            `json:"version"`
	Dependencies     map[string]string `json:"dependencies"`
	DevDependencies  map[string]string `json:"devDependencies"`
	PeerDependencies map[string]string `json:"peerDependencies"`
}

func readPackageJSON(path string) (packageJSON, error) {
	var p packageJSON
	data, err := os.ReadFile(path)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// detectApp reads the app at dir: its Next version (installed, else the
// lower bound of package.json's range), language, module style, layout and
// next.config.
func detectApp(dir, shown string) (nextApp, error) {
	app := nextApp{dir: dir, shown: shown}
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return app, fmt.Errorf("no Next.js app at %s: no such folder (pass -dir: the app's folder, . for the current one)", shown)
	}
	pkg, err := readPackageJSON(filepath.Join(dir, "package.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return app, fmt.Errorf("no Next.js app at %s: no package.json", shown)
	}
	if err != nil {
		return app, fmt.Errorf("reading the app's package.json: %w", err)
	}
	nextRange := cmp.Or(pkg.Dependencies["next"], pkg.DevDependencies["next"], pkg.PeerDependencies["next"])
	if nextRange == "" {
		return app, fmt.Errorf("no Next.js app at %s: package.json does not depend on next", shown)
	}
	if app.version, app.versionFrom, err = nextVersion(dir, nextRange); err != nil {
		return app, err
	}
	app.esm = pkg.Type == "module"
	app.typeScript = exists(filepath.Join(dir, "tsconfig.json"))
	if !exists(filepath.Join(dir, "app")) && !exists(filepath.Join(dir, "pages")) &&
		(exists(filepath.Join(dir, "src", "app")) || exists(filepath.Join(dir, "src", "pages"))) {
		app.hookDir = "src"
	}
	app.config, err = app.find(configNames...)
	return app, err
}

// nextVersion finds the installed next the way Node resolves it (the app's
// node_modules, then each parent's, as in a workspace), falling back to the
// lowest version package.json's range admits.
func nextVersion(dir, nextRange string) (rewrite.Version, string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return rewrite.Version{}, "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		path := filepath.Join(d, "node_modules", "next", "package.json")
		pkg, err := readPackageJSON(path)
		switch {
		case err == nil:
			v, err := rewrite.ParseVersion(pkg.Version)
			if err != nil {
				return v, "", fmt.Errorf("installed next (%s): %w", path, err)
			}
			rel, _ := filepath.Rel(abs, path)
			return v, filepath.ToSlash(rel), nil
		case !errors.Is(err, fs.ErrNotExist):
			return rewrite.Version{}, "", fmt.Errorf("reading the installed next: %w", err)
		case filepath.Dir(d) == d:
			v, err := rewrite.MinVersion(nextRange)
			if err != nil {
				return v, "", fmt.Errorf("next is not installed and package.json's %q does not tell which version it will be (run npm install first): %w", nextRange, err)
			}
			return v, fmt.Sprintf("package.json %q, not installed", nextRange), nil
		}
	}
}

// find returns the first of names that exists in the app, read; nil when
// none does.
func (app nextApp) find(names ...string) (*appFile, error) {
	for _, name := range names {
		if f, err := app.read(name); err != nil || f != nil {
			return f, err
		}
	}
	return nil, nil
}

// read reads the app's file name; nil when there is none.
func (app nextApp) read(name string) (*appFile, error) {
	data, err := os.ReadFile(app.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", app.show(name), err)
	}
	return &appFile{name: name, data: data}, nil
}

// ext is the extension of the hook files written for the app.
func (app nextApp) ext() string {
	if app.typeScript {
		return "ts"
	}
	return "js"
}

// path is the app's file name on disk.
func (app nextApp) path(name string) string {
	return filepath.Join(app.dir, filepath.FromSlash(name))
}

// show is the app's file name as the report names it: as it is when the
// app is the working folder (-dir .).
func (app nextApp) show(name string) string {
	if app.shown == "." {
		return name
	}
	return pathJoin(app.shown, name)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// withExts lists base.ext in dir for each extension ("" for the app's root).
func withExts(dir, base string, exts []string) []string {
	names := make([]string, len(exts))
	for i, ext := range exts {
		names[i] = pathJoin(dir, base+"."+ext)
	}
	return names
}

// pathJoin joins slash-separated app paths; dir may be "".
func pathJoin(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
