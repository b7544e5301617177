// Parses each file named in argv without running it, as node --check
// would (.cjs as CommonJS, every other file as a module, which also
// accepts require and module.exports), and prints the syntax errors by
// file as JSON. Run with --experimental-vm-modules.
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const errors = {};
for (const file of process.argv.slice(2)) {
  const source = readFileSync(file, 'utf8');
  try {
    if (file.endsWith('.cjs')) {
      new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file });
    } else {
      new vm.SourceTextModule(source, { identifier: file });
    }
  } catch (err) {
    errors[file] = String(err);
  }
}
console.log(JSON.stringify(errors));
