// Runs a rendered socketIOTrailingSlash (the file in argv[2]) on the
// requests read as JSON from stdin, and the middleware matcher (argv[3]) on
// their paths, printing the answers as JSON for node_test.go.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const { socketIOTrailingSlash } = await import(pathToFileURL(process.argv[2]).href);
const matcher = new RegExp(`^${process.argv[3]}$`);

const answers = JSON.parse(readFileSync(0, 'utf8')).map(({ url, headers, trailingSlash }) => {
  process.env.SOCKSIDE_TRAILING_SLASH = String(trailingSlash);
  const response = socketIOTrailingSlash(new Request(url, { headers }));
  return {
    status: response?.status ?? 0,
    location: response?.headers.get('location') ?? '',
    matched: matcher.test(new URL(url).pathname),
  };
});
console.log(JSON.stringify(answers));
