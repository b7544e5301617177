// Imports a rendered start-sockside (the ES module in argv[2]) and calls
// startSockside() as instrumentation's register() does. Node then lives
// until the spawned server exits; the test's stand-in prints where it ran.
import { pathToFileURL } from 'node:url';

const { startSockside } = await import(pathToFileURL(process.argv[2]).href);
startSockside();
