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

// importLine is next.config's import of withSocketIO, in the generated
// files' style: single quotes and a semicolon.
func (p plugin) importLine() string {
	return p.importLineIn(style{quote: '\'', semicolon: true})
}

// importLineIn is next.config's import of withSocketIO in a file's style.
func (p plugin) importLineIn(st style) string {
	spec := string(st.quote) + p.specifier + string(st.quote) // a plain path: nothing to escape
	line := "import { withSocketIO } from " + spec
	if p.cjs {
		line = "const { withSocketIO } = require(" + spec + ")"
	}
	if st.semicolon {
		line += ";"
	}
	return line
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
	st := styleOf(strings.SplitAfter(string(config.data), "\n"), p)
	st.semicolon = true
	return wiring{file: config, howto: "import withSocketIO and wrap the exported config in it, like this:\n" +
		indent(p.importLineIn(st)+"\n"+p.exportPrefix()+wrapCall("nextConfig")+";")}
}

// targetComment explains wrapCall's target where next.config calls it.
const targetComment = "// Where Next reaches the sockside server: SOCKET_INTERNAL_URL (in docker, the\n" +
	"// server's service), else the target nextconfig generated. Rewrites are baked\n" +
	"// into the build, so it is read by `next build` (and by `next dev`); an empty\n" +
	"// value counts as unset."

// wrapCall is how next.config calls withSocketIO on its config expr, in the
// config nextconfig creates and in the edit -write-config makes alike: the
// target is SOCKET_INTERNAL_URL when it is set, else the generated one.
func wrapCall(expr string) string {
	return "withSocketIO(" + expr + ", { target: process.env.SOCKET_INTERNAL_URL || undefined })"
}

// style is how a file writes its imports: the quote around the module
// name and whether the statement ends in a semicolon.
type style struct {
	quote     byte
	semicolon bool
}

// quoted matches a one-line string literal, to count a file's quotes.
var quoted = regexp.MustCompile(`'[^'\n]*'|"[^"\n]*"`)

// styleOf is the style of the file's imports (requires for CommonJS): the
// quote most of them use, and the last one's semicolon. A file without any
// gets the quote of most of its one-line strings, and a semicolon; ties go
// to single quotes, the generated files' own.
func styleOf(lines []string, p plugin) style {
	imports := esmImport
	if p.cjs {
		imports = cjsRequire
	}
	st := style{quote: '\'', semicolon: true}
	single, double := 0, 0
	for _, line := range lines {
		text := strings.TrimSpace(line)
		if !imports.MatchString(text) {
			continue
		}
		// The module name's closing quote is the line's last one.
		if strings.LastIndexByte(text, '"') > strings.LastIndexByte(text, '\'') {
			double++
		} else {
			single++
		}
		st.semicolon = strings.HasSuffix(text, ";")
	}
	if single == double {
		for _, s := range quoted.FindAllString(strings.Join(lines, ""), -1) {
			if s[0] == '"' {
				double++
			} else {
				single++
			}
		}
	}
	if double > single {
		st.quote = '"'
	}
	return st
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
// (wrapCall, with targetComment above it) and the plugin imported, when
// that is mechanical and safe: exactly one one-line export of a wrappable
// expression. The import goes after the last one-line import (or
// require), else at the top, after a directive, in the file's style
// (styleOf); the export keeps its semicolon, or its lack of one.
func wrapExport(src []byte, p plugin) ([]byte, bool) {
	export, imports := esmExport, esmImport
	if p.cjs {
		export, imports = cjsExport, cjsRequire
	}
	eol := "\n"
	if bytes.Contains(src, []byte("\r\n")) {
		eol = "\r\n"
	}
	lines := strings.SplitAfter(string(src), "\n")
	st := styleOf(lines, p) // before the edit, whose comment has quotes of its own
	at, insert, hasImports, exportSemicolon := -1, 0, false, false
	for i, line := range lines {
		text := strings.TrimRight(line, "\r\n")
		if m := export.FindStringSubmatch(text); m != nil {
			if at >= 0 || !wrappable.MatchString(m[2]) || !balanced(m[2]) {
				return nil, false
			}
			at = i
			end := ""
			if exportSemicolon = strings.HasSuffix(strings.TrimSpace(text), ";"); exportSemicolon {
				end = ";"
			}
			lines[i] = strings.ReplaceAll(targetComment, "\n", eol) + eol + m[1] + wrapCall(m[2]) + end + line[len(text):]
		}
		if imports.MatchString(text) {
			insert, hasImports = i+1, true
		} else if i == insert && directive.MatchString(text) {
			insert = i + 1
		}
	}
	if at < 0 {
		return nil, false
	}
	if !hasImports {
		st.semicolon = exportSemicolon
	}
	added := p.importLineIn(st) + eol
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
