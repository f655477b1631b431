// The kizuna config this worker decides with, bundled into the worker (compiled once per
// isolate). To use your own: point this import at your config JSON (wrangler and esbuild both
// bundle JSON imports), or replace the file.
import config from "../../../examples/skincare/config.json";

export default config;
