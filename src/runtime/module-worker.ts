// Starts a worker thread on one of our own modules, whether this installation
// runs compiled (dist/, where the module is .js) or from its TypeScript
// sources (the tests: vitest compiles what the main thread imports, but a
// worker thread is a fresh Node that cannot load .ts). From sources the
// worker first registers a small loader that compiles .ts with the project's
// own TypeScript (a dev dependency, present wherever the sources are run) and
// maps our "./x.js" import specifiers to the "./x.ts" files.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";

/**
 * A worker running the module `name` (e.g. "pipeline-worker") next to the
 * module whose import.meta.url is `siblingOf`.
 */
export function startModuleWorker(siblingOf: string, name: string, options: Omit<WorkerOptions, "eval"> = {}): Worker {
  const compiled = new URL(`./${name}.js`, siblingOf);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled, options);
  const source = new URL(`./${name}.ts`, siblingOf);
  if (!existsSync(fileURLToPath(source))) throw new Error(`no ${name}.js or ${name}.ts next to ${siblingOf}`);
  const boot = `require("node:module").register(${JSON.stringify(tsLoaderUrl())});
import(${JSON.stringify(source.href)}).catch((err) => { process.nextTick(() => { throw err; }); });`;
  return new Worker(boot, { ...options, eval: true });
}

let loaderUrl: string | undefined;

/** The loader hooks as a data: URL (they run in Node's hooks thread, which has no access to this module). */
function tsLoaderUrl(): string {
  if (loaderUrl) return loaderUrl;
  const typescript = createRequire(import.meta.url).resolve("typescript");
  const hooks = `
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
const ts = createRequire(${JSON.stringify(typescript)})(${JSON.stringify(typescript)});
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    if (specifier.endsWith(".js") && context.parentURL?.endsWith(".ts")) return next(specifier.slice(0, -3) + ".ts", context);
    throw err;
  }
}
export async function load(url, context, next) {
  if (!url.startsWith("file:") || !url.endsWith(".ts")) return next(url, context);
  const text = await readFile(new URL(url), "utf8");
  const out = ts.transpileModule(text, {
    fileName: url,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, inlineSourceMap: true, inlineSources: true },
  });
  return { format: "module", source: out.outputText, shortCircuit: true };
}`;
  loaderUrl = `data:text/javascript,${encodeURIComponent(hooks)}`;
  return loaderUrl;
}
