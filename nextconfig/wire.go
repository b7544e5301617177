package main

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/sockside/sockside/rewrite"
)

// plugin is the withSocketIO file that fits a next.config: TypeScript for
// next.config.ts, CommonJS for a CommonJS next.config.js, ESM otherwise.
// Explicit .mjs/.cjs extensions keep it independent of package.json "type";
// next.config.ts imports without one because Next's loader for it compiles
// to CommonJS and resolves .ts files, and TypeScript rejects ".ts" imports.
type plugin struct {
	name      string // the file, in the app's root
	ts, cjs   bool
	specifier string // how next.config imports it
}

func pluginFor(configName string, esm bool) plugin {
	switch {
	case configName == "next.config.ts":
		return plugin{name: pluginBase + ".ts", ts: true, specifier: "./" + pluginBase}
	case configName == "next.config.js" && !esm:
		return plugin{name: pluginBase + ".cjs", cjs: true, specifier: "./" + pluginBase + ".cjs"}
	}
	return plugin{name: pluginBase + ".mjs", specifier: "./" + pluginBase + ".mjs"}
}

// importLine is next.config's import of withSocketIO.
func (p plugin) importLine() string {
	if p.cjs {
		return "const { withSocketIO } = require(" + jsString(p.specifier) + ");"
	}
	return "import { withSocketIO } from " + jsString(p.specifier) + ";"
}

// exportPrefix is how next.config exports its config.
func (p plugin) exportPrefix() string {
	if p.cjs {
		return "module.exports = "
	}
	return "export default "
}

// wired reports whether a next.config imports this plugin and calls it.
func (p plugin) wired(config []byte) bool {
	return contains(config, "withSocketIO(") &&
		(contains(config, "'"+p.specifier+"'") || contains(config, `"`+p.specifier+`"`))
}

// configWiring tells how to apply withSocketIO to the app's next.config,
// with the edit made when it is mechanical (wrapExport).
func configWiring(config appFile, p plugin) wiring {
	if edit, ok := wrapExport(config.data, p); ok {
		return wiring{file: config, edit: edit, howto: "wrap its export in withSocketIO; -write-config makes this change:"}
	}
	return wiring{file: config, howto: "import withSocketIO and wrap the exported config in it, like this:\n" +
		indent(p.importLine()+"\n"+p.exportPrefix()+"withSocketIO(nextConfig);")}
}

var (
	esmExport  = regexp.MustCompile(`^(export\s+default\s+)(.+?);?\s*$`)
	cjsExport  = regexp.MustCompile(`^(module\.exports\s*=\s*)(.+?);?\s*$`)
	esmImport  = regexp.MustCompile(`^import\s.*['"];?\s*$`)
	cjsRequire = regexp.MustCompile(`^(const|let|var)\s.*=\s*require\(['"][^'"]+['"]\)[\w$.]*;?\s*$`)
	// directive is a first line that must stay first.
	directive = regexp.MustCompile(`^(['"]use strict['"];?|// @ts-(no)?check)\s*$`)
	// wrappable is an exported expression that withSocketIO(...) can wrap
	// without reading JavaScript: a name, or a call of names
	// (withMDX(nextConfig)), on one line.
	wrappable = regexp.MustCompile(`^[A-Za-z_$][\w$.]*(\([\w$.,() ]*\))?$`)
)

// wrapExport returns next.config with its export wrapped in withSocketIO
// and the plugin imported, when that is mechanical and safe: exactly one
// one-line export of a wrappable expression. The import goes after the
// last one-line import (or require), else at the top, after a directive.
func wrapExport(src []byte, p plugin) ([]byte, bool) {
	export, imports := esmExport, esmImport
	if p.cjs {
		export, imports = cjsExport, cjsRequire
	}
	lines := strings.SplitAfter(string(src), "\n")
	at, insert := -1, 0
	for i, line := range lines {
		text := strings.TrimRight(line, "\r\n")
		if m := export.FindStringSubmatch(text); m != nil {
			if at >= 0 || !wrappable.MatchString(m[2]) || !balanced(m[2]) {
				return nil, false
			}
			at = i
			lines[i] = m[1] + "withSocketIO(" + m[2] + ");" + line[len(text):]
		}
		if imports.MatchString(text) || i == insert && directive.MatchString(text) {
			insert = i + 1
		}
	}
	if at < 0 {
		return nil, false
	}
	eol := "\n"
	if bytes.Contains(src, []byte("\r\n")) {
		eol = "\r\n"
	}
	added := p.importLine() + eol
	amongImports := insert > 0 && imports.MatchString(strings.TrimSpace(lines[insert-1]))
	if !amongImports && insert < len(lines) && strings.TrimSpace(lines[insert]) != "" {
		added += eol // set apart from the code that follows
	}
	if insert > 0 && !strings.HasSuffix(lines[insert-1], "\n") {
		lines[insert-1] += eol
	}
	lines = append(lines[:insert], append([]string{added}, lines[insert:]...)...)
	return []byte(strings.Join(lines, "")), true
}

