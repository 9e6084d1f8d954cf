// Generates an Allure 3 report through Allure's own library
// (@allurereport/core): `allure generate` takes no history path and never
// runs the quality gate, and a publish needs both. allure-host writes this
// file next to the report and runs it with Node.js 22 or newer.
//
// argv[2]: JSON {core, cwd, results[], output, historyPath, historyLimit,
//                historyBaseUrl, name, announce?, singleFile, details?}
// announce: a Unix socket allure-host listens on; each report file is named
//   there once written, so it is uploaded while the rest are still being
//   made: a JSON [path in the report, path now] per line, relative to
//   output. When one plugin alone writes files, Allure moves its folder's
//   files to the root at the end, so their paths in the report lose that
//   folder; a guess made early that a later plugin proves wrong only costs
//   time (allure-host checks every file at the end).
// details: where the single-file report's tests are written as the folder
//   report has them (data/test-results/<id>.json), for allure-host to read.
import { createConnection } from "node:net";
import { once } from "node:events";
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";

const job = JSON.parse(process.argv[2]);
const core = await import(pathToFileURL(job.core).href);

// The project's own allurerc (plugins, quality gate rules, name...) is read
// from the working directory as `allure generate` would; where the report
// goes and where its history lives are ours.
const own = await core.readRawConfig(job.cwd);
const config = await core.readConfig(job.cwd, undefined, {
  output: job.output,
  historyBaseUrl: job.historyBaseUrl,
  name: own.name ?? job.name,
});
config.historyPath = job.historyPath;
config.historyLimit = own.historyLimit ?? job.historyLimit;
if (job.singleFile) {
  for (const entry of config.plugins) {
    if (entry.plugin?.constructor?.name === "AwesomePlugin") {
      entry.plugin.options.singleFile = true;
    }
  }
}

const announced = job.announce ? await announcer(job.announce) : null;
if (announced) {
  // Every plugin writes through this one object (core's
  // FileSystemReportFiles): a file is complete when its write resolves.
  const files = config.reportFiles;
  const addFile = files.addFile;
  const folders = new Set();
  files.addFile = async (path, data) => {
    const written = await addFile(path, data);
    const now = relative(job.output, written).split(sep).join("/");
    const slash = now.indexOf("/");
    if (slash > 0) {
      folders.add(now.slice(0, slash));
    }
    const final = folders.size === 1 && slash > 0 ? now.slice(slash + 1) : now;
    announced.write(`${JSON.stringify([final, now])}\n`);
    return written;
  };
}

const report = new core.AllureReport(config);
await report.start();
for (const dir of job.results) {
  await report.readDirectory(dir);
}
if (report.hasQualityGate) {
  const trs = await report.store.allTestResults({ includeRetries: false });
  const { results } = await report.validate({ trs });
  report.realtimeDispatcher.sendQualityGateResults(results);
}
await report.done();
if (job.details) {
  await writeDetails(report.store, job.details);
}
if (announced) {
  announced.end();
  await once(announced, "close");
}

async function announcer(path) {
  const socket = createConnection(path);
  await once(socket, "connect");
  return socket;
}

// The fields allure-host reads of each test, as the folder report writes them.
async function writeDetails(store, dir) {
  const out = join(dir, "data", "test-results");
  await mkdir(out, { recursive: true });
  for (const tr of await store.allTestResults({ includeRetries: false })) {
    const test = {
      id: tr.id,
      name: tr.name,
      fullName: tr.fullName,
      historyId: tr.historyId,
      status: tr.status,
      flaky: tr.flaky ?? false,
      duration: tr.duration,
      error: tr.error ? { message: tr.error.message } : undefined,
    };
    await writeFile(join(out, `${tr.id}.json`), JSON.stringify(test));
  }
}