// balanced reports whether the parentheses in expr close in order.
func balanced(expr string) bool {
	depth := 0
	for _, c := range expr {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return false
			}
		}
	}
	return depth == 0
}

// sourceRule finds a route's source string in next.config, with the
// object literal around it (up to the braces), to tell rewrites and
// redirects (which have a destination) from headers (which do not).
var sourceRule = regexp.MustCompile("source\\s*:\\s*['\"`]([^'\"`\\n]*)['\"`]")

// checkConflicts returns an error naming the config's own rewrites or
// redirects of the socket path: withSocketIO's rules would shadow them, or
// they would break the socket path (the generated plugin also refuses them
// at run time, for configs computed in ways this scan cannot read).
func checkConflicts(config appFile, socketPath string) error {
	var found []string
	text := string(config.data)
	for _, m := range sourceRule.FindAllStringSubmatchIndex(text, -1) {
		source := text[m[2]:m[3]]
		start := strings.LastIndex(text[:m[0]], "{") + 1
		end := len(text)
		if i := strings.Index(text[m[1]:], "}"); i >= 0 {
			end = m[1] + i
		}
		if rewrite.Conflicts(socketPath, source) && strings.Contains(text[start:end], "destination") {
			found = append(found, fmt.Sprintf("line %d routes %s", strings.Count(text[:m[0]], "\n")+1, source))
		}
	}
	if found == nil {
		return nil
	}
	return fmt.Errorf("conflicting rewrites for the socket path: %s; remove them, withSocketIO routes %s itself",
		strings.Join(found, ", "), socketPath)
}

// hookHowto tells how to call socketIOTrailingSlash from the app's own
// hook, and on Next 14 that its matcher must leave the socket path out.
func hookHowto(hook, socketPath string, v rewrite.Version) string {
	howto := "call the trailing-slash helper first in it:\n" + indent(
		"import { socketIOTrailingSlash } from './"+trailingSlashBase+"';\n\n"+
			"export function "+hook+"(request) {\n"+
			"  const redirect = socketIOTrailingSlash(request);\n"+
			"  if (redirect) return redirect;\n"+
			"  // ...the rest of your "+hook+"\n"+
			"}") +
		"\nIts config.matcher decides which paths get Next's trailing-slash redirect back:\n" +
		"every path but /_next/ and " + socketPath + " is what Next did before."
	if v.MiddlewareBreaksUpgrade() {
		howto += "\nNext " + strconv.Itoa(v.Major) + " fails the websocket upgrade of every path its " + hook + " runs for:\n" +
			"the matcher must leave out " + socketPath + ", like the generated one:\n" +
			indent("export const config = { matcher: "+jsString(rewrite.Matcher(socketPath))+" };")
	}
	return howto
}

var instrumentationHowto = "start the server from its register():\n" + indent(
	"export async function register() {\n"+
		"  if (process.env.NEXT_RUNTIME === 'nodejs') {\n"+
		"    const { startSockside } = await import('./"+startBase+"');\n"+
		"    startSockside();\n"+
		"  }\n"+
		"  // ...the rest of your register()\n"+
		"}")

// indent indents each line of s by two spaces (blank lines stay blank).
func indent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "\n")
}

func contains(data []byte, s string) bool {
	return bytes.Contains(data, []byte(s))
}

// baseName is a file's name without folder and extension.
func baseName(name string) string {
	base := path.Base(name)
	return strings.TrimSuffix(base, path.Ext(base))
}
